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
#ifndef c2lPipelineEvaluation_h
#define c2lPipelineEvaluation_h

// The pipeline's evaluation stage: every regressor on the held-out test spots (MAE, RMSE, per-gene
// Pearson and Spearman), the fidelity of the synthetic patches in the real-only regressor's feature
// space, and tissue composition (nuclear area fraction) of real and synthetic patches per expression
// cluster. Everything the report draws goes to evaluation.json.

#include "c2lPipelineConfig.h"

#include <string>
#include <vector>

namespace c2l
{

/** A regressor the pipeline trains: real only (ratio 0) or co-trained at a synthetic-to-real ratio,
 * on synthetic pairs or, as the control, on the same pairs with colour-noise images. */
struct RegressorRun
{
  std::string label;
  double      ratio{ 0.0 };
  std::string file;
  bool        control{ false };
};

/** "1", "2.5", ...: a ratio as stage and file names show it. */
std::string
FormatRatio(double ratio);

/** Writes \p folder/evaluation.json, and per regressor its predictions and metrics (TSV, JSON). */
void
EvaluatePipeline(const PipelineConfig & config, const std::string & dataset, const std::string & synthetic,
                 const std::string & control, const std::vector<RegressorRun> & regressors, const std::string & folder);

} // namespace c2l

#endif
