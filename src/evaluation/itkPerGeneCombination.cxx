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
#include "itkPerGeneCombination.h"

#include "itkMacro.h"
#include "itkSeededPermutation.h"

#include <algorithm>
#include <cmath>

namespace itk
{
namespace
{
void
RequireSameShape(const Array2D<double> & a, const Array2D<double> & b, const char * what)
{
  if (a.rows() != b.rows() || a.cols() != b.cols())
  {
    itkGenericExceptionMacro(<< "PerGeneCombination: " << what << " is " << b.rows() << " x " << b.cols()
                             << ", the other predictions " << a.rows() << " x " << a.cols()
                             << "; give the same spots and genes to both predictors");
  }
}
} // namespace

PerGeneCombination
PerGeneCombination::Fit(const Array2D<double> & truth, const Array2D<double> & first, const Array2D<double> & second)
{
  RequireSameShape(truth, first, "the first predictor's");
  RequireSameShape(truth, second, "the second predictor's");
  if (truth.rows() == 0)
  {
    itkGenericExceptionMacro(<< "PerGeneCombination::Fit needs at least one spot with held-out predictions");
  }
  PerGeneCombination combination;
  combination.Weights.resize(truth.cols());
  for (unsigned int g = 0; g < truth.cols(); ++g)
  {
    double crossed = 0.0;
    double squared = 0.0;
    for (unsigned int s = 0; s < truth.rows(); ++s)
    {
      if (!std::isfinite(truth(s, g)) || !std::isfinite(first(s, g)) || !std::isfinite(second(s, g)))
      {
        itkGenericExceptionMacro(<< "PerGeneCombination::Fit: spot " << s << ", gene " << g
                                 << " has a value that is not finite; every spot needs a held-out prediction "
                                    "from both predictors");
      }
      const double difference = first(s, g) - second(s, g);
      crossed += difference * (truth(s, g) - second(s, g));
      squared += difference * difference;
    }
    combination.Weights[g] = squared > 0.0 ? std::clamp(crossed / squared, 0.0, 1.0) : 0.5;
  }
  return combination;
}

Array2D<double>
PerGeneCombination::Apply(const Array2D<double> & first, const Array2D<double> & second) const
{
  RequireSameShape(first, second, "the second predictor's");
  if (first.cols() != Weights.size())
  {
    itkGenericExceptionMacro(<< "PerGeneCombination::Apply: the predictions have " << first.cols()
                             << " genes, the weights " << Weights.size());
  }
  Array2D<double> combined(first.rows(), first.cols());
  for (unsigned int s = 0; s < first.rows(); ++s)
  {
    for (unsigned int g = 0; g < first.cols(); ++g)
    {
      combined(s, g) = Weights[g] * first(s, g) + (1.0 - Weights[g]) * second(s, g);
    }
  }
  return combined;
}

std::vector<unsigned int>
PerGeneCombination::AssignFolds(std::size_t count, unsigned int folds, std::uint32_t seed)
{
  if (folds < 2 || folds > count)
  {
    itkGenericExceptionMacro(<< "Cannot split " << count << " spots into " << folds
                             << " folds: cross-fitting needs at least 2 folds and a spot in each");
  }
  const auto                order = SeededPermutation(count, seed);
  std::vector<unsigned int> fold(count);
  for (std::size_t k = 0; k < count; ++k)
  {
    fold[order[k]] = static_cast<unsigned int>(k % folds);
  }
  return fold;
}

} // end namespace itk
