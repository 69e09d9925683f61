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
#ifndef itkPipelineEvaluation_h
#define itkPipelineEvaluation_h

#include "itkPipelineEvaluationResults.h"
#include "itkPipelineSettings.h"

#include <string>
#include <vector>

namespace itk
{

/** A regressor the pipeline trains: real only (ratio 0) or co-trained at a synthetic-to-real ratio,
 * on synthetic pairs or, as the control, on the same pairs with colour-noise images.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PipelineRegressor
{
  std::string Label;
  double      Ratio{ 0.0 };
  std::string File;
  bool        Control{ false };
};

/** \class PipelineEvaluation
 * \brief The pipeline's evaluation stage: every regressor on the held-out test spots (MAE, RMSE,
 * per-gene Pearson and Spearman) against the training-mean baseline, the fidelity of the synthetic
 * patches in the real-only regressor's feature space, tissue composition (nuclear area fraction)
 * of real and synthetic patches per expression cluster, and spatial maps of the most variable
 * genes. Everything is returned as PipelineEvaluationResults and written to evaluation.json in the
 * folder (the report draws it), and per regressor its predictions (TSV, AnnData) and metrics (TSV, JSON).
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT PipelineEvaluation
{
public:
  /** "1", "2.5", ...: a ratio as stage and file names show it. */
  static std::string
  FormatRatio(double ratio);

  /** Evaluates \p regressors on the test spots of \p dataset into \p folder (evaluation.json holds
   * the results it returns, per regressor its predictions and metrics). With the settings'
   * imputation on, also S2S-ST, Gaussian-kernel smoothing and the real-only regressor combined with
   * S2S-ST (PipelineImputation, PerGeneCombination), whose weights come from \p foldRegressors:
   * real-only regressors trained without fold k of the training spots
   * (PipelineImputation::TrainingFolds), one file per fold in fold order. */
  static PipelineEvaluationResults
  Run(const PipelineSettings & settings, const std::string & dataset, const std::string & synthetic,
      const std::string & control, const std::vector<PipelineRegressor> & regressors,
      const std::vector<std::string> & foldRegressors, const std::string & folder);

  /** One line per regressor: its MAE, RMSE and mean Pearson. */
  static std::string
  Summary(const PipelineEvaluationResults & results);
};

} // end namespace itk

#endif
