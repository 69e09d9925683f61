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
#ifndef itkRegressorPrediction_h
#define itkRegressorPrediction_h

// Batched inference of the gene regressor over many patches.

#include "itkResNet.h"

#include <cstdint>
#include <functional>
#include <string>

namespace itk
{
namespace regression
{

using PredictionProgress = std::function<void(std::int64_t done, std::int64_t total)>;

/** The expression predicted for \p images uint8 [N, H, W, 3] (H, W >= 16): float [N, G] on the CPU.
 * Runs in eval mode (BatchNorm's running statistics) under c10::InferenceMode, \p batchSize patches
 * at a time on \p device ("cpu", "cuda", "cuda:N"; the net is moved there), calling \p progress
 * after each batch. The net's training mode is restored afterwards. */
torch::Tensor
PredictExpression(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & device,
                  const PredictionProgress & progress = {});

/** The pooled penultimate features [N, F] (F = net->NumberOfFeatures()), computed the same way. */
torch::Tensor
PredictFeatures(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & device,
                const PredictionProgress & progress = {});

/** The expression (when \p expression) and the features (when \p features) of the same patches
 * from one pass through the backbone; the tensors not asked for stay undefined. */
struct Predictions
{
  torch::Tensor expression;
  torch::Tensor features;
};
Predictions
Predict(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & device,
        const PredictionProgress & progress, bool expression, bool features);

} // namespace regression
} // namespace itk

#endif
