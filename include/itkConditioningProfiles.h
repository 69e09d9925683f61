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
#ifndef itkConditioningProfiles_h
#define itkConditioningProfiles_h

#include "itkArray2D.h"
#include "itkSpatialExpressionData.h"

namespace itk
{

/** \brief Expression profiles to condition synthesis on, and the training spot each came from.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ConditioningProfiles
{
  /** Profiles x genes, preprocessed values (at float precision: what the models take). */
  Array2D<double>          Expression;
  std::vector<std::size_t> SourceSpots;

  /** How many profiles Resample draws for \p ratio and \p trainingSpots:
   * round(ratio x training spots), at least one. \ingroup SpatialTranscriptomics */
  static std::size_t
  Number(double ratio, std::size_t trainingSpots);

  /** \brief The training spots' preprocessed profiles drawn with replacement until there are
   * round(ratio x training spots) of them (the paper's synthetic-to-real ratio, 1..10), each
   * optionally perturbed by Gaussian noise of \p perturbation times the gene's standard deviation
   * over the training spots. Reproducible from \p seed on every platform. Throws if the data has no
   * expression or no training spot, or the ratio is not positive.
   * \ingroup SpatialTranscriptomics */
  static ConditioningProfiles
  Resample(const SpatialExpressionData & data, double ratio, std::uint32_t seed, double perturbation = 0.0);
};

} // end namespace itk

#endif
