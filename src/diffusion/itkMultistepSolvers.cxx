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
#include "itkMultistepSolvers.h"
#include "itkTorchErrors.h"

#include <algorithm>
#include <cmath>

namespace itk
{
namespace diffusion
{
namespace
{
/** The timesteps of diffusers' multistep set_timesteps, with numpy's arithmetic (np.linspace's
 * start + k * (delta / div), np.round's ties to even = std::nearbyint). */
std::vector<std::int64_t>
MultistepTimesteps(const SchedulerConfig & config, std::int64_t steps, std::int64_t lastTimestep)
{
  std::vector<std::int64_t> timesteps;
  if (config.timestepSpacing == "linspace")
  {
    // np.linspace(0, last - 1, steps + 1).round()[::-1][:-1]
    const double step = static_cast<double>(lastTimestep - 1) / static_cast<double>(steps);
    for (std::int64_t k = steps; k >= 1; --k)
    {
      const double value = k == steps ? static_cast<double>(lastTimestep - 1) : static_cast<double>(k) * step;
      timesteps.push_back(static_cast<std::int64_t>(std::nearbyint(value)));
    }
  }
  else if (config.timestepSpacing == "leading")
  {
    // (np.arange(0, steps + 1) * (last // (steps + 1))).round()[::-1][:-1] + steps_offset
    const std::int64_t ratio = lastTimestep / (steps + 1);
    for (std::int64_t k = steps; k >= 1; --k)
    {
      timesteps.push_back(k * ratio + config.stepsOffset);
    }
  }
  else
  {
    // np.arange(last, 0, -(T / steps)).round() - 1, with arange's length ceil(last / ratio) (for a
    // few step counts that is steps + 1, whose last timestep, -1, MultistepNoiseLevels refuses).
    const double       ratio = static_cast<double>(config.numTrainTimesteps) / static_cast<double>(steps);
    const std::int64_t length = static_cast<std::int64_t>(std::ceil((0.0 - lastTimestep) / -ratio));
    for (std::int64_t k = 0; k < length; ++k)
    {
      timesteps.push_back(
        static_cast<std::int64_t>(std::nearbyint(static_cast<double>(lastTimestep) - static_cast<double>(k) * ratio)) -
        1);
    }
  }
  return timesteps;
}

/** Solves the small dense system A x = y by Gaussian elimination with partial pivoting. */
std::vector<double>
SolveSmall(std::vector<std::vector<double>> A, std::vector<double> y)
{
  const std::size_t n = y.size();
  for (std::size_t c = 0; c < n; ++c)
  {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
    {
      if (std::abs(A[r][c]) > std::abs(A[pivot][c]))
      {
        pivot = r;
      }
    }
    if (A[pivot][c] == 0.0)
    {
      throw torchcore::ConfigurationError(
        "UniPC's coefficient system is singular (repeated noise levels: too many steps)");
    }
    std::swap(A[c], A[pivot]);
    std::swap(y[c], y[pivot]);
    for (std::size_t r = c + 1; r < n; ++r)
    {
      const double factor = A[r][c] / A[c][c];
      for (std::size_t k = c; k < n; ++k)
      {
        A[r][k] -= factor * A[c][k];
      }
      y[r] -= factor * y[c];
    }
  }
  std::vector<double> x(n);
  for (std::size_t c = n; c-- > 0;)
  {
    double sum = y[c];
    for (std::size_t k = c + 1; k < n; ++k)
    {
      sum -= A[c][k] * x[k];
    }
    x[c] = sum / A[c][c];
  }
  return x;
}
} // namespace

MultistepNoiseLevels
MultistepNoiseLevels::Make(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps,
                           bool clipLambda)
{
  const std::int64_t total = schedule.NumTrainTimesteps();
  if (steps < 1 || steps > total)
  {
    throw torchcore::ConfigurationError("The number of sampling steps must be in [1, " + std::to_string(total) +
                                        "]; got " + std::to_string(steps));
  }
  const auto   lambdaOf = [](double alphaBar) { return 0.5 * std::log(alphaBar) - 0.5 * std::log(1.0 - alphaBar); };
  std::int64_t lastTimestep = total;
  if (clipLambda)
  {
    // torch.searchsorted(flip(lambda_t), lambda_min_clipped): how many timesteps, from the noisiest,
    // have lambda below the clip.
    std::int64_t clipped = 0;
    while (clipped < total && lambdaOf(schedule.AlphaCumprod(total - 1 - clipped)) < config.lambdaMinClipped)
    {
      ++clipped;
    }
    lastTimestep = total - clipped;
    if (lastTimestep < 1)
    {
      throw torchcore::ConfigurationError("lambda_min_clipped leaves no timestep to sample from");
    }
  }
  MultistepNoiseLevels levels;
  levels.timesteps = MultistepTimesteps(config, steps, lastTimestep);
  // A repeated timestep is a step of zero length in lambda, which the multistep formulas divide by.
  if (std::adjacent_find(levels.timesteps.begin(), levels.timesteps.end()) != levels.timesteps.end())
  {
    throw torchcore::ConfigurationError(std::to_string(steps) + " steps repeat a timestep with the " +
                                        config.timestepSpacing + " spacing; use fewer steps");
  }
  std::vector<double> sigmas;
  for (const auto t : levels.timesteps)
  {
    if (t < 0 || t >= total)
    {
      throw torchcore::ConfigurationError("The " + config.timestepSpacing + " spacing with steps_offset " +
                                          std::to_string(config.stepsOffset) + " gives timestep " + std::to_string(t) +
                                          ", outside [0, " + std::to_string(total) + ")");
    }
    const double alphaBar = schedule.AlphaCumprod(t);
    sigmas.push_back(std::sqrt((1.0 - alphaBar) / alphaBar));
  }
  const double first = schedule.AlphaCumprod(0);
  sigmas.push_back(config.finalSigmasType == "zero" ? 0.0 : std::sqrt((1.0 - first) / first));
  for (const double s : sigmas)
  {
    // diffusers' _sigma_to_alpha_sigma_t: the variance-preserving pair of the noise level.
    const double alpha = 1.0 / std::sqrt(s * s + 1.0);
    levels.alpha.push_back(alpha);
    levels.sigma.push_back(s * alpha);
    levels.lambda.push_back(std::log(alpha) - std::log(s * alpha)); // +inf at zero noise
  }
  return levels;
}

torch::Tensor
MultistepDataPrediction(const SchedulerConfig & config, const torch::Tensor & modelOutput, const torch::Tensor & sample,
                        double alpha, double sigma)
{
  torch::Tensor original;
  if (config.predictionType == "epsilon")
  {
    original = (sample - sigma * modelOutput) / alpha;
  }
  else if (config.predictionType == "v_prediction")
  {
    original = alpha * sample - sigma * modelOutput;
  }
  else
  {
    original = modelOutput;
  }
  if (config.thresholding)
  {
    original = DynamicThreshold(original, config.dynamicThresholdingRatio, config.sampleMaxValue);
  }
  else if (config.clipSample)
  {
    original = original.clamp(-config.clipSampleRange, config.clipSampleRange);
  }
  return original;
}

MultistepSolver::MultistepSolver(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps,
                                 bool clipLambda)
  : m_Config(config)
  , m_Levels(MultistepNoiseLevels::Make(schedule, config, steps, clipLambda))
{
  m_Config.Validate();
}

void
MultistepSolver::Reset()
{
  m_Outputs.clear();
}

void
MultistepSolver::CheckInOrder(std::size_t index, const char * solver) const
{
  if (index >= m_Levels.timesteps.size() || (index == 0) != m_Outputs.empty())
  {
    throw torchcore::ConfigurationError(std::string(solver) +
                                        " steps must run in order from the first (Reset between batches)");
  }
}

void
MultistepSolver::Remember(torch::Tensor prediction)
{
  m_Outputs.push_back(std::move(prediction));
  if (static_cast<std::int64_t>(m_Outputs.size()) > m_Config.solverOrder)
  {
    m_Outputs.pop_front();
  }
}

DpmSolverMultistep::DpmSolverMultistep(const NoiseScheduleImpl & schedule, const SchedulerConfig & config,
                                       std::int64_t steps)
  : MultistepSolver(schedule, config, steps, true)
  , m_Heun(config.solverType == "heun")
{}

torch::Tensor
DpmSolverMultistep::Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
                         const std::function<torch::Tensor()> &)
{
  CheckInOrder(index, "DPM-Solver++");
  const std::size_t count = m_Levels.timesteps.size();
  const bool        small = count < 15;
  const bool        lowerFinal = index == count - 1 && (m_Config.eulerAtFinal || (m_Config.lowerOrderFinal && small) ||
                                                 m_Config.finalSigmasType == "zero");
  const bool        lowerSecond = index + 2 == count && m_Config.lowerOrderFinal && small;
  Remember(MultistepDataPrediction(m_Config, modelOutput, sample, m_Levels.alpha[index], m_Levels.sigma[index]));
  // diffusers' lower_order_nums: the steps already taken, up to the order.
  const auto   previous = static_cast<std::int64_t>(index);
  std::int64_t order = 3;
  if (m_Config.solverOrder == 1 || previous < 1 || lowerFinal)
  {
    order = 1;
  }
  else if (m_Config.solverOrder == 2 || previous < 2 || lowerSecond)
  {
    order = 2;
  }

  const double alphaT = m_Levels.alpha[index + 1];
  const double sigmaT = m_Levels.sigma[index + 1];
  const double h = m_Levels.lambda[index + 1] - m_Levels.lambda[index];
  // phi = e^-h - 1 (-1 at zero final noise, where h is +inf).
  const double phi = std::exp(-h) - 1.0;
  const auto & m0 = m_Outputs.back();
  auto         x = (sigmaT / m_Levels.sigma[index]) * sample - (alphaT * phi) * m0;
  if (order == 2)
  {
    const auto & m1 = m_Outputs[m_Outputs.size() - 2];
    const double r0 = (m_Levels.lambda[index] - m_Levels.lambda[index - 1]) / h;
    const auto   d1 = (1.0 / r0) * (m0 - m1);
    x = m_Heun ? x + (alphaT * (phi / h + 1.0)) * d1 : x - (0.5 * alphaT * phi) * d1;
  }
  else if (order == 3)
  {
    const auto & m1 = m_Outputs[m_Outputs.size() - 2];
    const auto & m2 = m_Outputs[m_Outputs.size() - 3];
    const double r0 = (m_Levels.lambda[index] - m_Levels.lambda[index - 1]) / h;
    const double r1 = (m_Levels.lambda[index - 1] - m_Levels.lambda[index - 2]) / h;
    const auto   d10 = (1.0 / r0) * (m0 - m1);
    const auto   d11 = (1.0 / r1) * (m1 - m2);
    const auto   d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
    const auto   d2 = (1.0 / (r0 + r1)) * (d10 - d11);
    x = x + (alphaT * (phi / h + 1.0)) * d1 - (alphaT * ((phi + h) / (h * h) - 0.5)) * d2;
  }
  return x;
}

UniPCMultistep::UniPCMultistep(const NoiseScheduleImpl & schedule, const SchedulerConfig & config, std::int64_t steps)
  : MultistepSolver(schedule, config, steps, false)
  , m_B1(config.solverType == "bh1")
{
  if (m_Config.finalSigmasType == "zero" && !m_Config.lowerOrderFinal && m_Config.solverOrder > 1)
  {
    throw torchcore::ConfigurationError(
      "UniPC with a zero final noise level needs lower_order_final (a higher-order last step "
      "divides by the infinite log-SNR step)");
  }
}

void
UniPCMultistep::Reset()
{
  MultistepSolver::Reset();
  m_LastSample = torch::Tensor();
  m_LastOrder = 0;
}

torch::Tensor
UniPCMultistep::Update(const torch::Tensor & x, std::size_t from, std::size_t to, std::int64_t order,
                       const torch::Tensor & corrector) const
{
  const double h = m_Levels.lambda[to] - m_Levels.lambda[from];
  const double hh = -h;
  const double hPhi1 = std::expm1(hh);
  const double bh = m_B1 ? hh : std::expm1(hh);
  const auto & m0 = m_Outputs.back();
  const double alphaT = m_Levels.alpha[to];

  // UniPC's coefficients (diffusers' multistep_uni_p/c_bh_update): with hh = -h and r_k the k-th
  // earlier step's lambda distance in units of h (the last r is 1), R[i][k] = r_k^i and
  // b[i] = h phi_{i+2}(hh) (i + 1)! / B(h); the corrector solves R rho = b, the predictor its
  // leading block (order 2: rho = 1/2).
  std::vector<double>        rks;
  std::vector<torch::Tensor> differences;
  for (std::int64_t k = 1; k < order; ++k)
  {
    const double rk = (m_Levels.lambda[from - k] - m_Levels.lambda[from]) / h;
    rks.push_back(rk);
    differences.push_back((m_Outputs[m_Outputs.size() - 1 - k] - m0) / rk);
  }
  rks.push_back(1.0);
  std::vector<std::vector<double>> R;
  std::vector<double>              b;
  double                           hPhiK = hPhi1 / hh - 1.0;
  double                           factorial = 1.0;
  for (std::int64_t i = 1; i <= order; ++i)
  {
    std::vector<double> row;
    for (const double r : rks)
    {
      row.push_back(std::pow(r, static_cast<double>(i - 1)));
    }
    R.push_back(row);
    b.push_back(hPhiK * factorial / bh);
    factorial *= static_cast<double>(i + 1);
    hPhiK = hPhiK / hh - 1.0 / factorial;
  }

  auto                result = (m_Levels.sigma[to] / m_Levels.sigma[from]) * x - (alphaT * hPhi1) * m0;
  std::vector<double> rhos;
  if (!corrector.defined())
  {
    if (differences.empty())
    {
      return result;
    }
    // The predictor: order 2 takes 1/2 (diffusers' simplification), higher orders solve R's
    // leading block.
    if (order == 2)
    {
      rhos = { 0.5 };
    }
    else
    {
      R.pop_back();
      for (auto & row : R)
      {
        row.pop_back();
      }
      b.pop_back();
      rhos = SolveSmall(R, b);
    }
  }
  else
  {
    rhos = order == 1 ? std::vector<double>{ 0.5 } : SolveSmall(R, b);
    result = result - (alphaT * bh * rhos.back()) * (corrector - m0);
  }
  for (std::size_t k = 0; k < differences.size(); ++k)
  {
    result = result - (alphaT * bh * rhos[k]) * differences[k];
  }
  return result;
}

torch::Tensor
UniPCMultistep::Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
                     const std::function<torch::Tensor()> &)
{
  CheckInOrder(index, "UniPC");
  const std::size_t count = m_Levels.timesteps.size();
  const auto        converted =
    MultistepDataPrediction(m_Config, modelOutput, sample, m_Levels.alpha[index], m_Levels.sigma[index]);
  auto         x = sample;
  const auto & disabled = m_Config.disableCorrector;
  if (index > 0 && std::find(disabled.begin(), disabled.end(), static_cast<std::int64_t>(index) - 1) == disabled.end())
  {
    x = Update(m_LastSample, index - 1, index, m_LastOrder, converted);
  }
  Remember(converted);
  std::int64_t order = m_Config.solverOrder;
  if (m_Config.lowerOrderFinal)
  {
    order = std::min<std::int64_t>(order, static_cast<std::int64_t>(count - index));
  }
  // Warm-up: no more previous outputs than the steps taken.
  m_LastOrder = std::min<std::int64_t>(order, static_cast<std::int64_t>(index) + 1);
  m_LastSample = x;
  return Update(x, index, index + 1, m_LastOrder, torch::Tensor());
}

} // namespace diffusion
} // namespace itk
