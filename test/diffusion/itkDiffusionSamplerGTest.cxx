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

// Samplers: DDIM with eta = 0 is deterministic and batch-independent; a DDIM step with eta = 1
// between consecutive training timesteps is DDPM's posterior (mean and variance); guidance
// evaluates the conditional and null branches in one doubled batch; every bad option is refused.

#include "itkTorchErrors.h"
#include "itkDiffusionSampler.h"
#include "itkDiffusionTestUtilities.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace
{
using itk::torchcore::ConfigurationError;
using itk::diffusion::DiffusionSampler;
using itk::diffusion::NoiseSchedule;
using itk::diffusion::SamplerOptions;
using itk::diffusion::SchedulerConfig;
using itk::diffusion::UNet2D;

UNet2D
TinyUNet()
{
  torch::manual_seed(11);
  return UNet2D(itk::DiffusionTest::TinyConfig());
}

/** FiLM by a scalar condition: features * (1 + c) + c in every ResNet block; null rows untouched. */
class ScalarConditioning : public itk::diffusion::Conditioning
{
public:
  class Modulator : public itk::diffusion::UNetModulator
  {
  public:
    explicit Modulator(torch::Tensor amount)
      : m_Amount(std::move(amount))
    {}
    torch::Tensor
    Modulate(const std::string &, const torch::Tensor & features) const override
    {
      const auto a = m_Amount.reshape({ -1, 1, 1, 1 });
      return features * (1 + a) + a;
    }

  private:
    torch::Tensor m_Amount;
  };

  std::int64_t
  ConditionSize() const override
  {
    return 1;
  }
  std::unique_ptr<itk::diffusion::UNetModulator>
  Bind(const torch::Tensor & conditions, const torch::Tensor & isNull) const override
  {
    ++binds;
    batchSizes.push_back(conditions.size(0));
    return std::make_unique<Modulator>(conditions.select(1, 0) * (~isNull).to(conditions.scalar_type()));
  }
  mutable int                       binds = 0;
  mutable std::vector<std::int64_t> batchSizes;
};
} // namespace

TEST(DiffusionSampler, DdimWithEtaZeroIsDeterministicAndBatchIndependent)
{
  torch::set_num_threads(1);
  DiffusionSampler sampler(TinyUNet(), NoiseSchedule(SchedulerConfig{}));
  SamplerOptions   options;
  options.steps = 8;
  options.seed = 42;
  options.batchSize = 3;
  const auto first = sampler.Sample(3, options);
  const auto second = sampler.Sample(3, options);
  EXPECT_TRUE(torch::equal(first, second));
  EXPECT_EQ(first.sizes(), (std::vector<std::int64_t>{ 3, 3, 16, 16 }));
  options.batchSize = 1;
  EXPECT_LT((sampler.Sample(3, options) - first).abs().max().item<double>(), 1e-4);
  options.seed = 43;
  EXPECT_GT((sampler.Sample(3, options) - first).abs().max().item<double>(), 1e-2);
  // Different images within a batch (each has its own noise stream).
  EXPECT_GT((first[0] - first[1]).abs().max().item<double>(), 1e-2);
}

TEST(DiffusionSampler, DdimWithEtaOneIsTheDdpmPosterior)
{
  SchedulerConfig config;
  config.clipSample = false;
  NoiseSchedule schedule(config);
  torch::manual_seed(5);
  const auto sample = torch::randn({ 4, 3, 8, 8 }, torch::kFloat64);
  const auto output = torch::randn({ 4, 3, 8, 8 }, torch::kFloat64);
  const auto zero = torch::zeros_like(sample);
  const auto one = torch::ones_like(sample);
  for (std::int64_t t : { 1, 10, 500, 999 })
  {
    const auto   prediction = itk::diffusion::PredictOriginal(*schedule, output, t, sample);
    const double a = schedule->AlphaCumprod(t);
    const double aPrev = schedule->AlphaCumprod(t - 1);
    const double beta = schedule->Beta(t);
    // Ho et al. (2020), eq. 7.
    const auto mean =
      std::sqrt(aPrev) * beta / (1 - a) * prediction.original + std::sqrt(1 - beta) * (1 - aPrev) / (1 - a) * sample;
    const double variance = (1 - aPrev) / (1 - a) * beta;

    const auto ddimMean = itk::diffusion::DdimStep(*schedule, output, t, t - 1, sample, 1.0, zero);
    const auto ddimStd = itk::diffusion::DdimStep(*schedule, output, t, t - 1, sample, 1.0, one) - ddimMean;
    EXPECT_LT((ddimMean - mean).abs().max().item<double>(), 1e-9) << t;
    EXPECT_NEAR(ddimStd.mean().item<double>(), std::sqrt(variance), 1e-9) << t;
    const auto ddpmMean = itk::diffusion::DdpmStep(*schedule, output, t, t - 1, sample, zero);
    EXPECT_LT((ddpmMean - mean).abs().max().item<double>(), 1e-9) << t;
    const auto ddpmStd = itk::diffusion::DdpmStep(*schedule, output, t, t - 1, sample, one) - ddpmMean;
    EXPECT_NEAR(ddpmStd.mean().item<double>(), std::sqrt(variance), 1e-9) << t;

    // And empirically, with drawn noise: moments of many DDIM draws.
    const auto draws = torch::randn({ 20000, 1 }, torch::kFloat64);
    const auto step = itk::diffusion::DdimStep(*schedule,
                                               output.flatten()[0].expand({ 20000, 1 }),
                                               t,
                                               t - 1,
                                               sample.flatten()[0].expand({ 20000, 1 }),
                                               1.0,
                                               draws);
    EXPECT_NEAR(step.mean().item<double>(), mean.flatten()[0].item<double>(), 4 * std::sqrt(variance / 20000) + 1e-12);
    EXPECT_NEAR(step.var().item<double>(), variance, 0.05 * variance);
  }
  // eta = 0 leaves no noise; eta = 1 between distant timesteps has a larger variance.
  const auto deterministic = itk::diffusion::DdimStep(*schedule, output, 500, 400, sample, 0.0, torch::Tensor());
  EXPECT_TRUE(torch::isfinite(deterministic).all().item<bool>());
}

TEST(DiffusionSampler, GuidanceEvaluatesOneDoubledBatch)
{
  auto               unet = TinyUNet();
  DiffusionSampler   sampler(unet, NoiseSchedule(SchedulerConfig{}));
  ScalarConditioning conditioning;
  torch::manual_seed(8);
  const auto         x = torch::randn({ 2, 3, 16, 16 });
  const auto         conditions = torch::tensor({ { 0.5f }, { -0.3f } });
  torch::NoGradGuard noGrad;
  unet->eval();
  const auto guided = sampler.GuidedOutput(x, 300, 3.0, &conditioning, conditions);
  EXPECT_EQ(conditioning.binds, 1);
  EXPECT_EQ(conditioning.batchSizes.back(), 4);
  // The same from two separate evaluations: null + 3 (conditional - null).
  const auto t = torch::tensor({ 300 });
  const auto conditional = unet(x, t, conditioning.Bind(conditions, torch::zeros({ 2 }, torch::kBool)).get());
  const auto null = unet(x, t);
  EXPECT_LT((guided - (null + 3.0 * (conditional - null))).abs().max().item<double>(), 1e-4);
  EXPECT_GT((conditional - null).abs().max().item<double>(), 1e-3);

  SamplerOptions options;
  options.steps = 3;
  options.guidanceScale = 3.0;
  conditioning.binds = 0;
  const auto samples = sampler.Sample(2, options, &conditioning, conditions);
  EXPECT_EQ(conditioning.binds, 3);
  EXPECT_EQ(samples.size(0), 2);
  EXPECT_THROW(sampler.Sample(2, options, &conditioning, torch::zeros({ 3, 1 })), itk::torchcore::ConfigurationError);
}

TEST(DiffusionSampler, RefusesBadOptions)
{
  DiffusionSampler sampler(TinyUNet(), NoiseSchedule(SchedulerConfig{}));
  SamplerOptions   options;
  options.guidanceScale = 3.0;
  try
  {
    sampler.Sample(1, options);
    ADD_FAILURE() << "guidance without conditioning was accepted";
  }
  catch (const itk::torchcore::ConfigurationError & e)
  {
    EXPECT_NE(std::string(e.what()).find("needs a conditioning"), std::string::npos) << e.what();
  }
  options = SamplerOptions{};
  options.steps = 0;
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  options.steps = 1001;
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  options = SamplerOptions{};
  options.eta = 1.5;
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  options = SamplerOptions{};
  options.method = "euler";
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  options = SamplerOptions{};
  options.batchSize = 0;
  EXPECT_THROW(sampler.Sample(1, options), itk::torchcore::ConfigurationError);
  EXPECT_THROW(sampler.Sample(0, SamplerOptions{}), itk::torchcore::ConfigurationError);
}

TEST(DiffusionSampler, DdpmReportsProgressAndAborts)
{
  auto             unet = TinyUNet();
  DiffusionSampler sampler(unet, NoiseSchedule(SchedulerConfig{}));
  SamplerOptions   options;
  options.method = "ddpm";
  options.steps = 4;
  options.batchSize = 2;
  options.seed = 9;
  std::vector<std::int64_t> reports;
  options.progress = [&](std::int64_t done, std::int64_t total) {
    reports.push_back(done);
    EXPECT_EQ(total, 8);
  };
  const auto samples = sampler.Sample(3, options);
  EXPECT_EQ(reports, (std::vector<std::int64_t>{ 1, 2, 3, 4, 5, 6, 7, 8 }));
  EXPECT_TRUE(torch::equal(samples, sampler.Sample(3, options)));
  EXPECT_TRUE(torch::isfinite(samples).all().item<bool>());
  // A throwing progress callback aborts, and the U-Net keeps its training mode.
  unet->train();
  options.progress = [](std::int64_t done, std::int64_t) {
    if (done == 2)
    {
      throw std::runtime_error("aborted");
    }
  };
  EXPECT_THROW(sampler.Sample(3, options), std::runtime_error);
  EXPECT_TRUE(unet->is_training());
}
