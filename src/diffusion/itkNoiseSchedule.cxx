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
#include "itkNoiseSchedule.h"
#include "itkConfigJson.h"
#include "itkTorchErrors.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace itk
{
namespace diffusion
{
namespace
{
template <typename T>
void
Get(const nlohmann::json & json, const char * key, T & value)
{
  torchcore::ReadOptionalConfigField(json, key, value, "Scheduler config");
}
} // namespace

SchedulerConfig
SchedulerConfig::FromJson(const std::string & text)
{
  const nlohmann::json json = torchcore::ParseConfigObject(text, "scheduler config");
  SchedulerConfig      config;
  Get(json, "_class_name", config.className);
  Get(json, "num_train_timesteps", config.numTrainTimesteps);
  Get(json, "beta_start", config.betaStart);
  Get(json, "beta_end", config.betaEnd);
  Get(json, "beta_schedule", config.betaSchedule);
  Get(json, "trained_betas", config.trainedBetas);
  Get(json, "clip_sample", config.clipSample);
  Get(json, "clip_sample_range", config.clipSampleRange);
  Get(json, "set_alpha_to_one", config.setAlphaToOne);
  Get(json, "steps_offset", config.stepsOffset);
  Get(json, "prediction_type", config.predictionType);
  if (IsMultistepSchedulerClass(config.className))
  {
    config.timestepSpacing = "linspace"; // these classes' default
    config.clipSample = false;           // they have no clip_sample (only thresholding)
  }
  Get(json, "timestep_spacing", config.timestepSpacing);
  // DPM-Solver's variance_type (null or "learned") is another field than DDPM's of the same name.
  if (config.className != "DPMSolverMultistepScheduler")
  {
    Get(json, "variance_type", config.varianceType);
  }
  else if (json.contains("variance_type") && !json["variance_type"].is_null())
  {
    throw torchcore::ConfigurationError("Scheduler option \"variance_type\" (learned variance) is not supported");
  }
  Get(json, "thresholding", config.thresholding);
  Get(json, "dynamic_thresholding_ratio", config.dynamicThresholdingRatio);
  Get(json, "sample_max_value", config.sampleMaxValue);
  Get(json, "solver_order", config.solverOrder);
  Get(json, "algorithm_type", config.algorithmType);
  Get(json, "solver_type", config.solverType);
  Get(json, "lower_order_final", config.lowerOrderFinal);
  Get(json, "euler_at_final", config.eulerAtFinal);
  Get(json, "final_sigmas_type", config.finalSigmasType);
  Get(json, "disable_corrector", config.disableCorrector);
  config.lambdaMinClipped =
    torchcore::ReadConfigNumber(json, "lambda_min_clipped", config.lambdaMinClipped, "Scheduler config");
  for (const char * key : { "rescale_betas_zero_snr",
                            "use_karras_sigmas",
                            "use_lu_lambdas",
                            "use_exponential_sigmas",
                            "use_beta_sigmas",
                            "use_flow_sigmas",
                            "use_dynamic_shifting" })
  {
    if (json.contains(key) && json[key] == true)
    {
      throw torchcore::ConfigurationError(std::string("Scheduler option \"") + key + "\" is not supported");
    }
  }
  if (json.contains("predict_x0") && json["predict_x0"] == false)
  {
    throw torchcore::ConfigurationError(
      "Scheduler option \"predict_x0\": false (UniPC's noise-prediction form) is not supported");
  }
  if (json.contains("solver_p") && !json["solver_p"].is_null())
  {
    throw torchcore::ConfigurationError(
      "Scheduler option \"solver_p\" (another scheduler as UniPC's predictor) is not supported");
  }
  config.Validate();
  return config;
}

bool
IsMultistepSchedulerClass(const std::string & className)
{
  return className == "DPMSolverMultistepScheduler" || className == "UniPCMultistepScheduler";
}

std::string
SchedulerConfig::ToJson() const
{
  nlohmann::json json{ { "_class_name", className },
                       { "num_train_timesteps", numTrainTimesteps },
                       { "beta_start", betaStart },
                       { "beta_end", betaEnd },
                       { "beta_schedule", betaSchedule },
                       { "clip_sample", clipSample },
                       { "clip_sample_range", clipSampleRange },
                       { "set_alpha_to_one", setAlphaToOne },
                       { "steps_offset", stepsOffset },
                       { "prediction_type", predictionType },
                       { "timestep_spacing", timestepSpacing },
                       { "variance_type", varianceType },
                       { "thresholding", thresholding },
                       { "dynamic_thresholding_ratio", dynamicThresholdingRatio },
                       { "sample_max_value", sampleMaxValue } };
  json["trained_betas"] = trainedBetas.empty() ? nlohmann::json(nullptr) : nlohmann::json(trainedBetas);
  if (IsMultistepSchedulerClass(className))
  {
    json["solver_order"] = solverOrder;
    json["solver_type"] = solverType.empty() ? nlohmann::json(nullptr) : nlohmann::json(solverType);
    json["lower_order_final"] = lowerOrderFinal;
    json["final_sigmas_type"] = finalSigmasType;
    if (className == "DPMSolverMultistepScheduler")
    {
      json["algorithm_type"] = algorithmType;
      json["euler_at_final"] = eulerAtFinal;
      json["variance_type"] = nullptr;
      // JSON has no infinity: the default (no clipping) is written as null, which reads back as it.
      json["lambda_min_clipped"] =
        std::isfinite(lambdaMinClipped) ? nlohmann::json(lambdaMinClipped) : nlohmann::json(nullptr);
    }
    else
    {
      json["disable_corrector"] = disableCorrector;
    }
  }
  return json.dump();
}

void
SchedulerConfig::Validate() const
{
  const auto fail = [](const std::string & what) {
    throw torchcore::ConfigurationError("Invalid scheduler config: " + what);
  };
  if (numTrainTimesteps < 2 || numTrainTimesteps > 100000)
  {
    fail("num_train_timesteps must be in [2, 100000]");
  }
  if (trainedBetas.empty())
  {
    if (betaSchedule != "linear" && betaSchedule != "scaled_linear" && betaSchedule != "squaredcos_cap_v2")
    {
      fail("beta_schedule \"" + betaSchedule + "\" is not one of linear, scaled_linear, squaredcos_cap_v2");
    }
    if (!(betaStart > 0.0 && betaEnd < 1.0 && betaStart <= betaEnd))
    {
      fail("beta_start and beta_end must satisfy 0 < beta_start <= beta_end < 1");
    }
  }
  else if (static_cast<std::int64_t>(trainedBetas.size()) != numTrainTimesteps)
  {
    fail("trained_betas must have num_train_timesteps entries");
  }
  for (const double beta : trainedBetas)
  {
    if (!(beta > 0.0 && beta < 1.0))
    {
      fail("trained_betas must lie in (0, 1)");
    }
  }
  if (predictionType != "epsilon" && predictionType != "v_prediction" && predictionType != "sample")
  {
    fail("prediction_type \"" + predictionType + "\" is not one of epsilon, v_prediction, sample");
  }
  if (timestepSpacing != "leading" && timestepSpacing != "trailing" && timestepSpacing != "linspace")
  {
    fail("timestep_spacing \"" + timestepSpacing + "\" is not one of leading, trailing, linspace");
  }
  if (varianceType != "fixed_small" && varianceType != "fixed_small_log" && varianceType != "fixed_large")
  {
    fail("variance_type \"" + varianceType + "\" is not one of fixed_small, fixed_small_log, fixed_large");
  }
  if (!(clipSampleRange > 0.0) || stepsOffset < 0 || stepsOffset >= numTrainTimesteps)
  {
    fail("clip_sample_range must be positive and steps_offset in [0, num_train_timesteps)");
  }
  if (!(dynamicThresholdingRatio > 0.0 && dynamicThresholdingRatio <= 1.0) || !(sampleMaxValue >= 1.0))
  {
    fail("dynamic_thresholding_ratio must be in (0, 1] and sample_max_value at least 1");
  }
  if (solverOrder < 1 || solverOrder > 3)
  {
    fail("solver_order must be 1, 2 or 3; got " + std::to_string(solverOrder));
  }
  if (algorithmType != "dpmsolver++")
  {
    fail("algorithm_type \"" + algorithmType + "\" is not supported (dpmsolver++ is)");
  }
  if (!solverType.empty() && solverType != "midpoint" && solverType != "heun" && solverType != "bh1" &&
      solverType != "bh2" && solverType != "logrho")
  {
    fail("solver_type \"" + solverType + "\" is not one of midpoint, heun, bh1, bh2");
  }
  if (finalSigmasType != "zero" && finalSigmasType != "sigma_min")
  {
    fail("final_sigmas_type \"" + finalSigmasType + "\" is not zero or sigma_min");
  }
  if (std::isnan(lambdaMinClipped))
  {
    fail("lambda_min_clipped must be a number (or -Infinity)");
  }
}

std::vector<double>
ComputeBetas(const SchedulerConfig & config)
{
  const auto          count = config.numTrainTimesteps;
  std::vector<double> betas(count);
  if (!config.trainedBetas.empty())
  {
    return config.trainedBetas;
  }
  for (std::int64_t i = 0; i < count; ++i)
  {
    const double fraction = static_cast<double>(i) / static_cast<double>(count - 1);
    if (config.betaSchedule == "linear")
    {
      betas[i] = config.betaStart + fraction * (config.betaEnd - config.betaStart);
    }
    else if (config.betaSchedule == "scaled_linear")
    {
      const double root =
        std::sqrt(config.betaStart) + fraction * (std::sqrt(config.betaEnd) - std::sqrt(config.betaStart));
      betas[i] = root * root;
    }
    else
    {
      const double pi = std::acos(-1.0);
      const auto   alphaBar = [&](double t) {
        const double c = std::cos((t + 0.008) / 1.008 * pi / 2.0);
        return c * c;
      };
      const double t1 = static_cast<double>(i) / static_cast<double>(count);
      const double t2 = static_cast<double>(i + 1) / static_cast<double>(count);
      betas[i] = std::min(1.0 - alphaBar(t2) / alphaBar(t1), 0.999);
    }
  }
  return betas;
}

NoiseScheduleImpl::NoiseScheduleImpl(const SchedulerConfig & config)
  : m_Config(config)
{
  m_Config.Validate();
  m_HostBetas = ComputeBetas(m_Config);
  m_HostAlphasCumprod.resize(m_HostBetas.size());
  double product = 1.0;
  for (std::size_t i = 0; i < m_HostBetas.size(); ++i)
  {
    product *= 1.0 - m_HostBetas[i];
    m_HostAlphasCumprod[i] = product;
  }
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  m_AlphasCumprod64 = torch::tensor(m_HostAlphasCumprod, options);
  m_Betas = register_buffer("betas", torch::tensor(m_HostBetas, options).to(torch::kFloat32));
  m_AlphasCumprod = register_buffer("alphas_cumprod", torch::tensor(m_HostAlphasCumprod, options).to(torch::kFloat32));
}

double
NoiseScheduleImpl::Beta(std::int64_t t) const
{
  return m_HostBetas.at(static_cast<std::size_t>(t));
}

double
NoiseScheduleImpl::AlphaCumprod(std::int64_t t) const
{
  if (t < 0)
  {
    return m_Config.setAlphaToOne ? 1.0 : m_HostAlphasCumprod.front();
  }
  return m_HostAlphasCumprod.at(static_cast<std::size_t>(t));
}

torch::Tensor
NoiseScheduleImpl::Gather(const torch::Tensor & values, const torch::Tensor & timesteps, std::int64_t dims) const
{
  auto gathered = values.to(timesteps.device()).index_select(0, timesteps.to(torch::kLong).reshape({ -1 }));
  std::vector<std::int64_t> shape(static_cast<std::size_t>(dims), 1);
  shape[0] = -1;
  return gathered.reshape(shape);
}

torch::Tensor
NoiseScheduleImpl::AddNoise(const torch::Tensor & original, const torch::Tensor & noise,
                            const torch::Tensor & timesteps) const
{
  const auto alphaBar = Gather(m_AlphasCumprod, timesteps, original.dim()).to(original.scalar_type());
  return alphaBar.sqrt() * original + (1 - alphaBar).sqrt() * noise;
}

torch::Tensor
NoiseScheduleImpl::Target(const torch::Tensor & original, const torch::Tensor & noise,
                          const torch::Tensor & timesteps) const
{
  if (m_Config.predictionType == "epsilon")
  {
    return noise;
  }
  if (m_Config.predictionType == "sample")
  {
    return original;
  }
  const auto alphaBar = Gather(m_AlphasCumprod, timesteps, original.dim()).to(original.scalar_type());
  return alphaBar.sqrt() * noise - (1 - alphaBar).sqrt() * original;
}

torch::Tensor
NoiseScheduleImpl::SignalToNoise(const torch::Tensor & timesteps) const
{
  const auto alphaBar = Gather(m_AlphasCumprod64, timesteps, 1);
  return (alphaBar / (1 - alphaBar)).to(torch::kFloat32);
}

std::vector<std::int64_t>
NoiseScheduleImpl::InferenceTimesteps(std::int64_t steps) const
{
  const std::int64_t total = m_Config.numTrainTimesteps;
  if (steps < 1 || steps > total)
  {
    throw torchcore::ConfigurationError("The number of sampling steps must be in [1, " + std::to_string(total) +
                                        "]; got " + std::to_string(steps));
  }
  std::vector<std::int64_t> timesteps;
  if (m_Config.timestepSpacing == "linspace")
  {
    for (std::int64_t i = steps - 1; i >= 0; --i)
    {
      const double value = steps == 1 ? 0.0 : static_cast<double>(i) * static_cast<double>(total - 1) / (steps - 1);
      timesteps.push_back(static_cast<std::int64_t>(std::nearbyint(value)));
    }
  }
  else if (m_Config.timestepSpacing == "leading")
  {
    const std::int64_t ratio = total / steps;
    for (std::int64_t i = steps - 1; i >= 0; --i)
    {
      timesteps.push_back(std::min(i * ratio + m_Config.stepsOffset, total - 1));
    }
  }
  else
  {
    const double ratio = static_cast<double>(total) / static_cast<double>(steps);
    for (std::int64_t i = 0; i < steps; ++i)
    {
      timesteps.push_back(static_cast<std::int64_t>(std::nearbyint(total - i * ratio)) - 1);
    }
  }
  return timesteps;
}

} // namespace diffusion
} // namespace itk
