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
#include "itkDiffusionLoss.h"

#include <torch/torch.h>

namespace itk
{
namespace diffusion
{

torch::Tensor
MinSnrWeights(const NoiseScheduleImpl & schedule, const torch::Tensor & timesteps, double gamma)
{
  const auto snr = schedule.SignalToNoise(timesteps);
  if (!(gamma > 0.0))
  {
    return torch::ones_like(snr);
  }
  const auto   clipped = torch::clamp_max(snr, gamma);
  const auto & type = schedule.Config().predictionType;
  return type == "epsilon" ? clipped / snr : (type == "v_prediction" ? clipped / (snr + 1) : clipped);
}

torch::Tensor
MinSnrLoss(const NoiseScheduleImpl & schedule, const torch::Tensor & output, const torch::Tensor & target,
           const torch::Tensor & timesteps, double gamma)
{
  const auto perSample = (output.to(torch::kFloat32) - target).pow(2).mean({ 1, 2, 3 });
  return (perSample * MinSnrWeights(schedule, timesteps, gamma).to(perSample.device())).mean();
}

torch::Tensor
PatchesToModelRange(const torch::Tensor & images)
{
  return images.scalar_type() == torch::kUInt8 ? images.to(torch::kFloat32) / 127.5 - 1.0 : images.to(torch::kFloat32);
}

} // namespace diffusion
} // namespace itk
