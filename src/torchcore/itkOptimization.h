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
#ifndef itkOptimization_h
#define itkOptimization_h

// Training pieces shared by every LibTorch trainer of the module (central pretraining, local
// adaptation, the gene regressor, S2S-ST): AdamW with its state in safetensors checkpoints, an
// exponential moving average of weights, the warm-up learning-rate schedule, batch draws, and the
// dihedral augmentation of histology patches.

#include "itkSafeTensors.h"

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace itk
{
namespace torchcore
{

struct AdamWOptions
{
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weightDecay = 1e-2;
};

/** AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments), with
 * its moments and step saved in and restored from checkpoints, so a resumed run continues
 * exactly. Parameters without a gradient in a step are left alone. */
class AdamW
{
public:
  AdamW(std::vector<torch::Tensor> parameters, AdamWOptions options);

  /** One update with learning rate \p rate from the parameters' current gradients. */
  void
  Step(double rate);
  std::int64_t
  StepCount() const
  {
    return m_Step;
  }
  /** Sets the step count (a data-parallel rank takes rank 0's, with its moments). */
  void
  SetStepCount(std::int64_t step)
  {
    m_Step = step;
  }
  /** The first and second moments, one tensor per parameter each, in that order: the optimizer's
   * state, to be modified in place (a data-parallel rank receives rank 0's). */
  std::vector<torch::Tensor>
  Moments() const;

  /** Adds "<prefix>exp_avg.<name>" and "<prefix>exp_avg_sq.<name>" tensors and "<prefix>step" metadata. */
  void
  Save(SafeTensors & checkpoint, const std::vector<std::string> & names, const std::string & prefix) const;
  /** Restores what Save wrote; ModelFileError naming \p source if anything is missing or misshapen. */
  void
  Load(const SafeTensors & checkpoint, const std::vector<std::string> & names, const std::string & prefix,
       const std::string & source);

private:
  std::vector<torch::Tensor> m_Parameters;
  AdamWOptions               m_Options;
  std::vector<torch::Tensor> m_ExpAvg;
  std::vector<torch::Tensor> m_ExpAvgSq;
  std::int64_t               m_Step = 0;
};

/** The decay of the \p update-th EMA update (1-based) as diffusers' EMAModel warms it up: 0 at the
 * first update (the average starts as the weights), then min(decay, (1 + s) / (10 + s)) with
 * s = update - 1. Without the warm-up a short run's average is
 * still mostly the random initial weights (0.999^800 = 0.45), and a mixture of weights samples noise. */
double
EmaDecayAt(double decay, std::int64_t update);

/** The \p update-th step of an exponential moving average held in \p averages (e.g. an EMA
 * module's own parameters): avg = d avg + (1 - d) p, with d = EmaDecayAt(decay, update). */
void
UpdateMovingAverages(const std::vector<torch::Tensor> & averages, const std::vector<torch::Tensor> & parameters,
                     double decay, std::int64_t update);

/** The exponential moving average of a list of parameters, in copies (UpdateMovingAverages). */
class ExponentialMovingAverage
{
public:
  ExponentialMovingAverage(const std::vector<torch::Tensor> & parameters, double decay);
  /** The \p update-th update (1-based; the optimizer's step count after its step). */
  void
  Update(const std::vector<torch::Tensor> & parameters, std::int64_t update);
  const std::vector<torch::Tensor> &
  Averages() const
  {
    return m_Averages;
  }
  /** Copies the averages into \p parameters (e.g. a module to sample with). */
  void
  CopyTo(const std::vector<torch::Tensor> & parameters) const;
  /** Replaces the averages (restoring a checkpoint); ModelFileError on a shape mismatch. */
  void
  Assign(const std::vector<torch::Tensor> & averages, const std::string & source);

private:
  std::vector<torch::Tensor> m_Averages;
  double                     m_Decay;
};

/** Linear warm-up from 0 over \p warmup steps, then "constant" or "cosine" (to 0 at \p total). */
double
WarmupLearningRate(std::int64_t step, double peak, std::int64_t warmup, std::int64_t total,
                   const std::string & schedule);

/** \p count indices drawn uniformly from [0, size) with \p generator (a training micro-batch). */
std::vector<std::int64_t>
DrawBatchIndices(std::int64_t size, std::int64_t count, at::Generator & generator);

/** A random horizontal flip and a random number of 90-degree turns per image of a batch. */
struct DihedralDraw
{
  torch::Tensor flips; // [B] in {0, 1}
  torch::Tensor turns; // [B] in {0, 1, 2, 3}
};

/** The dihedral transforms of \p batch images drawn from \p generator: flips for the batch, then turns. */
DihedralDraw
DrawDihedral(std::int64_t batch, at::Generator & generator);

/** Applies draws first .. first + N - 1 of \p draw to the N images of [N, C, H, W] (a data-parallel
 * rank's slice of a batch drawn whole). */
torch::Tensor
ApplyDihedral(const torch::Tensor & images, const DihedralDraw & draw, std::int64_t first = 0);

/** A random horizontal flip and a random number of 90-degree turns per image of [B, C, H, W]
 * (histology has no orientation), drawn from \p generator: ApplyDihedral(images, DrawDihedral(B)). */
torch::Tensor
AugmentDihedral(const torch::Tensor & images, at::Generator & generator);

} // namespace torchcore
} // namespace itk

#endif
