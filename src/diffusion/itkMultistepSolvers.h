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
#ifndef itkMultistepSolvers_h
#define itkMultistepSolvers_h

#include "itkDiffusionSampler.h"

#include <cstdint>
#include <deque>
#include <vector>

namespace itk
{
namespace diffusion
{

/** The timesteps and noise levels of diffusers' multistep solvers (DPMSolverMultistepScheduler,
 * UniPCMultistepScheduler set_timesteps): N timesteps by the config's spacing, and N + 1 points
 * (alpha, sigma, lambda = log(alpha / sigma)) of the probability-flow ODE, one per timestep and a
 * final one: zero noise ("zero": alpha 1, sigma 0, lambda +inf) or timestep 0's ("sigma_min"). */
struct MultistepNoiseLevels
{
  std::vector<std::int64_t> timesteps;
  std::vector<double>       alpha;
  std::vector<double>       sigma;
  std::vector<double>       lambda;

  /** `clipLambda`: DPM-Solver++'s lambda_min_clipped, which drops the noisiest timesteps (UniPC has
   * no such field). */
  static MultistepNoiseLevels
  Make(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps, bool clipLambda);
};

/** The data prediction (x0) of a model output at noise level (alpha, sigma), with the config's
 * dynamic thresholding, or else its clip_sample: diffusers' multistep classes have no clip_sample
 * (their configs read as false), but a DDPM/DDIM model sampled with these solvers keeps its
 * clipping of x0 (static thresholding, Lu et al. 2022, section 5): unclipped, a model whose x0
 * estimates leave [-1, 1] at high noise solves to images far outside the range it was trained on. */
torch::Tensor
MultistepDataPrediction(const SchedulerConfig & config, const torch::Tensor & modelOutput, const torch::Tensor & sample,
                        double alpha, double sigma);

/** What the multistep solvers share: their noise levels, the data predictions of the last
 * solver_order steps of the batch being solved, and the rule that steps run in order. */
class MultistepSolver : public SamplingSolver
{
public:
  const std::vector<std::int64_t> &
  Timesteps() const override
  {
    return m_Levels.timesteps;
  }
  void
  Reset() override;
  const MultistepNoiseLevels &
  Levels() const
  {
    return m_Levels;
  }

protected:
  MultistepSolver(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps,
                  bool clipLambda);

  /** Throws unless step `index` follows the steps taken since Reset. */
  void
  CheckInOrder(std::size_t index, const char * solver) const;
  /** Appends a data prediction, forgetting the oldest beyond solver_order. */
  void
  Remember(torch::Tensor prediction);

  SchedulerConfig      m_Config;
  MultistepNoiseLevels m_Levels;
  /** The data predictions of the last solver_order steps, the newest last. */
  std::deque<torch::Tensor> m_Outputs;
};

/** DPM-Solver++ multistep (Lu et al. 2022, "DPM-Solver++: Fast solver for guided sampling of
 * diffusion probabilistic models"), as diffusers' DPMSolverMultistepScheduler with algorithm_type
 * "dpmsolver++": an exponential integrator of the data-prediction ODE whose order-k step
 * extrapolates the last k data predictions in lambda. Orders 1 to 3; order 1 is DDIM (eta 0).
 * Lower orders at the start (too few outputs yet) and, by lower_order_final, euler_at_final and a
 * zero final noise level, in the last steps. */
class DpmSolverMultistep : public MultistepSolver
{
public:
  DpmSolverMultistep(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps);

  torch::Tensor
  Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
       const std::function<torch::Tensor()> & noise) override;

private:
  bool m_Heun;
};

/** UniPC (Zhao et al. 2023, "UniPC: A unified predictor-corrector framework for fast sampling of
 * diffusion models"), as diffusers' UniPCMultistepScheduler with predict_x0: each step first
 * corrects the previous step's result with the new model output (UniC; not after the step indices
 * in disable_corrector), then predicts the next sample (UniP), with B(h) = h ("bh1") or e^h - 1
 * ("bh2"). Orders 1 to 3, lower at the start and, by lower_order_final, at the end. */
class UniPCMultistep : public MultistepSolver
{
public:
  UniPCMultistep(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps);

  void
  Reset() override;
  torch::Tensor
  Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
       const std::function<torch::Tensor()> & noise) override;

private:
  /** x at level `to` from x at level `from` = to - 1 by the data predictions in m_Outputs (newest:
   * at `from`), plus, for the corrector, the new prediction `corrector` at `to`; `order` as UniPC's
   * p (the corrector's accuracy is p + 1). */
  torch::Tensor
  Update(const torch::Tensor & x, std::size_t from, std::size_t to, std::int64_t order,
         const torch::Tensor & corrector) const;

  bool          m_B1;
  torch::Tensor m_LastSample;
  std::int64_t  m_LastOrder = 0;
};

} // namespace diffusion
} // namespace itk

#endif
