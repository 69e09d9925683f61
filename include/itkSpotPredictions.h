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
#ifndef itkSpotPredictions_h
#define itkSpotPredictions_h

#include "itkArray2D.h"
#include "itkExpressionMetrics.h"
#include "itkGeneRegressorModel.h"
#include "itkSpotPatchDataset.h"

#include <array>
#include <string>
#include <vector>

namespace itk
{

/** \class SpotPredictions
 * \brief A gene regressor's predictions at a dataset's spots: the spots chosen by split, their
 * patches batched through GeneRegressorFilter, the table written, and the metrics against the
 * dataset's own expression.
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT SpotPredictions
{
  std::vector<std::string> SpotIds;
  /** The spots' rows in the dataset, and their positions on the slide (pixels). */
  std::vector<std::size_t>           Rows;
  std::vector<std::array<double, 2>> Positions;
  std::vector<std::string>           Genes;
  /** Spots x genes. */
  Array2D<double> Values;
  /** Spots x features (the regressor's penultimate features), when asked for; else empty. */
  Array2D<double> Features;
  /** Counts per target sum instead of the preprocessed scale. */
  bool CountScale{ false };

  /** Predicts at the dataset's "test", "train" or "all" spots; \p countScale gives counts per
   * target sum instead of the preprocessed scale; \p features keeps the penultimate features. */
  static SpotPredictions
  Predict(const GeneRegressorModel & model, const SpotPatchDataset & dataset, const std::string & which,
          bool countScale, unsigned int batch, const std::string & device, unsigned int threads, bool features = false);

  /** 0, 1, ..., count - 1: every spot of a dataset, or the first pairs of a synthetic one. */
  static std::vector<std::size_t>
  FirstRows(std::size_t count);

  /** Writes a TSV: a header (spot, genes...), then one row per spot (atomically). */
  void
  WriteTable(const std::string & path) const;

  /** \p dataset's expression at these spots (spots x genes) on the regressor's preprocessed scale:
   * the dataset's raw counts are preprocessed the regressor's way when it was preprocessed
   * otherwise. Throws when it cannot be (no raw counts, a gene it lacks). */
  Array2D<double>
  TruthFrom(const SpotPatchDataset & dataset, const std::string & preprocessingJSON) const;

  /** These predictions against \p truth (TruthFrom): MAE, RMSE, per-gene Pearson and Spearman. */
  ExpressionMetrics
  Evaluate(const Array2D<double> & truth) const;

  /** Writes an AnnData .h5ad (AnnDataWriter): X = the predictions, obsm["spatial"] = the spots'
   * positions in slide pixels, uns["gene_preprocessing"] and uns["scale"]; a non-empty \p truth
   * (TruthFrom; preprocessed scale only) as layers["truth"]. */
  void
  WriteAnnData(const std::string & path, const std::string & preprocessingJSON,
               const Array2D<double> & truth = Array2D<double>()) const;
};

} // end namespace itk

#endif
