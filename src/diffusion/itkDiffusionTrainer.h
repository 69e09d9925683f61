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
#ifndef itkDiffusionTrainer_h
#define itkDiffusionTrainer_h

#include "itkDataParallelGroup.h"
#include "itkNoiseSchedule.h"
#include "itkOptimization.h"
#include "itkPretrainingSettings.h"
#include "itkUNet2D.h"

#include <ATen/core/Generator.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace itk
{
namespace diffusion
{

/** Training images by index: [B, C, H, W], uint8 (0..255) or float in [-1, 1], on any device. */
class PatchSource
{
public:
  virtual ~PatchSource() = default;
  virtual std::int64_t
  Size() const = 0;
  virtual torch::Tensor
  Get(const std::vector<std::int64_t> & indices) const = 0;
};

/** Patches held in one tensor [N, C, H, W] (uint8 or float in [-1, 1]). */
class TensorPatchSource : public PatchSource
{
public:
  explicit TensorPatchSource(torch::Tensor patches);
  std::int64_t
  Size() const override;
  torch::Tensor
  Get(const std::vector<std::int64_t> & indices) const override;

private:
  torch::Tensor m_Patches;
};

/** One micro-batch as the loss sees it: images in the model's range [-1, 1] (augmented already),
 * the noise added to them and their timesteps, on any device. */
struct TrainingBatch
{
  torch::Tensor images;
  torch::Tensor noise;
  torch::Tensor timesteps;
};

struct TrainerOptions
{
  std::int64_t batchSize = 16;
  /** Micro-batches whose gradients are summed (averaged) before each optimizer step. */
  std::int64_t gradientAccumulation = 1;
  double       learningRate = 1e-4;
  double       weightDecay = 1e-2;
  double       adamBeta1 = 0.9;
  double       adamBeta2 = 0.999;
  double       adamEpsilon = 1e-8;
  /** Linear warm-up from 0 over these optimizer steps, then "constant" or "cosine" (to 0 at totalSteps). */
  std::int64_t warmupSteps = 0;
  std::string  learningRateSchedule = "constant";
  std::int64_t totalSteps = 1000;
  /** Min-SNR-gamma loss weighting (Hang et al. 2023); 0 disables it. */
  double snrGamma = 5.0;
  /** Global gradient-norm clipping; 0 disables it. */
  double gradientClip = 1.0;
  double emaDecay = 0.999;
  /** Random horizontal flips and 90-degree rotations (histology has no orientation). */
  bool          augment = true;
  std::uint64_t seed = 0;
  /** bfloat16 autocast of the U-Net's forward; used only on CUDA. */
  bool bf16 = true;
};

/** Pretrains an unconditional diffusion U-Net (the central model): noise (or v) prediction with
 * min-SNR-gamma weighting, AdamW (decoupled weight decay, PyTorch's arithmetic), warm-up then
 * constant or cosine learning rate, gradient accumulation and clipping, an EMA of the weights updated
 * every step. All randomness (patch choice, augmentation, noise, timesteps) comes from one CPU
 * generator owned by the trainer, saved in checkpoints with everything else (weights, EMA, AdamW
 * moments, step), so a resumed run continues exactly as an uninterrupted one.
 *
 * Data parallel (SetDataParallelGroup): batchSize is the global batch. Every rank draws the whole
 * batch from the shared generator (indices, dihedral transforms, noise, timesteps), exactly as one
 * process would, and trains on its slice of it (batchSize / world size patches, the only ones it
 * fetches from its PatchSource); the gradients are averaged across ranks before clipping, the
 * optimizer step and the EMA, so that N ranks give the update of one process (within
 * floating-point summation order), and a run's result does not depend on how many ranks ran it. */
class DiffusionTrainer
{
public:
  DiffusionTrainer(UNet2D unet, NoiseSchedule schedule, TrainerOptions options);

  /** One optimizer step (gradientAccumulation micro-batches); returns the mean weighted loss. */
  double
  Step(const PatchSource & patches);

  /** One optimizer step on given micro-batches (their gradients averaged), drawing nothing from the
   * trainer's generator: what Step does after drawing, for callers that draw batches themselves
   * and for checks against another implementation. Returns the mean weighted loss. */
  double
  Step(const std::vector<TrainingBatch> & microBatches);

  /** Makes this trainer one rank of a data-parallel run (nullptr: one process again). Fails unless
   * the batch splits evenly over the ranks and every rank has the same options and U-Net; then
   * every rank takes rank 0's weights, EMA, optimizer state, step and generator state (so only
   * rank 0 needs to load a checkpoint to resume). Call it on every rank at the same point. */
  void
  SetDataParallelGroup(std::shared_ptr<torchcore::DataParallelGroup> group);

  /** The next micro-batch Step would train on, drawn from the trainer's generator (this rank's
   * slice of it when data parallel). */
  TrainingBatch
  DrawBatch(const PatchSource & patches);

  std::int64_t
  StepCount() const
  {
    return m_Optimizer.StepCount();
  }
  double
  LearningRate(std::int64_t step) const;

  UNet2D
  Model() const
  {
    return m_UNet;
  }
  /** The EMA of the weights: the model to sample from. */
  UNet2D
  EmaModel() const
  {
    return m_Ema;
  }
  const TrainerOptions &
  Options() const
  {
    return m_Options;
  }

  /** Writes a checkpoint atomically: "model.*", "ema.*", "adam.exp_avg.*", "adam.exp_avg_sq.*"
   * tensors, the generator state, and the step, configs and options in the metadata. The file also
   * loads as a model (LoadDiffusionModel picks the EMA weights). */
  void
  SaveCheckpoint(const std::string & fileName) const;

  /** Restores a checkpoint written by SaveCheckpoint into a trainer built with the same U-Net config
   * (ModelFileError otherwise). */
  void
  LoadCheckpoint(const std::string & fileName);

  /** A trainer rebuilt from a checkpoint alone (configs and options from its metadata). */
  static DiffusionTrainer
  FromCheckpoint(const std::string & fileName, const std::string & device = "cpu");

private:
  /** The U-Net's parameter names, in the order of its parameters (the optimizer's state keys). */
  std::vector<std::string>
  ParameterNames() const;

  UNet2D                                        m_UNet;
  UNet2D                                        m_Ema{ nullptr };
  NoiseSchedule                                 m_Schedule;
  TrainerOptions                                m_Options;
  at::Generator                                 m_Generator;
  torchcore::AdamW                              m_Optimizer;
  std::shared_ptr<torchcore::DataParallelGroup> m_Group;
};

/** TrainerOptions as JSON (for checkpoints and model metadata) and back. */
std::string
TrainerOptionsToJson(const TrainerOptions & options);
TrainerOptions
TrainerOptionsFromJson(const std::string & json);

/** The trainer's options for pretraining with \p settings (the engine counts warm-up in steps and
 * keeps AdamW's betas and epsilon, and bfloat16 on CUDA, at their defaults): the one place the
 * pretraining settings become trainer options. */
TrainerOptions
TrainerOptionsFor(const PretrainingSettings & settings);

} // namespace diffusion
} // namespace itk

#endif
