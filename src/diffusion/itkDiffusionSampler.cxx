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
#include "itkDiffusionSampler.h"
#include "itkTorchErrors.h"
#include "itkMultistepSolvers.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

namespace itk
{
namespace diffusion
{

Prediction
PredictOriginal(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t,
                const torch::Tensor & sample)
{
  const auto & config = schedule.Config();
  const double alphaBar = schedule.AlphaCumprod(t);
  const double beta = 1.0 - alphaBar;
  Prediction   prediction;
  if (config.predictionType == "epsilon")
  {
    prediction.original = (sample - std::sqrt(beta) * modelOutput) / std::sqrt(alphaBar);
    prediction.noise = modelOutput;
  }
  else if (config.predictionType == "v_prediction")
  {
    prediction.original = std::sqrt(alphaBar) * sample - std::sqrt(beta) * modelOutput;
    prediction.noise = std::sqrt(alphaBar) * modelOutput + std::sqrt(beta) * sample;
  }
  else
  {
    prediction.original = modelOutput;
    prediction.noise = (sample - std::sqrt(alphaBar) * modelOutput) / std::sqrt(beta);
  }
  // As diffusers' DDPM and DDIM: thresholding replaces clipping; the noise is not recomputed.
  if (config.thresholding)
  {
    prediction.original = DynamicThreshold(prediction.original, config.dynamicThresholdingRatio, config.sampleMaxValue);
  }
  else if (config.clipSample)
  {
    prediction.original = prediction.original.clamp(-config.clipSampleRange, config.clipSampleRange);
  }
  return prediction;
}

torch::Tensor
DynamicThreshold(const torch::Tensor & original, double ratio, double maxValue)
{
  const auto type = original.scalar_type();
  auto       flat = original.reshape({ original.size(0), -1 });
  if (type != torch::kFloat32 && type != torch::kFloat64)
  {
    flat = flat.to(torch::kFloat32); // quantile needs float or double
  }
  const auto s = torch::quantile(flat.abs(), ratio, 1, true).clamp_min(1.0).clamp_max(maxValue);
  return (torch::max(torch::min(flat, s), -s) / s).reshape(original.sizes()).to(type);
}

const std::vector<std::string> &
SamplerNames()
{
  static const std::vector<std::string> names{ "ddim", "ddpm", "dpmsolver++", "unipc" };
  return names;
}

std::string
SamplerOfSchedulerClass(const std::string & className)
{
  if (className == "DDIMScheduler")
  {
    return "ddim";
  }
  if (className == "DDPMScheduler")
  {
    return "ddpm";
  }
  if (className == "DPMSolverMultistepScheduler")
  {
    return "dpmsolver++";
  }
  if (className == "UniPCMultistepScheduler")
  {
    return "unipc";
  }
  return {};
}

SchedulerConfig
SamplerConfig(const SchedulerConfig & model, const std::string & method, const std::string & timestepSpacing)
{
  SchedulerConfig config = model;
  const bool      multistep = method == "dpmsolver++" || method == "unipc";
  if (SamplerOfSchedulerClass(model.className) != method && multistep)
  {
    const SchedulerConfig defaults;
    config.solverOrder = defaults.solverOrder;
    config.algorithmType = defaults.algorithmType;
    config.solverType = defaults.solverType;
    config.lowerOrderFinal = defaults.lowerOrderFinal;
    config.eulerAtFinal = defaults.eulerAtFinal;
    config.finalSigmasType = defaults.finalSigmasType;
    config.lambdaMinClipped = defaults.lambdaMinClipped;
    config.disableCorrector = defaults.disableCorrector;
    config.timestepSpacing = "linspace";
  }
  if (!timestepSpacing.empty())
  {
    config.timestepSpacing = timestepSpacing;
  }
  config.Validate();
  return config;
}

torch::Tensor
DdimStep(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t, std::int64_t prevT,
         const torch::Tensor & sample, double eta, const torch::Tensor & noise)
{
  const auto   prediction = PredictOriginal(schedule, modelOutput, t, sample);
  const double alphaBar = schedule.AlphaCumprod(t);
  const double alphaBarPrev = schedule.AlphaCumprod(prevT);
  const double variance = (1.0 - alphaBarPrev) / (1.0 - alphaBar) * (1.0 - alphaBar / alphaBarPrev);
  const double sigma = eta * std::sqrt(std::max(variance, 0.0));
  const double direction = std::sqrt(std::max(1.0 - alphaBarPrev - sigma * sigma, 0.0));
  auto         previous = std::sqrt(alphaBarPrev) * prediction.original + direction * prediction.noise;
  if (eta > 0.0)
  {
    previous = previous + sigma * noise;
  }
  return previous;
}

torch::Tensor
DdpmStep(const NoiseScheduleImpl & schedule, const torch::Tensor & modelOutput, std::int64_t t, std::int64_t prevT,
         const torch::Tensor & sample, const torch::Tensor & noise)
{
  const auto   prediction = PredictOriginal(schedule, modelOutput, t, sample);
  const double alphaBar = schedule.AlphaCumprod(t);
  // DDPM ends on the clean sample: alpha-bar before the first step is 1 whatever set_alpha_to_one.
  const double alphaBarPrev = prevT >= 0 ? schedule.AlphaCumprod(prevT) : 1.0;
  const double currentAlpha = alphaBar / alphaBarPrev;
  const double currentBeta = 1.0 - currentAlpha;
  const double originalCoefficient = std::sqrt(alphaBarPrev) * currentBeta / (1.0 - alphaBar);
  const double sampleCoefficient = std::sqrt(currentAlpha) * (1.0 - alphaBarPrev) / (1.0 - alphaBar);
  auto         previous = originalCoefficient * prediction.original + sampleCoefficient * sample;
  if (t > 0)
  {
    double variance = std::max((1.0 - alphaBarPrev) / (1.0 - alphaBar) * currentBeta, 1e-20);
    if (schedule.Config().varianceType == "fixed_large")
    {
      variance = currentBeta;
    }
    previous = previous + std::sqrt(variance) * noise;
  }
  return previous;
}

void
ValidateSamplerOptions(const SamplerOptions & options, const NoiseScheduleImpl & schedule,
                       const Conditioning * conditioning)
{
  const auto & names = SamplerNames();
  if (std::find(names.begin(), names.end(), options.method) == names.end())
  {
    throw torchcore::ConfigurationError("Unknown sampler \"" + options.method +
                                        "\": use ddim, ddpm, dpmsolver++ or unipc");
  }
  if (!options.timestepSpacing.empty() && options.timestepSpacing != "leading" &&
      options.timestepSpacing != "trailing" && options.timestepSpacing != "linspace")
  {
    throw torchcore::ConfigurationError("The timestep spacing \"" + options.timestepSpacing +
                                        "\" is not one of leading, trailing, linspace");
  }
  if (options.steps < 1 || options.steps > schedule.NumTrainTimesteps())
  {
    throw torchcore::ConfigurationError("The number of sampling steps must be in [1, " +
                                        std::to_string(schedule.NumTrainTimesteps()) + "]; got " +
                                        std::to_string(options.steps));
  }
  if (!(options.eta >= 0.0 && options.eta <= 1.0))
  {
    throw torchcore::ConfigurationError("DDIM eta must be in [0, 1]; got " + std::to_string(options.eta));
  }
  if (options.batchSize < 1)
  {
    throw torchcore::ConfigurationError("The batch size must be positive; got " + std::to_string(options.batchSize));
  }
  if (options.imageSize < 0)
  {
    throw torchcore::ConfigurationError("The image size must be positive (or 0 for the model's sample_size)");
  }
  if (!std::isfinite(options.guidanceScale) || options.guidanceScale < 0.0)
  {
    throw torchcore::ConfigurationError("The guidance scale must be a finite number >= 0");
  }
  if (options.guidanceScale != 1.0 && conditioning == nullptr)
  {
    throw torchcore::ConfigurationError("Classifier-free guidance (scale " + std::to_string(options.guidanceScale) +
                                        ") needs a conditioning (a locally adapted model and expression profiles); an "
                                        "unconditional model samples with guidance scale 1");
  }
}

namespace
{
/** DDIM and DDPM: single-step samplers whose step goes from one timestep of the list to the next
 * (or to the end). */
class SingleStepSolver : public SamplingSolver
{
public:
  SingleStepSolver(const NoiseScheduleImpl & schedule, const SamplerOptions & options)
    : m_Schedule(schedule)
    , m_Ddim(options.method == "ddim")
    , m_Eta(options.eta)
    // DDIM and DDPM step on the model's own schedule (SamplerConfig leaves it as it is for them); a
    // spacing given in the options changes only the timesteps.
    , m_Timesteps(options.timestepSpacing.empty()
                    ? schedule.InferenceTimesteps(options.steps)
                    : NoiseSchedule(SamplerConfig(schedule.Config(), options.method, options.timestepSpacing))
                        ->InferenceTimesteps(options.steps))
  {}
  const std::vector<std::int64_t> &
  Timesteps() const override
  {
    return m_Timesteps;
  }
  torch::Tensor
  Step(const torch::Tensor & modelOutput, std::size_t index, const torch::Tensor & sample,
       const std::function<torch::Tensor()> & noise) override
  {
    const std::int64_t t = m_Timesteps[index];
    const std::int64_t prevT = index + 1 < m_Timesteps.size() ? m_Timesteps[index + 1] : -1;
    if (m_Ddim)
    {
      return DdimStep(m_Schedule, modelOutput, t, prevT, sample, m_Eta, m_Eta > 0.0 ? noise() : torch::Tensor());
    }
    return DdpmStep(m_Schedule, modelOutput, t, prevT, sample, t > 0 ? noise() : torch::zeros_like(sample));
  }

private:
  const NoiseScheduleImpl & m_Schedule;
  bool                      m_Ddim;
  double                    m_Eta;
  std::vector<std::int64_t> m_Timesteps;
};
} // namespace

std::unique_ptr<SamplingSolver>
MakeSamplingSolver(const NoiseScheduleImpl & schedule, const SamplerOptions & options)
{
  if (options.method == "dpmsolver++")
  {
    return std::make_unique<DpmSolverMultistep>(
      schedule, SamplerConfig(schedule.Config(), options.method, options.timestepSpacing), options.steps);
  }
  if (options.method == "unipc")
  {
    return std::make_unique<UniPCMultistep>(
      schedule, SamplerConfig(schedule.Config(), options.method, options.timestepSpacing), options.steps);
  }
  return std::make_unique<SingleStepSolver>(schedule, options);
}

DiffusionSampler::DiffusionSampler(UNet2D unet, NoiseSchedule schedule)
  : m_UNet(std::move(unet))
  , m_Schedule(std::move(schedule))
{}

torch::Tensor
DiffusionSampler::GuidedOutput(const torch::Tensor & x, std::int64_t t, double guidanceScale,
                               const Conditioning * conditioning, const torch::Tensor & conditions)
{
  const auto timestep = torch::full({ 1 }, t, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  if (conditioning == nullptr)
  {
    return m_UNet(x, timestep);
  }
  const auto batch = x.size(0);
  const auto boolOptions = torch::TensorOptions().dtype(torch::kBool).device(x.device());
  if (guidanceScale == 1.0)
  {
    const auto modulator = conditioning->Bind(conditions, torch::zeros({ batch }, boolOptions));
    return m_UNet(x, timestep, modulator.get());
  }
  // Conditional and null branches as one doubled batch: one U-Net evaluation per step.
  const auto isNull = torch::cat({ torch::zeros({ batch }, boolOptions), torch::ones({ batch }, boolOptions) });
  const auto modulator = conditioning->Bind(torch::cat({ conditions, conditions }), isNull);
  const auto both = m_UNet(torch::cat({ x, x }), timestep, modulator.get()).chunk(2, 0);
  return both[1] + guidanceScale * (both[0] - both[1]);
}

torch::Tensor
DiffusionSampler::Sample(std::int64_t count, const SamplerOptions & options, const Conditioning * conditioning,
                         const torch::Tensor & conditions)
{
  const auto & schedule = *m_Schedule;
  ValidateSamplerOptions(options, schedule, conditioning);
  if (count < 1)
  {
    throw torchcore::ConfigurationError("The number of samples must be positive; got " + std::to_string(count));
  }
  const auto & config = m_UNet->Config();
  if (conditioning != nullptr &&
      (!conditions.defined() || conditions.dim() != 2 || (conditions.size(0) != count && conditions.size(0) != 1) ||
       conditions.size(1) != conditioning->ConditionSize()))
  {
    throw torchcore::ConfigurationError("The conditions must be a [" + std::to_string(count) + ", " +
                                        std::to_string(conditioning->ConditionSize()) + "] (or [1, D]) matrix");
  }
  const std::int64_t side = options.imageSize > 0 ? options.imageSize : config.sampleSize;
  const auto         parameter = m_UNet->parameters().front();
  const auto         device = parameter.device();
  const auto         solver = MakeSamplingSolver(schedule, options);
  const auto &       timesteps = solver->Timesteps();
  const std::int64_t batches = (count + options.batchSize - 1) / options.batchSize;
  const std::int64_t total = batches * static_cast<std::int64_t>(timesteps.size());
  std::int64_t       done = 0;

  const bool         wasTraining = m_UNet->is_training();
  c10::InferenceMode inference;
  m_UNet->eval();
  std::vector<torch::Tensor> results;
  try
  {
    for (std::int64_t first = 0; first < count; first += options.batchSize)
    {
      const std::int64_t         size = std::min(options.batchSize, count - first);
      std::vector<at::Generator> generators;
      for (std::int64_t i = 0; i < size; ++i)
      {
        // SplitMix64 of (seed, image index): well-separated streams for neighbouring indices.
        std::uint64_t z = options.seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(first + i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        generators.push_back(at::make_generator<at::CPUGeneratorImpl>(z ^ (z >> 31)));
      }
      const auto draw = [&]() {
        std::vector<torch::Tensor> noise;
        for (auto & generator : generators)
        {
          noise.push_back(torch::randn({ config.inChannels, side, side }, generator, torch::kFloat32));
        }
        return torch::stack(noise).to(device, parameter.scalar_type());
      };
      torch::Tensor batchConditions;
      if (conditioning != nullptr)
      {
        batchConditions =
          conditions.size(0) == 1 ? conditions.expand({ size, conditions.size(1) }) : conditions.narrow(0, first, size);
        batchConditions = batchConditions.to(device, parameter.scalar_type());
      }
      auto x = draw();
      solver->Reset();
      for (std::size_t i = 0; i < timesteps.size(); ++i)
      {
        const auto output = GuidedOutput(x, timesteps[i], options.guidanceScale, conditioning, batchConditions);
        x = solver->Step(output, i, x, draw);
        if (options.progress)
        {
          options.progress(++done, total);
        }
      }
      results.push_back(x.to(torch::kCPU, torch::kFloat32));
    }
  }
  catch (...)
  {
    m_UNet->train(wasTraining);
    throw;
  }
  m_UNet->train(wasTraining);
  return torch::cat(results);
}

} // namespace diffusion
} // namespace itk
