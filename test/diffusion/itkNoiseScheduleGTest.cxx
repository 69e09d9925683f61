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

// Noise schedules: betas and alpha-bar against their closed forms, the inference timestep spacings
// (as diffusers computes them), the prediction-type algebra, and config validation.

#include "itkTorchErrors.h"
#include "itkDiffusionSampler.h"
#include "itkNoiseSchedule.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <cmath>

namespace
{
using itk::diffusion::NoiseSchedule;
using itk::diffusion::SchedulerConfig;

/** alpha-bar_t as the product of (1 - beta_i) in long double, for the given beta(i). */
template <typename Beta>
long double
Product(std::int64_t t, Beta beta)
{
  long double product = 1.0L;
  for (std::int64_t i = 0; i <= t; ++i)
  {
    product *= 1.0L - beta(i);
  }
  return product;
}
} // namespace

TEST(NoiseSchedule, LinearAndScaledLinearMatchTheirClosedForms)
{
  for (const std::string kind : { "linear", "scaled_linear" })
  {
    SchedulerConfig config;
    config.betaSchedule = kind;
    config.betaStart = 0.00085;
    config.betaEnd = 0.012;
    NoiseSchedule schedule(config);
    const auto    beta = [&](std::int64_t i) -> long double {
      const long double f = static_cast<long double>(i) / 999.0L;
      if (kind == "linear")
      {
        return 0.00085L + f * (0.012L - 0.00085L);
      }
      const long double root = std::sqrt(0.00085L) + f * (std::sqrt(0.012L) - std::sqrt(0.00085L));
      return root * root;
    };
    for (std::int64_t t : { 0, 1, 250, 500, 998, 999 })
    {
      EXPECT_NEAR(schedule->Beta(t), static_cast<double>(beta(t)), 1e-15) << kind << " t=" << t;
      EXPECT_NEAR(schedule->AlphaCumprod(t), static_cast<double>(Product(t, beta)), 1e-12) << kind << " t=" << t;
      EXPECT_NEAR(schedule->AlphasCumprod()[t].item<double>(), static_cast<double>(Product(t, beta)), 1e-6);
    }
    EXPECT_EQ(schedule->AlphasCumprod().scalar_type(), torch::kFloat32);
  }
}

TEST(NoiseSchedule, CosineScheduleTelescopesToItsAlphaBar)
{
  SchedulerConfig config;
  config.betaSchedule = "squaredcos_cap_v2";
  NoiseSchedule schedule(config);
  const double  pi = std::acos(-1.0);
  const auto    f = [&](double t) { return std::pow(std::cos((t / 1000.0 + 0.008) / 1.008 * pi / 2.0), 2.0); };
  // Without the 0.999 cap the product of (1 - beta) telescopes to f(t + 1) / f(0).
  for (std::int64_t t : { 0, 10, 500, 900, 980 })
  {
    EXPECT_NEAR(schedule->AlphaCumprod(t), f(t + 1) / f(0), 1e-12) << t;
  }
  EXPECT_DOUBLE_EQ(schedule->Beta(999), 0.999);
  EXPECT_GT(schedule->Beta(500), schedule->Beta(100));
}

TEST(NoiseSchedule, TimestepSpacingsFollowDiffusers)
{
  SchedulerConfig config;
  config.timestepSpacing = "leading";
  config.stepsOffset = 1;
  EXPECT_EQ(NoiseSchedule(config)->InferenceTimesteps(10),
            (std::vector<std::int64_t>{ 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 }));
  config.stepsOffset = 0;
  config.timestepSpacing = "trailing";
  EXPECT_EQ(NoiseSchedule(config)->InferenceTimesteps(10),
            (std::vector<std::int64_t>{ 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 }));
  EXPECT_EQ(NoiseSchedule(config)->InferenceTimesteps(3), (std::vector<std::int64_t>{ 999, 666, 332 }));
  config.timestepSpacing = "linspace";
  EXPECT_EQ(NoiseSchedule(config)->InferenceTimesteps(10),
            (std::vector<std::int64_t>{ 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 }));
  EXPECT_EQ(NoiseSchedule(config)->InferenceTimesteps(1000).size(), 1000u);
  EXPECT_THROW(NoiseSchedule(config)->InferenceTimesteps(0), itk::torchcore::ConfigurationError);
  EXPECT_THROW(NoiseSchedule(config)->InferenceTimesteps(1001), itk::torchcore::ConfigurationError);
}

TEST(NoiseSchedule, PredictionTypesInvertTheirTargets)
{
  torch::manual_seed(3);
  const auto original = torch::rand({ 2, 3, 4, 4 }, torch::kFloat64) * 2 - 1;
  const auto noise = torch::randn({ 2, 3, 4, 4 }, torch::kFloat64);
  for (const std::string type : { "epsilon", "v_prediction", "sample" })
  {
    SchedulerConfig config;
    config.predictionType = type;
    config.clipSample = false;
    NoiseSchedule schedule(config);
    for (std::int64_t t : { 3, 400, 990 })
    {
      const auto timesteps = torch::full({ 2 }, t, torch::kLong);
      const auto noisy = schedule->AddNoise(original, noise, timesteps);
      const auto target = schedule->Target(original, noise, timesteps);
      const auto prediction = itk::diffusion::PredictOriginal(*schedule, target, t, noisy);
      EXPECT_LT((prediction.original - original).abs().max().item<double>(), 2e-5) << type << " t=" << t;
      EXPECT_LT((prediction.noise - noise).abs().max().item<double>(), 2e-4) << type << " t=" << t;
    }
  }
  SchedulerConfig config;
  NoiseSchedule   schedule(config);
  const auto      snr = schedule->SignalToNoise(torch::tensor({ 0, 999 }));
  EXPECT_NEAR(snr[0].item<double>(), (1 - 1e-4) / 1e-4, 1.0);
  EXPECT_LT(snr[1].item<double>(), 1e-4);
}

TEST(NoiseSchedule, ConfigRoundTripsAndRejectsNonsense)
{
  SchedulerConfig config;
  config.betaSchedule = "scaled_linear";
  config.predictionType = "v_prediction";
  config.timestepSpacing = "trailing";
  config.clipSample = false;
  config.stepsOffset = 1;
  const auto again = SchedulerConfig::FromJson(config.ToJson());
  EXPECT_EQ(again.ToJson(), config.ToJson());
  using itk::torchcore::ConfigurationError;
  EXPECT_THROW(SchedulerConfig::FromJson("{\"beta_schedule\": \"sigmoid\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"prediction_type\": \"flow\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"timestep_spacing\": \"karras\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"num_train_timesteps\": 0}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"beta_start\": 0.5, \"beta_end\": 0.1}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"rescale_betas_zero_snr\": true}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"thresholding\": true, \"dynamic_thresholding_ratio\": 1.5}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"solver_order\": 4}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"final_sigmas_type\": \"one\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"trained_betas\": [0.1, 0.2]}"), itk::torchcore::ConfigurationError);
  // Found by the model_config fuzzer: an integer field of 2e21 was cast to int64 (undefined behaviour).
  EXPECT_THROW(SchedulerConfig::FromJson("{\"disable_corrector\": [2222222222222222222221]}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(SchedulerConfig::FromJson("{\"num_train_timesteps\": 1e300}"), itk::torchcore::ConfigurationError);
  const auto trained = SchedulerConfig::FromJson("{\"num_train_timesteps\": 2, \"trained_betas\": [0.1, 0.2]}");
  EXPECT_NEAR(NoiseSchedule(trained)->AlphaCumprod(1), 0.9 * 0.8, 1e-15);
}
