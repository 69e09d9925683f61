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
#include "itkPipelineImputation.h"

#include "itkPerGeneCombination.h"
#include "itkSparseToSparseImputationFilter.h"
#include "itkSpatialImputationBaselines.h"

#include <algorithm>
#include <chrono>
#include <sstream>

namespace itk
{
namespace
{
/** The components \p components of \p image, in that order. */
GeneImageType::Pointer
SelectComponents(const GeneImageType & image, const std::vector<unsigned int> & components)
{
  auto selected = GeneImageType::New();
  selected->CopyInformation(&image);
  selected->SetRegions(image.GetLargestPossibleRegion());
  selected->SetNumberOfComponentsPerPixel(static_cast<unsigned int>(components.size()));
  selected->Allocate();
  const auto   from = image.GetNumberOfComponentsPerPixel();
  const auto   to = components.size();
  const auto   pixels = image.GetLargestPossibleRegion().GetNumberOfPixels();
  const auto * in = image.GetBufferPointer();
  auto *       out = selected->GetBufferPointer();
  for (std::size_t p = 0; p < pixels; ++p)
  {
    for (std::size_t k = 0; k < to; ++k)
    {
      out[p * to + k] = in[p * from + components[k]];
    }
  }
  return selected;
}
} // namespace


SpotGrid
PipelineImputation::FindGrid(const SpatialExpressionData & spots)
{
  try
  {
    return SpotGrid::FromSpots(spots);
  }
  catch (const ExceptionObject & e)
  {
    itkGenericExceptionMacro(<< "The imputation needs the spots on a grid and found none: " << e.GetDescription()
                             << ". Set \"imputation\": {\"enabled\": false} to run the pipeline without it");
  }
}

std::vector<unsigned int>
PipelineImputation::TrainingFolds(const SpatialExpressionData & spots, const PipelineImputationSettings & settings)
{
  return PerGeneCombination::AssignFolds(spots.GetSpotIndices(true).size(), settings.Folds, settings.Seed);
}

PipelineImputation
PipelineImputation::Run(const PipelineImputationSettings & settings, const SpatialExpressionData & spots,
                        const std::string & device, unsigned int threads)
{
  const auto               start = std::chrono::steady_clock::now();
  const SpotGrid           grid = FindGrid(spots);
  const auto               training = spots.GetSpotIndices(true);
  std::vector<std::size_t> every(spots.GetNumberOfSpots());
  for (std::size_t s = 0; s < every.size(); ++s)
  {
    every[s] = s;
  }
  const auto values = SpotGrid::MakeGeneImage(spots, grid);
  const auto target = SpotGrid::MakeGridMask(grid, every);
  std::vector<SparseToSparseImputationFilter::NaturalImageType::ConstPointer> photographs;
  if (!settings.NaturalImages.empty())
  {
    photographs = SparseToSparseImputationFilter::ReadNaturalImages(settings.NaturalImages);
  }
  // S2S-ST trained on the spots \p measured, its values at every spot. A gene measured as zero at
  // every one of them (possible in a fold of few spots) is zero everywhere: the filter refuses it,
  // and zero is all its measurements say.
  const auto & expression = spots.GetExpression();
  const auto   genes = spots.GetPreprocessing().Genes.size();
  const auto   impute = [&](const std::vector<std::size_t> & measured) {
    std::vector<unsigned int> learnable;
    for (unsigned int g = 0; g < genes; ++g)
    {
      if (std::any_of(measured.begin(), measured.end(), [&](std::size_t s) { return expression[s * genes + g] != 0; }))
      {
        learnable.push_back(g);
      }
    }
    Array2D<double> imputed(static_cast<unsigned int>(spots.GetNumberOfSpots()), static_cast<unsigned int>(genes));
    imputed.fill(0.0);
    if (learnable.empty())
    {
      return imputed;
    }
    auto filter = SparseToSparseImputationFilter::New();
    filter->SetInput(learnable.size() == genes ? values : SelectComponents(*values, learnable));
    filter->SetMeasuredMask(SpotGrid::MakeGridMask(grid, measured));
    filter->SetTargetMask(target);
    filter->SetNumberOfSteps(settings.Steps);
    filter->SetSeed(settings.Seed);
    filter->SetNaturalImages(photographs);
    filter->SetDevice(device);
    filter->SetNumberOfThreads(threads);
    filter->Update();
    const auto learned = SpotGrid::SpotsFromGeneImage(*filter->GetOutput(), grid);
    for (unsigned int s = 0; s < imputed.rows(); ++s)
    {
      for (unsigned int k = 0; k < learnable.size(); ++k)
      {
        imputed(s, learnable[k]) = learned(s, k);
      }
    }
    return imputed;
  };

  PipelineImputation result;
  std::ostringstream gridText;
  gridText << grid.Source << ", " << grid.Size[0] << " x " << grid.Size[1];
  result.Grid = gridText.str();
  result.Imputed = impute(training);
  const auto smoothing = SpatialImputationBaselines::Impute(
    SpatialBaseline::GaussianKernel, *values, *SpotGrid::MakeGridMask(grid, training), grid);
  result.Smoothed = SpotGrid::SpotsFromGeneImage(*smoothing.Imputed, grid);
  result.SmoothingBandwidth = smoothing.Parameter;

  result.Folds = TrainingFolds(spots, settings);
  result.CrossFitted.set_size(static_cast<unsigned int>(training.size()), result.Imputed.cols());
  for (unsigned int fold = 0; fold < settings.Folds; ++fold)
  {
    std::vector<std::size_t> others;
    for (std::size_t t = 0; t < training.size(); ++t)
    {
      if (result.Folds[t] != fold)
      {
        others.push_back(training[t]);
      }
    }
    const auto imputed = impute(others);
    for (std::size_t t = 0; t < training.size(); ++t)
    {
      if (result.Folds[t] == fold)
      {
        result.CrossFitted.set_row(static_cast<unsigned int>(t), imputed[static_cast<unsigned int>(training[t])]);
      }
    }
  }
  result.Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

} // end namespace itk
