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
#ifndef itkDiffusionSampler_h
#define itkDiffusionSampler_h

#include "itkDiffusionConditioning.h"
#include "itkNoiseSchedule.h"
#include "itkUNet2D.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace itk
{
namespace diffusion
{

/** The model output turned into the predicted clean sample x0 and noise (epsilon), by the
 * schedule's prediction type; x0 is clipped (and epsilon recomputed from it only if asked) when the
 * config says clip_sample. */
struct Prediction
{
  torch::Tensor original;
  torch::Tensor noise;
};
Prediction
PredictOriginal(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t,
                const torch::Tensor & sample);

/** One DDIM step from timestep t to prevT (prevT < 0: the end, where alpha-bar is the "final"
 * value) with stochasticity eta (Song et al. 2021, eq. 12 and 16). `noise` may be undefined when
 * eta is 0. */
torch::Tensor
DdimStep(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t, std::int64_t prevT,
         const torch::Tensor & sample, double eta, const torch::Tensor & noise);

/** One ancestral DDPM step from t to prevT: the mean and variance of q(x_prevT | x_t, x0) (Ho et
 * al. 2020, eq. 7), generalised to skipped steps as diffusers does; no noise is added at t = 0. */
torch::Tensor
DdpmStep(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t, std::int64_t prevT,
         const torch::Tensor & sample, const torch::Tensor & noise);

/** Dynamic thresholding of predicted clean samples [B, ...] (Saharia et al. 2022, as diffusers'
 * _threshold_sample): per sample, s = the `ratio` quantile of |x0| clamped to [1, maxValue]; x0 is
 * clamped to [-s, s] and divided by s. */
torch::Tensor
DynamicThreshold(const torch::Tensor & original, double ratio, double maxValue);

/** One sampler's way from noise to a sample: the timesteps the model is evaluated at and the update
 * after each evaluation. A multistep solver keeps the previous outputs of the batch it is solving. */
class SamplingSolver
{
public:
  virtual ~SamplingSolver() = default;
  /** The timesteps of the model evaluations, in order (descending). */
  virtual const std::vector<std::int64_t> &
  Timesteps() const = 0;
  /** Forgets the outputs of the previous batch; called before each batch's first step. */
  virtual void
  Reset()
  {}
  /** The sample after evaluation `index`, from the model output there. `noise` draws fresh noise
   * of the sample's shape (for stochastic samplers). */
  virtual torch::Tensor
  Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
       const std::function<torch::Tensor()> & noise) = 0;
};

/** The sampler names: "ddim", "ddpm", "dpmsolver++" and "unipc". */
const std::vector<std::string> &
SamplerNames();

/** The sampler a scheduler class stands for ("DDIMScheduler" -> "ddim", ...); empty for others. */
std::string
SamplerOfSchedulerClass(const std::string & className);

/** The scheduler config a sampler runs with: the model's own when it names that sampler's class;
 * otherwise the model's noise schedule, prediction type, steps offset and thresholding with the
 * sampler's own fields at their diffusers defaults (as diffusers' from_config), except that the
 * multistep solvers take diffusers' linspace spacing, not a DDPM/DDIM config's leading spacing,
 * whose first timestep lies below the last training timestep; a non-empty `timestepSpacing`
 * replaces the spacing in both cases. */
SchedulerConfig
SamplerConfig(const SchedulerConfig & model, const std::string & method, const std::string & timestepSpacing = "");

struct SamplerOptions
{
  /** "ddim", "ddpm", "dpmsolver++" (DPM-Solver++ multistep, Lu et al. 2022) or "unipc" (UniPC,
   * Zhao et al. 2023). */
  std::string method = "ddim";
  /** "leading", "trailing" or "linspace"; empty: as SamplerConfig chooses. */
  std::string  timestepSpacing;
  std::int64_t steps = 50;
  double       eta = 0.0;
  /** 1 = conditional only (no guidance); otherwise null + scale * (conditional - null). */
  double        guidanceScale = 1.0;
  std::uint64_t seed = 0;
  std::int64_t  batchSize = 8;
  /** Image side; 0 = the U-Net's sample_size. */
  std::int64_t imageSize = 0;
  /** Called after every U-Net evaluation with (done, total). It may throw to abort. */
  std::function<void(std::int64_t, std::int64_t)> progress;
};

/** Draws samples from a U-Net and its schedule. The noise of image i comes from its own CPU
 * generator, seeded from (seed, i), and is moved to the device: the same seed gives the same images
 * whatever the batch size and on every device (up to the device's arithmetic). No global RNG is
 * touched. Runs under c10::InferenceMode with the U-Net in eval mode (its mode is restored). */
class DiffusionSampler
{
public:
  DiffusionSampler(UNet2D unet, NoiseSchedule schedule);

  /** Returns `count` samples [count, C, H, W], float in about [-1, 1], on the CPU. With a
   * conditioning, `conditions` is [count, D] (or [1, D] for all) on any device; the guidance scale
   * needs a conditioning. */
  torch::Tensor
  Sample(std::int64_t count, const SamplerOptions & options, const Conditioning * conditioning = nullptr,
         const torch::Tensor & conditions = {});

  /** The model output for one batch, with guidance's conditional and null halves evaluated as one
   * doubled batch. */
  torch::Tensor
  GuidedOutput(const torch::Tensor & x, std::int64_t t, double guidanceScale, const Conditioning * conditioning,
               const torch::Tensor & conditions);

private:
  UNet2D        m_UNet;
  NoiseSchedule m_Schedule;
};

/** Checks sampler options (method, steps, eta, batch, guidance) against a schedule;
 * ConfigurationError. */
void
ValidateSamplerOptions(const SamplerOptions & options, const NoiseScheduleImpl & schedule,
                       const Conditioning * conditioning);

/** The solver of options.method for `schedule` (the model's schedule; see SamplerConfig). */
std::unique_ptr<SamplingSolver>
MakeSamplingSolver(const NoiseScheduleImpl & schedule, const SamplerOptions & options);

} // namespace diffusion
} // namespace itk

#endif
