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
#ifndef itkImputationMetrics_h
#define itkImputationMetrics_h

#include "itkExpressionMetrics.h"
#include "itkSpotGrid.h"

#include <string>
#include <vector>

namespace itk
{

/** \class ImputationMetrics
 * \brief How well an imputation recovers held-out positions of a gene image: the spot measures
 * (MAE, RMSE, per-gene Pearson over the held-out positions) and two image measures per gene on the
 * grid, SSIM and PSNR.
 *
 * SSIM follows Wang et al. (2004) as scikit-image computes it by default (7 x 7 uniform windows,
 * K1 = 0.01, K2 = 0.03, sample covariances), with the data range L of each gene's truth over the
 * known positions; windows are clipped at the grid's edge, and the SSIM map is averaged over the
 * held-out positions. Both images hold the truth at known, not held-out positions and 0 where
 * nothing is known, so only the held-out values differ. PSNR is 10 log10(L^2 / MSE) over the
 * held-out positions (infinite for an exact imputation). A gene whose truth is constant has neither
 * (NaN); means run over the genes where they are finite.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT ImputationMetrics
{
  ExpressionMetrics   HeldOut;
  std::vector<double> GeneSSIM;
  std::vector<double> GenePSNR;
  double              MeanSSIM{ 0.0 };
  double              MeanPSNR{ 0.0 };

  /** {"mae", "rmse", "mean_pearson", "mean_ssim", "mean_psnr", "positions", "genes",
   * "per_gene": [{"gene", "mae", "pearson", "ssim", "psnr"}]}; undefined values are null. */
  std::string
  ToJSON() const;

  /** Compare \p imputed with \p truth at the \p heldOut positions; \p known marks every position
   * whose truth exists (held-out and measured). \p genes restricts the comparison to these
   * components (empty: all), \p geneNames names them (empty: their indices). Throws on mismatched
   * sizes, no held-out position, or a non-finite value at a held-out position. */
  static ImputationMetrics
  Compute(const GeneImageType & truth, const GeneImageType & imputed, const GridMaskType & heldOut,
          const GridMaskType & known, const std::vector<std::size_t> & genes = {},
          const std::vector<std::string> & geneNames = {});

  /** SSIM of two equally sized single-channel images (row-major, \p columns wide) with data range
   * \p range, averaged over the positions where \p where is non-zero (all when empty). */
  static double
  StructuralSimilarity(const std::vector<double> & a, const std::vector<double> & b, std::size_t columns, double range,
                       const std::vector<std::uint8_t> & where = {});
};

} // end namespace itk

#endif
