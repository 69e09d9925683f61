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

// The multistep ODE solvers (DPM-Solver++, UniPC) against multistep_solver_reference.py, a float64
// PyTorch transcription of diffusers' schedulers run at test time: for given model outputs, the
// timesteps, noise levels and every step's sample agree to 1e-9 in double, for each spacing,
// prediction type, order, solver type, final noise level and thresholding. Then checks with known
// answers: first-order DPM-Solver++ is DDIM, a constant data prediction is solved exactly, the
// samplers run through DiffusionSampler, and diffusers' scheduler_config.json of both classes load.

#include "itkTorchErrors.h"
#include "itkDiffusionSampler.h"
#include "itkDiffusionTestUtilities.h"
#include "itkMultistepSolvers.h"
#include "itkSafeTensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "gtest/gtest.h"

#include <iostream>

namespace
{
using namespace itk::diffusion;

struct SolverCase
{
  std::string     solver; // "dpmsolver++" or "unipc"
  std::int64_t    steps;
  SchedulerConfig config;
};

SchedulerConfig
Config(const std::string & spacing, const std::string & prediction, std::int64_t order, const std::string & solverType,
       const std::string & finalSigmas)
{
  SchedulerConfig config;
  config.clipSample = false; // diffusers' multistep classes do not clip
  config.timestepSpacing = spacing;
  config.predictionType = prediction;
  config.solverOrder = order;
  config.solverType = solverType;
  config.finalSigmasType = finalSigmas;
  return config;
}

std::vector<SolverCase>
Cases()
{
  std::vector<SolverCase> cases;
  for (const std::string solver : { "dpmsolver++", "unipc" })
  {
    const std::string type = solver == "unipc" ? "bh2" : "midpoint";
    for (const std::string spacing : { "linspace", "leading", "trailing" })
    {
      for (const std::string prediction : { "epsilon", "v_prediction", "sample" })
      {
        cases.push_back({ solver, 10, Config(spacing, prediction, 2, type, "zero") });
      }
    }
    // 20 steps: no lower-order final steps for DPM-Solver++ (15 and more), and the smallest noise.
    cases.push_back({ solver, 20, Config("linspace", "epsilon", 2, type, "sigma_min") });
    auto third = Config("trailing", "epsilon", 3, type, "zero");
    third.betaSchedule = "scaled_linear";
    third.betaStart = 0.00085;
    third.betaEnd = 0.012;
    cases.push_back({ solver, 20, third });
    auto thresholded = Config("linspace", "sample", 3, type, "sigma_min");
    thresholded.thresholding = true;
    thresholded.dynamicThresholdingRatio = 0.9;
    thresholded.sampleMaxValue = 1.3;
    thresholded.betaSchedule = "squaredcos_cap_v2";
    cases.push_back({ solver, 8, thresholded });
    cases.push_back({ solver, 6, Config("leading", "epsilon", 1, type, "zero") });
  }
  auto heun = Config("linspace", "v_prediction", 2, "heun", "sigma_min");
  heun.stepsOffset = 1;
  cases.push_back({ "dpmsolver++", 12, heun });
  auto euler = Config("linspace", "epsilon", 3, "midpoint", "sigma_min");
  euler.eulerAtFinal = true;
  euler.lowerOrderFinal = false;
  cases.push_back({ "dpmsolver++", 9, euler });
  cases.push_back({ "unipc", 12, Config("linspace", "epsilon", 2, "bh1", "sigma_min") });
  auto corrector = Config("trailing", "epsilon", 2, "bh2", "zero");
  corrector.disableCorrector = { 0, 4 };
  cases.push_back({ "unipc", 10, corrector });
  auto noFinal = Config("linspace", "epsilon", 3, "bh2", "sigma_min");
  noFinal.lowerOrderFinal = false;
  cases.push_back({ "unipc", 16, noFinal });
  return cases;
}

std::string
ReferenceConfig(const SolverCase & c)
{
  const auto & s = c.config;
  return nlohmann::json{
    { "solver", c.solver },
    { "num_inference_steps", c.steps },
    { "num_train_timesteps", s.numTrainTimesteps },
    { "beta_start", s.betaStart },
    { "beta_end", s.betaEnd },
    { "beta_schedule", s.betaSchedule },
    { "timestep_spacing", s.timestepSpacing },
    { "steps_offset", s.stepsOffset },
    { "prediction_type", s.predictionType },
    { "solver_order", s.solverOrder },
    { "solver_type", s.solverType },
    { "lower_order_final", s.lowerOrderFinal },
    { "euler_at_final", s.eulerAtFinal },
    { "final_sigmas_type", s.finalSigmasType },
    { "thresholding", s.thresholding },
    { "dynamic_thresholding_ratio", s.dynamicThresholdingRatio },
    { "sample_max_value", s.sampleMaxValue },
    { "disable_corrector", s.disableCorrector }
  }.dump();
}

std::unique_ptr<SamplingSolver>
MakeSolver(const SolverCase & c, const NoiseScheduleImpl & schedule)
{
  if (c.solver == "dpmsolver++")
  {
    return std::make_unique<DpmSolverMultistep>(schedule, c.config, c.steps);
  }
  return std::make_unique<UniPCMultistep>(schedule, c.config, c.steps);
}

const MultistepNoiseLevels &
LevelsOf(const SamplingSolver & solver)
{
  return dynamic_cast<const MultistepSolver &>(solver).Levels();
}
} // namespace

TEST(MultistepSolvers, MatchDiffusersTranscriptionForEverySpacingPredictionAndOrder)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("multistep-reference");
  const auto cases = Cases();
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(21);
  std::vector<std::pair<torch::Tensor, std::vector<torch::Tensor>>> inputs;
  std::string command = std::string(DIFFUSION_PYTHON) + " " + DIFFUSION_MULTISTEP_SCRIPT;
  for (std::size_t i = 0; i < cases.size(); ++i)
  {
    itk::torchcore::SafeTensors input;
    const auto                  sample = torch::randn({ 2, 3, 4, 4 }, generator, torch::kFloat64);
    input.tensors.emplace_back("sample", sample);
    std::vector<torch::Tensor> outputs;
    for (std::int64_t k = 0; k < cases[i].steps; ++k)
    {
      // Outputs of a model's size; for the data prediction ("sample") beyond [-1, 1] at times, so
      // that thresholding acts.
      outputs.push_back(torch::randn({ 2, 3, 4, 4 }, generator, torch::kFloat64) *
                        (cases[i].config.predictionType == "sample" ? 0.8 : 1.0));
      input.tensors.emplace_back("model_output." + std::to_string(k), outputs.back());
    }
    input.metadata["config"] = ReferenceConfig(cases[i]);
    const auto name = "case" + std::to_string(i);
    itk::torchcore::WriteSafeTensors((folder / (name + ".in.safetensors")).string(), input);
    command +=
      " " + (folder / (name + ".in.safetensors")).string() + " " + (folder / (name + ".out.safetensors")).string();
    inputs.emplace_back(sample, outputs);
  }
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  double largest = 0.0;
  for (std::size_t i = 0; i < cases.size(); ++i)
  {
    const auto & c = cases[i];
    SCOPED_TRACE(c.solver + " " + ReferenceConfig(c));
    const auto reference =
      itk::torchcore::ReadSafeTensors((folder / ("case" + std::to_string(i) + ".out.safetensors")).string());
    NoiseSchedule schedule(c.config);
    auto          solver = MakeSolver(c, *schedule);
    const auto    timesteps = reference.Find("timesteps");
    ASSERT_EQ(static_cast<std::int64_t>(solver->Timesteps().size()), timesteps.numel());
    for (std::int64_t k = 0; k < timesteps.numel(); ++k)
    {
      EXPECT_EQ(solver->Timesteps()[k], timesteps[k].item<std::int64_t>()) << "timestep " << k;
    }
    // diffusers' sigma is sigma_t / alpha_t.
    const auto & levels = LevelsOf(*solver);
    const auto   sigmas = reference.Find("sigmas");
    for (std::int64_t k = 0; k < sigmas.numel(); ++k)
    {
      EXPECT_NEAR(levels.sigma[k] / levels.alpha[k], sigmas[k].item<double>(), 1e-12 * sigmas[k].item<double>());
    }
    auto x = inputs[i].first;
    for (std::int64_t k = 0; k < c.steps; ++k)
    {
      x = solver->Step(inputs[i].second[k], static_cast<std::size_t>(k), x, {});
      const double difference = (x - reference.Find("sample." + std::to_string(k))).abs().max().item<double>();
      largest = std::max(largest, difference);
      EXPECT_LE(difference, 1e-9) << "step " << k;
    }
    // The check can fail: the solution moved far from the initial noise.
    EXPECT_GT((x - inputs[i].first).abs().max().item<double>(), 0.1);
  }
  std::cout << cases.size() << " solver configurations; largest difference to the reference " << largest << std::endl;
  std::filesystem::remove_all(folder);
}

TEST(MultistepSolvers, FirstOrderDpmSolverIsDdim)
{
  // DPM-Solver++ of order 1 is DDIM with eta 0 (Lu et al. 2022, section 4.1): the same update from
  // each timestep to the next, with the final "zero" level DDIM's alpha-bar of 1. DDIM clips x0 by
  // default; without it the two agree to rounding.
  SchedulerConfig config = Config("linspace", "epsilon", 1, "", "zero");
  config.clipSample = false;
  NoiseSchedule      schedule(config);
  DpmSolverMultistep solver(*schedule, config, 12);
  auto               generator = at::make_generator<at::CPUGeneratorImpl>(4);
  auto               x = torch::randn({ 2, 3, 4, 4 }, generator, torch::kFloat64);
  auto               ddim = x.clone();
  const auto &       timesteps = solver.Timesteps();
  for (std::size_t k = 0; k < timesteps.size(); ++k)
  {
    const auto         output = torch::randn({ 2, 3, 4, 4 }, generator, torch::kFloat64);
    const std::int64_t prevT = k + 1 < timesteps.size() ? timesteps[k + 1] : -1;
    x = solver.Step(output, k, x, {});
    ddim = DdimStep(*schedule, output, timesteps[k], prevT, ddim, 0.0, {});
    EXPECT_LT((x - ddim).abs().max().item<double>(), 1e-12) << "step " << k;
  }
}

TEST(MultistepSolvers, ConstantDataPredictionIsSolvedExactly)
{
  // With the model predicting the same clean sample x0 at every step, the probability-flow ODE's
  // solution is x_t = alpha_t x0 + sigma_t / sigma_T (x_T - alpha_T x0): every order of both solvers
  // integrates a constant exactly, and the zero final level returns x0 itself.
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(8);
  const auto x0 = torch::rand({ 1, 3, 4, 4 }, generator, torch::kFloat64) * 2 - 1;
  const auto start = torch::randn({ 1, 3, 4, 4 }, generator, torch::kFloat64);
  for (const std::string solverName : { "dpmsolver++", "unipc" })
  {
    for (std::int64_t order = 1; order <= 3; ++order)
    {
      const SolverCase c{ solverName, 9, Config("trailing", "sample", order, "", "zero") };
      NoiseSchedule    schedule(c.config);
      auto             solver = MakeSolver(c, *schedule);
      const auto &     levels = LevelsOf(*solver);
      auto             x = start.clone();
      for (std::size_t k = 0; k < solver->Timesteps().size(); ++k)
      {
        x = solver->Step(x0, k, x, {});
        const auto exact =
          levels.alpha[k + 1] * x0 + levels.sigma[k + 1] / levels.sigma[0] * (start - levels.alpha[0] * x0);
        EXPECT_LT((x - exact).abs().max().item<double>(), 1e-12) << solverName << " order " << order << " step " << k;
      }
      EXPECT_LT((x - x0).abs().max().item<double>(), 1e-12);
    }
  }
}

TEST(MultistepSolvers, ClipSampleOfADdimModelClipsTheDataPrediction)
{
  // A DDIM config with clip_sample: the solvers clamp x0 to [-range, range], so a model predicting a
  // constant x0 beyond it is solved to the clamped x0 exactly; the solvers' own configs do not clip.
  SchedulerConfig ddim;
  ddim.clipSampleRange = 0.5;
  const auto x0 = torch::full({ 1, 3, 2, 2 }, 2.0, torch::kFloat64);
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(2);
  const auto start = torch::randn({ 1, 3, 2, 2 }, generator, torch::kFloat64);
  for (const std::string method : { "dpmsolver++", "unipc" })
  {
    auto config = SamplerConfig(ddim, method);
    config.predictionType = "sample";
    EXPECT_TRUE(config.clipSample);
    NoiseSchedule schedule(config);
    auto          solver = MakeSolver({ method, 7, config }, *schedule);
    auto          x = start.clone();
    for (std::size_t k = 0; k < solver->Timesteps().size(); ++k)
    {
      x = solver->Step(x0, k, x, {});
    }
    EXPECT_LT((x - 0.5).abs().max().item<double>(), 1e-12) << method;
  }
  EXPECT_FALSE(SchedulerConfig::FromJson(R"({"_class_name": "UniPCMultistepScheduler"})").clipSample);
}

TEST(MultistepSolvers, SampleThroughDiffusionSamplerByName)
{
  torch::set_num_threads(1);
  torch::manual_seed(11);
  DiffusionSampler sampler(UNet2D(itk::DiffusionTest::TinyConfig()), NoiseSchedule(SchedulerConfig{}));
  SamplerOptions   options;
  options.steps = 6;
  options.seed = 3;
  options.batchSize = 2;
  std::map<std::string, torch::Tensor> samples;
  for (const auto & method : SamplerNames())
  {
    options.method = method;
    samples[method] = sampler.Sample(3, options);
    EXPECT_EQ(samples[method].sizes(), (std::vector<std::int64_t>{ 3, 3, 16, 16 })) << method;
    EXPECT_TRUE(torch::isfinite(samples[method]).all().item<bool>()) << method;
    // The multistep solvers keep one batch's history: the batch size does not change the images
    // (up to float rounding, relative to the images' range: a random U-Net's data predictions,
    // never clipped by these solvers, reach far beyond [-1, 1]).
    options.batchSize = 3;
    const double range = samples[method].abs().max().item<double>();
    EXPECT_LT((sampler.Sample(3, options) - samples[method]).abs().max().item<double>(), 1e-4 * std::max(range, 1.0))
      << method;
    options.batchSize = 2;
  }
  // The samplers are different solvers of the same ODE (or SDE, DDPM).
  EXPECT_GT((samples["dpmsolver++"] - samples["unipc"]).abs().max().item<double>(), 1e-4);
  EXPECT_GT((samples["dpmsolver++"] - samples["ddim"]).abs().max().item<double>(), 1e-4);
  options.method = "euler";
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  options.method = "unipc";
  options.timestepSpacing = "quadratic";
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  // 1,000 steps of a 1,000-step schedule spaced over 1,001 points repeat a timestep: a zero step.
  options.timestepSpacing = "";
  options.method = "dpmsolver++";
  options.steps = 1000;
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
}

TEST(MultistepSolvers, TwentyStepsComeCloserToTheOdeSolutionThanDdimAtOneHundred)
{
  // The probability-flow ODE of the tiny U-Net (no clipping: DDIM with clip_sample solves another
  // equation), solved by DDIM with 1,000 steps from the same noise, is the reference; issue 17's bar:
  // both multistep solvers at 20 steps come closer to it than DDIM at 100.
  torch::set_num_threads(1);
  torch::manual_seed(11);
  SchedulerConfig config;
  config.clipSample = false;
  DiffusionSampler sampler(UNet2D(itk::DiffusionTest::TinyConfig()), NoiseSchedule(config));
  SamplerOptions   options;
  options.seed = 9;
  options.batchSize = 4;
  const auto distance = [&](const std::string & method, std::int64_t steps, const torch::Tensor & reference) {
    options.method = method;
    options.steps = steps;
    return (sampler.Sample(4, options) - reference).abs().mean().item<double>();
  };
  options.method = "ddim";
  options.steps = 1000;
  const auto   reference = sampler.Sample(4, options);
  const double ddim100 = distance("ddim", 100, reference);
  const double ddim25 = distance("ddim", 25, reference);
  const double dpm20 = distance("dpmsolver++", 20, reference);
  const double unipc20 = distance("unipc", 20, reference);
  std::cout << "mean absolute difference to DDIM-1000: DDIM-25 " << ddim25 << ", DDIM-100 " << ddim100
            << ", DPM-Solver++-20 " << dpm20 << ", UniPC-20 " << unipc20 << std::endl;
  EXPECT_LT(dpm20, ddim100);
  EXPECT_LT(unipc20, ddim100);
  // DDIM itself converges (the reference is its own limit): fewer steps, farther.
  EXPECT_LT(ddim100, ddim25);
}

TEST(MultistepSolvers, DiffusersSchedulerConfigsLoadAsTheyAre)
{
  // Written by diffusers 0.27 (DPMSolverMultistepScheduler().save_config) and 0.31 (UniPC), with
  // Python's bare -Infinity.
  const auto dpm = SchedulerConfig::FromJson(R"({"_class_name": "DPMSolverMultistepScheduler",
    "_diffusers_version": "0.27.2", "algorithm_type": "dpmsolver++", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "dynamic_thresholding_ratio": 0.995,
    "euler_at_final": false, "final_sigmas_type": "zero", "lambda_min_clipped": -Infinity,
    "lower_order_final": true, "num_train_timesteps": 1000, "prediction_type": "epsilon",
    "rescale_betas_zero_snr": false, "sample_max_value": 1.0, "solver_order": 2, "solver_type": "midpoint",
    "steps_offset": 1, "thresholding": false, "timestep_spacing": "linspace", "trained_betas": null,
    "use_karras_sigmas": false, "use_lu_lambdas": false, "variance_type": null})");
  EXPECT_EQ(dpm.className, "DPMSolverMultistepScheduler");
  EXPECT_TRUE(std::isinf(dpm.lambdaMinClipped) && dpm.lambdaMinClipped < 0);
  EXPECT_EQ(dpm.solverType, "midpoint");
  EXPECT_EQ(dpm.stepsOffset, 1);
  EXPECT_EQ(SamplerOfSchedulerClass(dpm.className), "dpmsolver++");
  // A config that leaves the spacing out takes the class's default, and reads back as written.
  const auto unipc = SchedulerConfig::FromJson(R"({"_class_name": "UniPCMultistepScheduler",
    "disable_corrector": [0], "solver_order": 3, "solver_type": "bh1", "predict_x0": true,
    "final_sigmas_type": "sigma_min", "solver_p": null, "use_flow_sigmas": false})");
  EXPECT_EQ(unipc.timestepSpacing, "linspace");
  EXPECT_EQ(unipc.disableCorrector, std::vector<std::int64_t>{ 0 });
  EXPECT_EQ(SchedulerConfig::FromJson(unipc.ToJson()).ToJson(), unipc.ToJson());
  EXPECT_EQ(SchedulerConfig::FromJson(dpm.ToJson()).ToJson(), dpm.ToJson());
  // What is not implemented is refused by name.
  EXPECT_THROW(
    SchedulerConfig::FromJson(R"({"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true})"),
    itk::torchcore::ConfigurationError);
  EXPECT_THROW(
    SchedulerConfig::FromJson(R"({"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "sde-dpmsolver++"})"),
    itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson(R"({"_class_name": "UniPCMultistepScheduler", "predict_x0": false})"),
               itk::torchcore::ConfigurationError);
  // A DDIM model sampled with DPM-Solver++ takes the solver's own defaults, not DDIM's leading spacing.
  SchedulerConfig ddim;
  const auto      forDpm = SamplerConfig(ddim, "dpmsolver++");
  EXPECT_EQ(forDpm.timestepSpacing, "linspace");
  EXPECT_EQ(forDpm.finalSigmasType, "zero");
  EXPECT_EQ(SamplerConfig(ddim, "dpmsolver++", "trailing").timestepSpacing, "trailing");
  EXPECT_EQ(SamplerConfig(ddim, "ddim").timestepSpacing, "leading");
}

TEST(MultistepSolvers, DynamicThresholdClampsEachSampleToItsQuantile)
{
  // Sample 0: |x| = 0..9 (quantile 0.8 of ten values, linear interpolation: 7.2, clamped to max 5);
  // sample 1 inside [-1, 1]: s clamps up to 1, nothing changes.
  auto       x = torch::stack({ torch::arange(10, torch::kFloat64).reshape({ 1, 10 }),
                                torch::linspace(-0.9, 0.9, 10, torch::kFloat64).reshape({ 1, 10 }) });
  const auto y = DynamicThreshold(x, 0.8, 5.0);
  EXPECT_NEAR(y[0][0][9].item<double>(), 1.0, 1e-15);
  EXPECT_NEAR(y[0][0][3].item<double>(), 3.0 / 5.0, 1e-15);
  EXPECT_TRUE(torch::allclose(y[1], x[1]));
  EXPECT_NEAR(DynamicThreshold(x, 0.8, 10.0)[0][0][9].item<double>(), 1.0, 1e-15);
  EXPECT_NEAR(DynamicThreshold(x, 0.8, 10.0)[0][0][6].item<double>(), 6.0 / 7.2, 1e-12);
}
