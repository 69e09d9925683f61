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
#ifndef c2lRegressorPredictions_h
#define c2lRegressorPredictions_h

// A regressor's predictions at a dataset's spots, as c2l predict and the pipeline use them: the
// spots chosen by split, the patches batched through GeneRegressorFilter, the table written, and
// the metrics against the dataset's own expression.

#include "itkExpressionMetrics.h"
#include "itkGeneRegressorModel.h"
#include "itkSpotPatchDataset.h"

#include <array>
#include <string>
#include <vector>

namespace c2l
{

struct SpotPredictions
{
  std::vector<std::string> SpotIds;
  /** The spots' rows in the dataset, and their positions on the slide (pixels). */
  std::vector<std::size_t>           Rows;
  std::vector<std::array<double, 2>> Positions;
  std::vector<std::string>           Genes;
  /** Spots x genes, row-major. */
  std::vector<double> Values;
  /** Spots x NumberOfFeatures (the regressor's penultimate features), when asked for. */
  std::vector<double> Features;
  std::size_t         NumberOfFeatures{ 0 };
};

/** The dataset's patches at \p rows, as a new stack. */
itk::SpotPatchDataset::PatchStackType::Pointer
SelectPatches(const itk::SpotPatchDataset::PatchStackType & stack, const std::vector<std::size_t> & rows);

/** 0, 1, ..., count - 1: every spot of a dataset, or the first pairs of a synthetic one. */
std::vector<std::size_t>
FirstRows(std::size_t count);

/** Predicts at the dataset's "test", "train" or "all" spots. */
SpotPredictions
PredictSpots(const itk::GeneRegressorModel & model, const itk::SpotPatchDataset & dataset, const std::string & which,
             bool countScale, unsigned int batch, const std::string & device, unsigned int threads,
             bool features = false);

/** TSV: a header (spot, genes...), then one row per spot. */
void
WritePredictionTable(const SpotPredictions & predictions, const std::string & path);

/** The predictions against the dataset's expression at the same spots, on the regressor's preprocessed
 * scale (the dataset's raw counts are preprocessed the regressor's way when it was preprocessed otherwise). */
itk::ExpressionMetrics
EvaluatePredictions(const SpotPredictions & predictions, const itk::SpotPatchDataset & dataset,
                    const std::string & preprocessing);

} // namespace c2l

#endif
