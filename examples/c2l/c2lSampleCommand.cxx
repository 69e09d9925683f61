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
// of PNG files or one image stack.

#include "c2lCommands.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkDiffusionSampleFilter.h"
#include "itkExtractImageFilter.h"
#include "itkImageFileWriter.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace c2l
{
namespace
{

struct SampleOptions
{
  std::string        model;
  unsigned int       n{ 16 };
  unsigned int       steps{ 50 };
  double             eta{ 0.0 };
  double             guidance{ 1.0 };
  unsigned long long seed{ 0 };
  unsigned int       batch{ 8 };
  std::string        sampler{ "ddim" };
  std::string        device{ "cpu" };
  unsigned int       threads{ 0 };
  std::string        out;
  bool               force{ false };
};

void
Sample(const SampleOptions & o)
{
  using FilterType = itk::DiffusionSampleFilter<>;
  using StackType = FilterType::OutputImageType;
  using PatchType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  const std::filesystem::path out(o.out);
  const bool                  folder = !out.has_extension();
  if (folder)
  {
    std::filesystem::create_directories(out);
  }
  else
  {
    RequireWritable(o.out, o.force, o.model);
  }
  auto filter = FilterType::New();
  filter->SetModelFileName(o.model);
  filter->SetNumberOfSamples(o.n);
  filter->SetNumberOfSteps(o.steps);
  filter->SetEta(o.eta);
  filter->SetGuidanceScale(o.guidance);
  filter->SetSeed(o.seed);
  filter->SetBatchSize(o.batch);
  filter->SetSampler(o.sampler);
  filter->SetDevice(o.device);
  filter->SetNumberOfTorchThreads(o.threads);
  auto progress = ProgressBar::New();
  progress->Watch(filter, "sample");
  filter->Update();
  StackType * stack = filter->GetOutput();
  if (!folder)
  {
    itk::WriteImage(stack, o.out);
    std::cout << "wrote " << o.n << " patches to " << o.out << std::endl;
    return;
  }
  auto region = stack->GetLargestPossibleRegion();
  for (unsigned int k = 0; k < o.n; ++k)
  {
    auto slice = region;
    slice.SetIndex(2, k);
    slice.SetSize(2, 0);
    auto extract = itk::ExtractImageFilter<StackType, PatchType>::New();
    extract->SetInput(stack);
    extract->SetExtractionRegion(slice);
    extract->SetDirectionCollapseToIdentity();
    std::ostringstream name;
    name << "sample_" << std::setw(5) << std::setfill('0') << k << ".png";
    const auto path = (out / name.str()).string();
    RequireWritable(path, o.force);
    itk::WriteImage(extract->GetOutput(), path);
  }
  std::cout << "wrote " << o.n << " patches (PNG) to " << o.out << std::endl;
}

} // namespace

void
AddSampleCommand(CLI::App & app)
{
  auto   options = std::make_shared<SampleOptions>();
  auto * command = app.add_subcommand("sample", "Generate patches from a diffusion model");
  command
    ->add_option(
      "--model", options->model, "Model: a .safetensors written by c2l, or a diffusers model/pipeline folder")
    ->required();
  command->add_option("--n", options->n, "Number of patches (default 16)");
  command->add_option("--steps", options->steps, "Sampling steps (default 50)");
  command->add_option("--eta", options->eta, "DDIM stochasticity, 0 (default, deterministic) to 1");
  command->add_option("--guidance", options->guidance, "Classifier-free guidance scale (needs a conditioned model)");
  command->add_option("--seed", options->seed, "Random seed (default 0): the same seed gives the same patches");
  command->add_option("--batch", options->batch, "Patches per batch (default 8)");
  command->add_option("--sampler", options->sampler, "ddim (default) or ddpm");
  command->add_option("--device", options->device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  command
    ->add_option("--out",
                 options->out,
                 "A folder (no extension: sample_00000.png, ...) or one image stack file (e.g. .mha, .nrrd)")
    ->required();
  command->add_flag("--force", options->force, "Replace existing files");
  command->callback([options]() { Sample(*options); });
}

} // namespace c2l
