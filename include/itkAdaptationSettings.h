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
#ifndef itkAdaptationSettings_h
#define itkAdaptationSettings_h

// No ITK and no LibTorch here: the adaptation trainer (LibTorch only) takes this type as it is, so
// that GeneConditionedAdaptFilter, the trainer, MethodStepRunner, the pipeline's settings and c2l
// share one list of settings with one set of defaults, checked in one place and written to JSON in
// one place.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace itk
{

/** \brief How a central model is adapted to a lab's paired spots: the FiLM adapter's shape, the
 * optimisation and the checkpoints. The defaults are the paper's (10,000 AdamW steps of batch 32
 * with 8-fold gradient accumulation at 1e-4 after a 3 % warm-up, EMA 0.999, min-SNR 5, conditional
 * dropout 0.1 so that classifier-free guidance works).
 *
 * Used by GeneConditionedAdaptFilter (SetTrainingSettings, or one Set/Get per field),
 * MethodStepRunner::Adapt, PipelineSettings::Adaptation and `c2l adapt`.
 * \ingroup SpatialTranscriptomics */
struct AdaptationSettings
{
  unsigned int NumberOfSteps{ 10000 };
  unsigned int BatchSize{ 32 };
  /** Micro-batches whose gradients are averaged before each optimizer step. */
  unsigned int GradientAccumulation{ 8 };
  /** Peak learning rate of AdamW (decoupled weight decay). */
  double LearningRate{ 1e-4 };
  double WeightDecay{ 1e-2 };
  /** Linear warm-up over this fraction of the steps, in [0, 1), then Schedule. */
  double WarmupFraction{ 0.03 };
  /** "constant" or "cosine" (to 0 at the last step). */
  std::string Schedule{ "constant" };
  /** Min-SNR-gamma loss weighting (Hang et al. 2023); 0 disables it. */
  double SnrGamma{ 5.0 };
  /** Global gradient-norm clipping; 0 disables it. */
  double GradientClip{ 1.0 };
  /** Decay of the adapter's exponential moving average, the weights the local model keeps. */
  double EmaDecay{ 0.999 };
  /** Probability that a sample's condition is replaced by the null condition. */
  double ConditionDropout{ 0.1 };
  /** Probability that each gene of a sample's condition is zeroed (augmentation). */
  double GeneDropout{ 0.0 };
  /** Random horizontal flips and 90-degree turns (histology has no orientation). */
  bool Augment{ true };
  /** Refuse training patches whose mean R, G or B differs by more than this many grey levels (0-255)
   * from the mean of the patches the central model was trained on, where its file records it: for
   * pipelines that know their patches were normalised as the model's tiles were. 0 (default): no
   * refusal (tissue composition moves the mean too); the filter still measures the difference and
   * warns above 20 levels. */
  double MaximumColourDifference{ 0.0 };
  /** Size of the expression embedding the FiLM maps read. */
  unsigned int EmbeddingSize{ 64 };
  /** The U-Net's ResNet blocks to modulate, by parameter prefix ("mid_block.resnets.0", ...); empty: all. */
  std::vector<std::string> Blocks;
  std::uint64_t            Seed{ 0 };
  /** Written atomically every CheckpointInterval steps when not empty. */
  std::string  CheckpointFileName;
  unsigned int CheckpointInterval{ 0 };
  /** Continue from CheckpointFileName (which must exist). */
  bool Resume{ false };
  /** "cpu", "cuda" or "cuda:N". */
  std::string Device{ "cpu" };

  /** What is wrong with these settings and what to do about it, or "" when they are valid. Checks
   * values only, not files. */
  std::string
  Problem() const;
  /** The settings as a JSON object (snake_case keys), as checkpoints record them. */
  std::string
  ToJSON() const;
  /** Blocks from a comma-separated list ("mid_block.resnets.0,up_blocks.0.resnets.1"; empty names are skipped), as c2l
   * and the pipeline's settings give them. */
  static std::vector<std::string>
  ParseBlockList(const std::string & commaSeparated);

  /** One "Name: value" line per setting, each after \p indent (for a filter's PrintSelf). */
  void
  Print(std::ostream & os, const std::string & indent) const;

  bool
  operator==(const AdaptationSettings & other) const;
  bool
  operator!=(const AdaptationSettings & other) const
  {
    return !(*this == other);
  }
};

} // end namespace itk

#endif
