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
#include "itkConditioningProfiles.h"

#include <cmath>
#include <random>

namespace itk
{

std::size_t
ConditioningProfiles::Number(double ratio, std::size_t trainingSpots)
{
  return static_cast<std::size_t>(std::max(1.0, std::round(ratio * trainingSpots)));
}

ConditioningProfiles
ConditioningProfiles::Resample(const SpatialExpressionData & data, double ratio, std::uint32_t seed,
                               double perturbation)
{
  if (!data.HasExpression() || data.GetPreprocessing().Genes.empty())
  {
    itkGenericExceptionMacro(<< "Conditioning profiles need preprocessed expression; preprocess the spots first");
  }
  if (!(ratio > 0.0) || !(perturbation >= 0.0))
  {
    itkGenericExceptionMacro(<< "The synthetic-to-real ratio must be > 0 (got " << ratio
                             << ") and the perturbation >= 0 (got " << perturbation << ")");
  }
  const auto training = data.GetSpotIndices(true);
  if (training.empty())
  {
    itkGenericExceptionMacro(<< "There is no training spot to draw conditioning profiles from");
  }
  const std::size_t genes = data.GetPreprocessing().Genes.size();
  const auto &      expression = data.GetExpression();

  // Per-gene spread over the training spots, the scale of the perturbation.
  std::vector<double> deviation(genes, 0.0);
  if (perturbation > 0.0)
  {
    std::vector<double> mean(genes, 0.0);
    for (const auto s : training)
    {
      for (std::size_t g = 0; g < genes; ++g)
      {
        mean[g] += expression[s * genes + g] / training.size();
      }
    }
    for (const auto s : training)
    {
      for (std::size_t g = 0; g < genes; ++g)
      {
        const double d = expression[s * genes + g] - mean[g];
        deviation[g] += d * d / training.size();
      }
    }
    for (auto & d : deviation)
    {
      d = std::sqrt(d);
    }
  }

  ConditioningProfiles profiles;
  const auto           count = ConditioningProfiles::Number(ratio, training.size());
  profiles.Expression.SetSize(static_cast<unsigned int>(count), static_cast<unsigned int>(genes));
  std::mt19937 generator(seed);
  // Raw draws only (std:: distributions differ between standard libraries).
  const auto uniform = [&generator] { return (generator() + 0.5) / 4294967296.0; };
  for (std::size_t k = 0; k < count; ++k)
  {
    const std::size_t spot = training[static_cast<std::size_t>(uniform() * training.size())];
    profiles.SourceSpots.push_back(spot);
    for (std::size_t g = 0; g < genes; ++g)
    {
      double value = expression[spot * genes + g];
      if (perturbation > 0.0)
      {
        const double normal = std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
        value += perturbation * deviation[g] * normal;
      }
      profiles.Expression(k, g) = static_cast<float>(value);
    }
  }
  return profiles;
}

} // end namespace itk
