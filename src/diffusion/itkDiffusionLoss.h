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
#ifndef itkDiffusionLoss_h
#define itkDiffusionLoss_h

// The diffusion training loss (min-SNR-gamma weighted noise prediction) and the patches' range as
// the U-Net sees them, shared by central pretraining and local adaptation.

#include "itkNoiseSchedule.h"

#include <torch/types.h>

namespace itk
{
namespace diffusion
{

/** Per-sample loss weights of min-SNR-gamma (Hang et al. 2023): min(SNR, gamma) / SNR for noise
 * prediction, / (SNR + 1) for v, min(SNR, gamma) for the sample itself; ones when gamma is 0. */
torch::Tensor
MinSnrWeights(const NoiseScheduleImpl & schedule, const torch::Tensor & timesteps, double gamma);

/** The noise-prediction training loss: per-sample mean squared error of \p output against
 * \p target, weighted by MinSnrWeights, averaged over the batch. */
torch::Tensor
MinSnrLoss(const NoiseScheduleImpl & schedule, const torch::Tensor & output, const torch::Tensor & target,
           const torch::Tensor & timesteps, double gamma);

/** Training patches as the U-Net sees them: uint8 [0, 255] mapped to float [-1, 1], float left as it is. */
torch::Tensor
PatchesToModelRange(const torch::Tensor & images);

} // namespace diffusion
} // namespace itk

#endif
