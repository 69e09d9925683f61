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
#ifndef itkSpatialImputationBaselines_h
#define itkSpatialImputationBaselines_h

#include "itkSpotGrid.h"

#include <string>
#include <vector>

namespace itk
{

/** The reference imputations every spatial method must beat. \ingroup SpatialTranscriptomics */
enum class SpatialBaseline
{
  Mean,              ///< each gene's mean over the measured positions
  Median,            ///< each gene's median over the measured positions
  NearestNeighbours, ///< mean of the k nearest measured positions, k by leave-one-out
  GaussianKernel,    ///< Nadaraya-Watson average, bandwidth by leave-one-out
  Bilinear,          ///< linear interpolation of a stride-2 phase (lattice masks only)
  CubicBSpline       ///< ITK's interpolating cubic B-spline of a stride-2 phase (lattice masks only)
};

/** What a baseline produced: a value at every grid position (the measured values unchanged), and
 * the parameter cross-validation chose (k, or the bandwidth in the grid's unit; 0 for none). */
struct SpatialTranscriptomics_EXPORT SpatialBaselineResult
{
  SpatialBaseline        Method{ SpatialBaseline::Mean };
  GeneImageType::Pointer Imputed;
  double                 Parameter{ 0.0 };
};

/** \class SpatialImputationBaselines
 * \brief The spatial imputation baselines every learned method must beat: each imputes a section's held-out grid
 * positions from its measured ones alone. \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SpatialImputationBaselines
{
public:
  SpatialImputationBaselines() = delete; // a family of functions: nothing to construct

  /** "mean", "median", "knn", "gaussian", "bilinear", "cubic-bspline". */
  static std::string
  Name(SpatialBaseline baseline);

  /** Every baseline, in the order of the enum. */
#if !defined(ITK_WRAPPING_PARSER) // SWIG cannot carry a vector of this enum; Python lists them itself
  static std::vector<SpatialBaseline>
  All();
#endif

  /** Impute every position of \p values from the positions \p measured marks, with distances measured
   * on \p grid. Values outside \p measured are never read (they may be NaN). Cross-validation is
   * leave-one-out over the measured positions, the mean squared error summed over genes.
   * \p Bilinear and \p CubicBSpline need the measured positions on one stride-2 phase
   * (IsStrideTwoPhaseMask) and throw otherwise: they interpolate the phase's sub-lattice, whose
   * positions without a measurement take the nearest measured value first.
   * Throws itk::ExceptionObject when the mask is empty or does not match the image.
   * \ingroup SpatialTranscriptomics */
  static SpatialBaselineResult
  Impute(SpatialBaseline baseline, const GeneImageType & values, const GridMaskType & measured, const SpotGrid & grid);

  /** True when every measured position has the same column and row parity; \p phase receives it. */
  static bool
  IsStrideTwoPhaseMask(const GridMaskType & measured, std::array<int, 2> * phase = nullptr);
};

} // end namespace itk

#endif
