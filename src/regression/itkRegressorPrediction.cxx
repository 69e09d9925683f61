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
#include "itkRegressorPrediction.h"

#include "itkTorchErrors.h"
#include "itkTorchDevice.h"

#include <torch/torch.h>

namespace itk
{
namespace regression
{
torch::Tensor
PredictExpression(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & device,
                  const PredictionProgress & progress)
{
  return Predict(net, images, batchSize, device, progress, true, false).expression;
}

torch::Tensor
PredictFeatures(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & device,
                const PredictionProgress & progress)
{
  return Predict(net, images, batchSize, device, progress, false, true).features;
}

Predictions
Predict(ResNet & net, const torch::Tensor & images, std::int64_t batchSize, const std::string & deviceName,
        const PredictionProgress & progress, bool expression, bool features)
{
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kUInt8 || images.size(3) != 3)
  {
    throw torchcore::ConfigurationError(
      "Patches to predict must be uint8 [N, H, W, 3]" +
      (images.defined() ? "; they are " + c10::str(images.sizes()) + " of " + c10::toString(images.scalar_type())
                        : std::string()));
  }
  if (images.size(1) < 16 || images.size(2) < 16 || batchSize < 1)
  {
    throw torchcore::ConfigurationError("Patches must be at least 16x16 pixels and the batch size positive");
  }
  const auto  device = torchcore::ResolveDevice(deviceName);
  const auto  count = images.size(0);
  Predictions result;
  // Allocated outside InferenceMode: the caller gets ordinary tensors it may modify.
  if (expression)
  {
    result.expression = torch::empty({ count, net->Config().numberOfOutputs }, torch::kFloat32);
  }
  if (features)
  {
    result.features = torch::empty({ count, net->NumberOfFeatures() }, torch::kFloat32);
  }
  const bool wasTraining = net->is_training();
  net->to(device);
  net->eval();
  {
    c10::InferenceMode inference;
    for (std::int64_t start = 0; start < count; start += batchSize)
    {
      const auto size = std::min(batchSize, count - start);
      // One pass through the backbone serves both outputs: the head only maps the features.
      const auto pooled = net->Features(PatchesToResNetInput(images.narrow(0, start, size).to(device)));
      if (features)
      {
        result.features.narrow(0, start, size).copy_(pooled);
      }
      if (expression)
      {
        result.expression.narrow(0, start, size).copy_(net->Head(pooled));
      }
      if (progress)
      {
        progress(start + size, count);
      }
    }
  }
  net->train(wasTraining);
  return result;
}

} // namespace regression
} // namespace itk
