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
#ifndef itkRegressorTrainingSettings_h
#define itkRegressorTrainingSettings_h

// No ITK and no LibTorch here: the regressor's trainer (LibTorch only) takes this type as it is, so
// that the filter, the trainer, MethodStepRunner, the pipeline's settings and c2l share one list of
// settings with one set of defaults, checked in one place and written to JSON in one place.

#include <cstdint>
#include <ostream>
#include <string>

namespace itk
{

/** \brief How the gene regressor is trained: its architecture, optimisation and checkpoints. The
 * defaults are the paper's (ResNet-50, 1,000 AdamW steps of 32 patches at 1e-4 with 5 % warm-up
 * then cosine decay, MAE loss, flips and turns).
 *
 * Used by GeneRegressorTrainFilter (SetTrainingSettings, or one Set/Get per field),
 * MethodStepRunner::TrainRegressor, PipelineSettings::Regressor and `c2l train-regressor`.
 * \ingroup SpatialTranscriptomics */
struct RegressorTrainingSettings
{
  /** ResNet depth: 18, 34 or 50. */
  unsigned int Depth{ 50 };
  /** torchvision ResNet weights of that depth, converted to safetensors, for the backbone ("" = random). */
  std::string  BackboneFileName;
  unsigned int NumberOfSteps{ 1000 };
  /** At least 2 (BatchNorm needs two samples). */
  unsigned int BatchSize{ 32 };
  /** Peak learning rate of AdamW (decoupled weight decay). */
  double LearningRate{ 1e-4 };
  double WeightDecay{ 1e-2 };
  /** Linear warm-up over this fraction of the steps, then Schedule. */
  double WarmupFraction{ 0.05 };
  /** "cosine" (to 0 at the last step) or "constant". */
  std::string Schedule{ "cosine" };
  /** "mae" (L1, the paper's) or "mse", averaged over the batch and the genes. */
  std::string Loss{ "mae" };
  /** Probability that a batch element is synthetic, at most 1; negative: each element uniform over
   * the union of the real and synthetic pairs (in proportion to their numbers). */
  double SyntheticFraction{ -1.0 };
  /** Random horizontal flips and 90-degree turns (histology has no orientation). */
  bool          Augment{ true };
  std::uint64_t Seed{ 0 };
  /** Written atomically every CheckpointInterval steps (0: only at the end) when not empty. */
  std::string  CheckpointFileName;
  unsigned int CheckpointInterval{ 0 };
  /** Continue from CheckpointFileName when it exists. */
  bool Resume{ false };
  /** "cpu", "cuda" or "cuda:N". */
  std::string Device{ "cpu" };

  /** What is wrong with these settings and what to do about it, or "" when they are valid. Checks
   * values only, not files. */
  std::string
  Problem() const;
  /** The settings as a JSON object (snake_case keys), as model files and checkpoints record them. */
  std::string
  ToJSON() const;

  /** One "Name: value" line per setting, each after \p indent (for a filter's PrintSelf). */
  void
  Print(std::ostream & os, const std::string & indent) const;

  bool
  operator==(const RegressorTrainingSettings & other) const;
  bool
  operator!=(const RegressorTrainingSettings & other) const
  {
    return !(*this == other);
  }
};

} // end namespace itk

#endif
