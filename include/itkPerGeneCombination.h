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
#ifndef itkPerGeneCombination_h
#define itkPerGeneCombination_h

#include "itkMatrixOperations.h"

#include <cstdint>
#include <vector>

namespace itk
{

/** \class PerGeneCombination
 * \brief A per-gene weighted average of two predictors of expression (e.g. an image regressor and
 * a spatial imputation), w_g * first + (1 - w_g) * second, with each gene's weight fitted by least
 * squares on held-out predictions and clamped to [0, 1].
 *
 * The weights must be fitted on predictions that did not see the spots they are scored on
 * (cross-fitting: AssignFolds splits the training spots, each fold is predicted by models trained
 * on the other folds); fitted on in-sample predictions they favour whichever predictor overfits.
 * The clamp keeps the result an average: it never extrapolates beyond the two predictors.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT PerGeneCombination
{
  /** The first predictor's weight per gene, in [0, 1]. */
  std::vector<double> Weights;

  /** The weights that minimise each gene's squared error of the average against \p truth (all three
   * spots x genes, the same shape): w = <first - second, truth - second> / |first - second|^2,
   * clamped to [0, 1]; 0.5 for a gene whose two predictions agree everywhere. Throws
   * itk::ExceptionObject for different shapes, no spot, or a value that is not finite. */
  static PerGeneCombination
  Fit(const Array2D<double> & truth, const Array2D<double> & first, const Array2D<double> & second);

  /** The weighted average of \p first and \p second (spots x genes, one column per weight). */
  Array2D<double>
  Apply(const Array2D<double> & first, const Array2D<double> & second) const;

  /** The fold (0 .. folds - 1) of each of \p count items: a seeded shuffle dealt round-robin, so the
   * fold sizes differ by at most one and the assignment is the same on every platform. Throws
   * unless 2 <= folds <= count. */
  static std::vector<unsigned int>
  AssignFolds(std::size_t count, unsigned int folds, std::uint32_t seed);
};

} // end namespace itk

#endif
