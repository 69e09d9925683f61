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
#ifndef itkAdaptationTrainer_h
#define itkAdaptationTrainer_h

// Local adaptation (LibTorch only): trains the gene FiLM adapter on a lab's paired (patch,
// expression) spots with the central U-Net frozen.

#include "itkAdaptationSettings.h"
#include "itkGeneFiLMAdapter.h"
#include "itkNoiseSchedule.h"
#include "itkOptimization.h"

#include <string>
#include <vector>

namespace itk
{
namespace adaptation
{

/** Paired training data by index: patches [B, C, H, W] (uint8 0..255, or float in [-1, 1]) and
 * their preprocessed expression [B, G]. */
class PairedSource
{
public:
  virtual ~PairedSource() = default;
  virtual std::int64_t
  Size() const = 0;
  virtual void
  Get(const std::vector<std::int64_t> & indices, torch::Tensor & patches, torch::Tensor & conditions) const = 0;
};

/** Pairs held in two tensors, [N, C, H, W] and [N, G]. */
class TensorPairedSource : public PairedSource
{
public:
  TensorPairedSource(torch::Tensor patches, torch::Tensor conditions);
  std::int64_t
  Size() const override
  {
    return m_Patches.size(0);
  }
  void
  Get(const std::vector<std::int64_t> & indices, torch::Tensor & patches, torch::Tensor & conditions) const override;

private:
  torch::Tensor m_Patches;
  torch::Tensor m_Conditions;
};

/** Trains only the adapter: noise (or v) prediction of the frozen U-Net modulated by the adapter,
 * with min-SNR-gamma weighting, conditional and gene dropout, AdamW, gradient clipping and an EMA
 * of the adapter. All randomness comes from one CPU generator saved in checkpoints with the
 * adapter, its EMA, the optimizer state and the step, so a resumed run continues exactly. */
class AdaptationTrainer
{
public:
  AdaptationTrainer(diffusion::UNet2D central, diffusion::NoiseSchedule schedule, GeneFiLMAdapter adapter,
                    const AdaptationSettings & settings);

  /** One optimizer step (gradientAccumulation micro-batches); returns the mean weighted loss. */
  double
  Step(const PairedSource & pairs);
  std::int64_t
  StepCount() const
  {
    return m_Optimizer.StepCount();
  }
  double
  LearningRate(std::int64_t step) const;

  GeneFiLMAdapter
  Adapter() const
  {
    return m_Adapter;
  }
  /** A copy of the adapter holding the EMA weights: the one to sample with. */
  GeneFiLMAdapter
  EmaAdapter() const;
  const AdaptationSettings &
  Settings() const
  {
    return m_Settings;
  }

  /** Atomic checkpoint: "adapter.*", "ema.*", optimizer state, generator state, step, settings. */
  void
  SaveCheckpoint(const std::string & fileName) const;
  /** Restores a checkpoint of an adapter of the same shape; ModelFileError otherwise. */
  void
  LoadCheckpoint(const std::string & fileName);

private:
  std::vector<std::string>
  ParameterNames() const;

  diffusion::UNet2D                   m_Central;
  diffusion::NoiseSchedule            m_Schedule;
  GeneFiLMAdapter                     m_Adapter;
  AdaptationSettings                  m_Settings;
  std::vector<torch::Tensor>          m_Parameters;
  torchcore::AdamW                    m_Optimizer;
  torchcore::ExponentialMovingAverage m_Ema;
  at::Generator                       m_Generator;
};

} // namespace adaptation
} // namespace itk

#endif
