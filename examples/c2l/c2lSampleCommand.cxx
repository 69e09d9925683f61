/*=========================================================================
 *
 *  Copyright NumFOCUS
 *
 *  Licensed under the Apache License, Version 2.0 (the "License");
 *  you may not use this file except in compliance with the License.
 *  You may obtain a copy of the License at
 *
 *         http://www.apache.org/licenses/LICENSE-2.0.txt
 *
 *  Unless required by applicable law or agreed to in writing, software
 *  distributed under the License is distributed on an "AS IS" BASIS,
 *  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 *  See the License for the specific language governing permissions and
 *  limitations under the License.
 *
 *=========================================================================*/

// c2l sample: generates patches from a diffusion model (ours, or a diffusers folder) into a folder
// of PNG files, one image stack, or a patch dataset (.h5). A local (gene-conditioned) model draws
// one patch per expression profile: the training spots' profiles of a dataset, resampled to a
// synthetic-to-real ratio, so the output dataset holds synthetic (patch, expression) pairs.

#include "c2lCommands.h"
#include "c2lStepRunner.h"

#include <iostream>
#include <memory>

namespace c2l
{
void
AddSampleCommand(CLI::App & app)
{
  auto   options = std::make_shared<itk::SamplingStepSettings>();
  auto * command = app.add_subcommand("sample", DescriptionOf("sample"));
  command
    ->add_option(
      "--model", options->Model, "Model: a .safetensors written by c2l, or a diffusers model/pipeline folder")
    ->required();
  command->add_option("--n", options->NumberOfSamples, "Number of patches (default 16)");
  command->add_option("--steps", options->Steps, "Sampling steps (default 50)");
  command->add_option("--eta", options->Eta, "DDIM stochasticity, 0 (default, deterministic) to 1");
  command->add_option("--guidance", options->Guidance, "Classifier-free guidance scale (local models; default 3)")
    ->each([options](const std::string &) { options->GuidanceGiven = true; });
  command->add_option("--expression",
                      options->Expression,
                      "For a local model: the dataset (.h5) whose training spots' profiles condition the patches");
  command
    ->add_option("--ratio", options->Ratio, "Synthetic-to-real ratio: profiles drawn per training spot (default 1)")
    ->check(CLI::PositiveNumber);
  command
    ->add_option("--perturbation", options->Perturbation, "Gaussian noise on each profile, in gene SDs (default 0)")
    ->check(CLI::NonNegativeNumber);
  command->add_option("--gene-dropout", options->GeneDropout, "Zero this many random genes of each profile");
  command->add_option("--central", options->Central, "The central model of a local model that only references it");
  command->add_option("--seed", options->Seed, "Random seed (default 0): the same seed gives the same patches");
  command->add_option("--batch", options->Batch, "Patches per batch (default 8)");
  command->add_option("--sampler", options->Sampler, "ddim (default), ddpm, dpmsolver++ or unipc");
  command->add_option("--device", options->Device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", options->Threads, "CPU threads (default: all cores)");
  command
    ->add_option("--out",
                 options->Output,
                 "A folder (no extension: sample_00000.png, ...), one image stack file (e.g. .mha, .nrrd), or for "
                 "a local model a dataset of synthetic pairs (.h5)")
    ->required();
  command->add_flag("--force", options->Force, "Replace existing files");
  command->callback([options]() { std::cout << StepRunnerWithProgressBar()->Sample(*options); });
}

} // namespace c2l
