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
#ifndef itkNoiseSchedule_h
#define itkNoiseSchedule_h

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace itk
{
namespace diffusion
{

/** The noise schedule and sampler settings, with the fields of diffusers' DDPMScheduler,
 * DDIMScheduler, DPMSolverMultistepScheduler and UniPCMultistepScheduler scheduler_config.json (a
 * field a class does not have keeps its default). */
struct SchedulerConfig
{
  std::string  className = "DDIMScheduler";
  std::int64_t numTrainTimesteps = 1000;
  double       betaStart = 0.0001;
  double       betaEnd = 0.02;
  /** "linear", "scaled_linear" or "squaredcos_cap_v2"; ignored when trainedBetas is given. */
  std::string         betaSchedule = "linear";
  std::vector<double> trainedBetas;
  bool                clipSample = true;
  double              clipSampleRange = 1.0;
  bool                setAlphaToOne = true;
  std::int64_t        stepsOffset = 0;
  /** "epsilon", "v_prediction" or "sample". */
  std::string predictionType = "epsilon";
  /** "leading", "trailing" or "linspace"; a config that does not say takes its class's default
   * (leading for DDPM and DDIM, linspace for the multistep solvers). */
  std::string timestepSpacing = "leading";
  /** DDPM's posterior variance: "fixed_small", "fixed_small_log" or "fixed_large". */
  std::string varianceType = "fixed_small";
  /** Dynamic thresholding of the predicted x0 (Saharia et al. 2022) instead of clip_sample: each
   * sample is clamped to [-s, s] and divided by s, s its |x0| quantile at dynamic_thresholding_ratio
   * clamped to [1, sample_max_value]. */
  bool   thresholding = false;
  double dynamicThresholdingRatio = 0.995;
  double sampleMaxValue = 1.0;

  // The multistep solvers' fields (DPMSolverMultistepScheduler, UniPCMultistepScheduler).
  /** 1, 2 or 3: how many past model outputs a step uses. */
  std::int64_t solverOrder = 2;
  /** DPM-Solver's algorithm; "dpmsolver++" (data prediction) is the one implemented. */
  std::string algorithmType = "dpmsolver++";
  /** "midpoint" or "heun" for DPM-Solver++, "bh1" or "bh2" for UniPC; empty: the solver's default
   * (midpoint, bh2). A type of the other solver maps to the default, as diffusers does. */
  std::string solverType;
  /** Lower orders in the final steps (DPM-Solver++: below 15 steps only). */
  bool lowerOrderFinal = true;
  /** DPM-Solver++: a first-order final step whatever the number of steps. */
  bool eulerAtFinal = false;
  /** The noise level the last step goes to: "zero" (the clean sample) or "sigma_min" (timestep 0's). */
  std::string finalSigmasType = "zero";
  /** DPM-Solver++: timesteps whose log signal-to-noise lambda lies below this are never used. */
  double lambdaMinClipped = -std::numeric_limits<double>::infinity();
  /** UniPC: the step indices whose corrector is skipped. */
  std::vector<std::int64_t> disableCorrector;

  static SchedulerConfig
  FromJson(const std::string & json);
  std::string
  ToJson() const;
  void
  Validate() const;
};

/** True for the classes whose config carries the multistep solvers' fields and defaults. */
bool
IsMultistepSchedulerClass(const std::string & className);

/** The betas and cumulative alpha products of a schedule, held as module buffers (so they move
 * with the U-Net's device), plus a double-precision host copy for per-step scalars. */
class NoiseScheduleImpl : public torch::nn::Module
{
public:
  explicit NoiseScheduleImpl(const SchedulerConfig & config);

  const SchedulerConfig &
  Config() const
  {
    return m_Config;
  }
  std::int64_t
  NumTrainTimesteps() const
  {
    return m_Config.numTrainTimesteps;
  }

  /** beta_t, t in [0, T). */
  double
  Beta(std::int64_t t) const;
  /** alpha-bar_t, t in [0, T); for t < 0 the "final" value: 1 if set_alpha_to_one, else alpha-bar_0. */
  double
  AlphaCumprod(std::int64_t t) const;

  torch::Tensor
  Betas() const
  {
    return m_Betas;
  }
  torch::Tensor
  AlphasCumprod() const
  {
    return m_AlphasCumprod;
  }

  /** x_t = sqrt(alpha-bar_t) x0 + sqrt(1 - alpha-bar_t) noise, per sample timesteps [B]. */
  torch::Tensor
  AddNoise(const torch::Tensor & original, const torch::Tensor & noise, const torch::Tensor & timesteps) const;
  /** What the model is trained to output: the noise, v = sqrt(a) noise - sqrt(1 - a) x0, or x0. */
  torch::Tensor
  Target(const torch::Tensor & original, const torch::Tensor & noise, const torch::Tensor & timesteps) const;
  /** alpha-bar_t / (1 - alpha-bar_t), per sample. */
  torch::Tensor
  SignalToNoise(const torch::Tensor & timesteps) const;

  /** The timesteps of an n-step sampler, descending, by the config's timestep_spacing. */
  std::vector<std::int64_t>
  InferenceTimesteps(std::int64_t steps) const;

private:
  torch::Tensor
  Gather(const torch::Tensor & values, const torch::Tensor & timesteps, std::int64_t dims) const;

  SchedulerConfig     m_Config;
  std::vector<double> m_HostBetas;
  std::vector<double> m_HostAlphasCumprod;
  torch::Tensor       m_Betas;
  torch::Tensor       m_AlphasCumprod;
  // Double precision for the signal-to-noise ratio, whose 1 - alpha-bar cancels at small t.
  torch::Tensor m_AlphasCumprod64;
};
TORCH_MODULE(NoiseSchedule);

/** Betas by closed form: linear, scaled_linear (linear in sqrt(beta)), or squaredcos_cap_v2
 * (Nichol & Dhariwal 2021: from alpha-bar(t) = cos^2(((t / T) + 0.008) / 1.008 * pi / 2), capped at
 * 0.999). */
std::vector<double>
ComputeBetas(const SchedulerConfig & config);

} // namespace diffusion
} // namespace itk

#endif
