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
#ifndef itkDiffusionConditioning_h
#define itkDiffusionConditioning_h

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace itk
{
namespace diffusion
{

/** Modulates a U-Net evaluation for one bound batch (FiLM: per-channel scale and shift of the
 * normalised features of chosen ResNet blocks). */
class UNetModulator
{
public:
  virtual ~UNetModulator() = default;

  /** Called by every ResNet block of the U-Net with `features` = the output of its norm2 (after the
   * time embedding is applied, before the activation), [B, C, H, W]; `block` is the block's parameter
   * prefix, e.g. "down_blocks.1.resnets.0" or "mid_block.resnets.1". Returns the features to use
   * (the same tensor for blocks it does not modulate). */
  virtual torch::Tensor
  Modulate(const std::string & block, const torch::Tensor & features) const = 0;
};

/** The hook of classifier-free guidance: turns a batch of conditions into a U-Net modulation.
 * Implemented by the local (gene-conditioned) adaptation. The sampler binds one doubled batch, the
 * conditional half followed by the null half, so both branches cost one U-Net evaluation. */
class Conditioning
{
public:
  virtual ~Conditioning() = default;

  /** The length of one condition vector. */
  virtual std::int64_t
  ConditionSize() const = 0;

  /** Binds a batch: `conditions` is [B, ConditionSize()] float on the U-Net's device, `isNull` is [B]
   * bool, true where the row is the null condition (as seen with conditional dropout in training;
   * those rows of `conditions` are to be ignored). The modulator serves one U-Net evaluation. */
  virtual std::unique_ptr<UNetModulator>
  Bind(const torch::Tensor & conditions, const torch::Tensor & isNull) const = 0;
};

} // namespace diffusion
} // namespace itk

#endif
