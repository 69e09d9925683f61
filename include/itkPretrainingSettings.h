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
#ifndef itkPretrainingSettings_h
#define itkPretrainingSettings_h

// No ITK and no LibTorch here: the diffusion engine (LibTorch only) derives its trainer's options
// from this type (diffusion::TrainerOptionsFor), so that DiffusionPretrainFilter, MethodStepRunner,
// the pipeline's settings and c2l share one list of settings with one set of defaults, checked in
// one place and written to JSON in one place.

#include <cstdint>
#include <ostream>
#include <string>

namespace itk
{

/** \brief How a central diffusion model is pretrained: the U-Net's shape, the optimisation and the
 * checkpoints. Defaults: a 4-scale U-Net of 64 base channels, 1,000 AdamW steps of batch 16 at 1e-4
 * with a 3 % warm-up then cosine decay, EMA 0.999, min-SNR 5, noise (epsilon) prediction.
 *
 * Used by DiffusionPretrainFilter (SetTrainingSettings, or one Set/Get per field),
 * MethodStepRunner::Pretrain, PipelineSettings::Pretraining and `c2l pretrain`.
 * \ingroup SpatialTranscriptomics */
struct PretrainingSettings
{
  /** Side of the square patches in pixels; 0: the training patches' size. */
  unsigned int ImageSize{ 0 };
  /** Channels of the first scale (doubling over the next two); a multiple of 8. */
  unsigned int BaseChannels{ 64 };
  /** Resolutions of the U-Net; ImageSize must be a multiple of 2^(NumberOfScales - 1). */
  unsigned int NumberOfScales{ 4 };
  unsigned int LayersPerBlock{ 2 };
  /** "epsilon" (the noise) or "v_prediction". */
  std::string  PredictionType{ "epsilon" };
  unsigned int NumberOfSteps{ 1000 };
  unsigned int BatchSize{ 16 };
  /** Micro-batches whose gradients are averaged before each optimizer step. */
  unsigned int GradientAccumulation{ 1 };
  /** Peak learning rate of AdamW (decoupled weight decay). */
  double LearningRate{ 1e-4 };
  double WeightDecay{ 1e-2 };
  /** Linear warm-up over this fraction of the steps, in [0, 1), then Schedule. */
  double WarmupFraction{ 0.03 };
  /** "cosine" (to 0 at the last step) or "constant". */
  std::string Schedule{ "cosine" };
  /** Decay of the exponential moving average of the weights: the model that is written. */
  double EmaDecay{ 0.999 };
  /** Min-SNR-gamma loss weighting (Hang et al. 2023); 0 disables it. */
  double SnrGamma{ 5.0 };
  /** Global gradient-norm clipping; 0 disables it. */
  double        GradientClip{ 1.0 };
  std::uint64_t Seed{ 0 };
  /** Written atomically every CheckpointInterval steps when not empty. */
  std::string  CheckpointFileName;
  unsigned int CheckpointInterval{ 0 };
  /** Continue from CheckpointFileName (which must exist). */
  bool Resume{ false };
  /** "cpu", "cuda" or "cuda:N". */
  std::string Device{ "cpu" };

  /** The paper's settings, for GPUs: the defaults above. */
  static PretrainingSettings
  PaperRecipe();
  /** The recipe chosen by measurement on a 2-core CPU (Documentation/CentralModel.md, "A recipe
   * for the CPU"): a 3-scale U-Net of 32 base channels with one ResNet per scale, v-prediction,
   * 2,500 steps of batch 32 at 5e-4 after a 2 % warm-up, then cosine; the rest as the paper's.
   * (models/ holds a 9,000-step run of it, and the epsilon model the demo continues.) */
  static PretrainingSettings
  CPURecipe();

  /** What is wrong with these settings and what to do about it, or "" when they are valid. Checks
   * values only, not files. */
  std::string
  Problem() const;
  /** The settings as a JSON object (snake_case keys). */
  std::string
  ToJSON() const;

  /** One "Name: value" line per setting, each after \p indent (for a filter's PrintSelf). */
  void
  Print(std::ostream & os, const std::string & indent) const;

  bool
  operator==(const PretrainingSettings & other) const;
  bool
  operator!=(const PretrainingSettings & other) const
  {
    return !(*this == other);
  }
};

} // end namespace itk

#endif
