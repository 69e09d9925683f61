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
#include "c2lSteps.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkConditioningProfiles.h"
#include "itkDiffusionSampleFilter.h"
#include "itkExtractImageFilter.h"
#include "itkImageFileWriter.h"
#include "itkSpotPatchDataset.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace c2l
{
namespace
{
using FilterType = itk::DiffusionSampleFilter<>;


/** The profiles a local model is conditioned on: the dataset's training spots in the model's
 * preprocessing (recomputed from raw counts when the dataset was preprocessed otherwise),
 * resampled to the ratio. */
itk::ConditioningProfiles
ProfilesFor(const itk::DiffusionModel & model, const SampleOptions & o, itk::SpatialExpressionData::Pointer & spots)
{
  const auto dataset = itk::SpotPatchDataset::Read(o.expression);
  spots = dataset->GetSpots();
  const auto preprocessing = itk::GenePreprocessing::FromJSON(model.GetGenePreprocessing());
  if (!(spots->HasExpression() && spots->GetPreprocessing() == preprocessing))
  {
    if (spots->GetCounts().Rows != spots->GetNumberOfSpots())
    {
      itkGenericExceptionMacro(<< o.expression << " holds no raw counts to preprocess the model's way, and its "
                               << "expression was preprocessed otherwise");
    }
    spots->ApplyPreprocessing(preprocessing); // names the model's genes it lacks, if any
  }
  return itk::ResampleConditioningProfiles(*spots, o.ratio, static_cast<std::uint32_t>(o.seed), o.perturbation);
}

/** Synthetic (patch, expression) pairs as a dataset the regressor reads. */
void
WriteSyntheticDataset(const FilterType::OutputImageType * stack, const itk::ConditioningProfiles & profiles,
                      const itk::SpatialExpressionData & source, const itk::DiffusionModel & model,
                      const SampleOptions & o)
{
  auto                                                  spots = itk::SpatialExpressionData::New();
  std::vector<std::string>                              ids;
  std::vector<itk::SpatialExpressionData::PositionType> positions;
  for (std::size_t k = 0; k < profiles.SourceSpots.size(); ++k)
  {
    ids.push_back("synthetic-" + std::to_string(k) + "-" + source.GetSpotIds()[profiles.SourceSpots[k]]);
    positions.push_back(source.GetPixelPositions()[profiles.SourceSpots[k]]);
  }
  spots->SetSpots(ids, positions);
  spots->SetExpression(itk::GenePreprocessing::FromJSON(model.GetGenePreprocessing()), profiles.Expression);
  spots->SetSplit(std::vector<std::uint8_t>(ids.size(), 1));
  spots->SetMetadata("synthetic", "true");
  spots->SetMetadata("model", o.model);
  spots->SetMetadata("expression_source", o.expression);
  spots->SetMetadata("ratio", std::to_string(o.ratio));
  spots->SetMetadata("guidance", std::to_string(o.guidance));
  spots->SetMetadata("seed", std::to_string(o.seed));
  spots->SetMetadata("sampler", o.sampler);
  spots->SetMetadata("sampling_steps", std::to_string(o.steps));
  auto dataset = itk::SpotPatchDataset::New();
  dataset->SetPatches(const_cast<FilterType::OutputImageType *>(stack));
  dataset->SetSpots(spots);
  dataset->SetSlideFileName("synthetic");
  dataset->Write(o.out);
}

} // namespace

void
RunSample(SampleOptions o)
{
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
  auto model = itk::DiffusionModel::New();
  model->Load(o.model, o.central);
  auto filter = FilterType::New();
  filter->SetModel(model);
  itk::ConditioningProfiles           profiles;
  itk::SpatialExpressionData::Pointer sourceSpots;
  if (model->IsConditional())
  {
    if (o.expression.empty())
    {
      itkGenericExceptionMacro(<< o.model << " is a local (gene-conditioned) model: give --expression DATASET.h5");
    }
    profiles = ProfilesFor(*model, o, sourceSpots);
    filter->SetConditioningProfiles(profiles.Expression);
    filter->SetGeneDropout(o.geneDropout);
    o.n = static_cast<unsigned int>(profiles.SourceSpots.size());
    if (!o.guidanceGiven)
    {
      o.guidance = 3.0; // the paper's guidance for local models
    }
  }
  else if (!o.expression.empty())
  {
    itkGenericExceptionMacro(<< o.model << " is a central (unconditional) model; --expression needs a local model "
                             << "from c2l adapt");
  }
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
  if (out.extension() == ".h5" && model->IsConditional())
  {
    WriteSyntheticDataset(stack, profiles, *sourceSpots, *model, o);
    std::cout << "wrote " << o.n << " synthetic pairs (ratio " << o.ratio << ", guidance " << o.guidance << ") to "
              << o.out << std::endl;
    return;
  }
  if (out.extension() == ".h5")
  {
    itkGenericExceptionMacro(<< "A .h5 output holds synthetic (patch, expression) pairs, which need a local model "
                                "and --expression; write central-model samples to a folder or an image stack");
  }
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
  command->add_option("--guidance", options->guidance, "Classifier-free guidance scale (local models; default 3)")
    ->each([options](const std::string &) { options->guidanceGiven = true; });
  command->add_option("--expression",
                      options->expression,
                      "For a local model: the dataset (.h5) whose training spots' profiles condition the patches");
  command
    ->add_option("--ratio", options->ratio, "Synthetic-to-real ratio: profiles drawn per training spot (default 1)")
    ->check(CLI::PositiveNumber);
  command
    ->add_option("--perturbation", options->perturbation, "Gaussian noise on each profile, in gene SDs (default 0)")
    ->check(CLI::NonNegativeNumber);
  command->add_option("--gene-dropout", options->geneDropout, "Zero this many random genes of each profile");
  command->add_option("--central", options->central, "The central model of a local model that only references it");
  command->add_option("--seed", options->seed, "Random seed (default 0): the same seed gives the same patches");
  command->add_option("--batch", options->batch, "Patches per batch (default 8)");
  command->add_option("--sampler", options->sampler, "ddim (default), ddpm, dpmsolver++ or unipc");
  command->add_option("--device", options->device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  command
    ->add_option("--out",
                 options->out,
                 "A folder (no extension: sample_00000.png, ...), one image stack file (e.g. .mha, .nrrd), or for "
                 "a local model a dataset of synthetic pairs (.h5)")
    ->required();
  command->add_flag("--force", options->force, "Replace existing files");
  command->callback([options]() { RunSample(*options); });
}

} // namespace c2l
