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

// The adaptation trainer: it trains the adapter and nothing else, it learns (the loss on a fixed
// batch falls), a run killed and resumed from its checkpoint ends exactly where an uninterrupted
// run does, and its schedule and options are what they claim.

#include "itkAdaptationTrainer.h"
#include "itkDiffusionTestUtilities.h"

#include "gtest/gtest.h"

#include <functional>
#include <vector>

namespace
{
using namespace itk;

struct Setup
{
  diffusion::UNet2D                               unet{ nullptr };
  diffusion::NoiseSchedule                        schedule{ nullptr };
  std::unique_ptr<adaptation::TensorPairedSource> pairs;
};

/** Two kinds of 16x16 patches, reddish or bluish, each with the expression that "explains" it. */
Setup
MakeSetup()
{
  torch::manual_seed(0);
  Setup setup;
  setup.unet = diffusion::UNet2D(DiffusionTest::TinyConfig());
  setup.schedule = diffusion::NoiseSchedule(diffusion::SchedulerConfig());
  auto patches = torch::zeros({ 16, 3, 16, 16 }, torch::kUInt8);
  auto conditions = torch::zeros({ 16, 12 });
  for (int i = 0; i < 16; ++i)
  {
    const bool red = i % 2 == 0;
    patches[i][0].fill_(red ? 220 : 60);
    patches[i][2].fill_(red ? 60 : 220);
    patches[i][1].fill_(100);
    conditions[i][red ? 0 : 1] = 3.0;
  }
  setup.pairs = std::make_unique<adaptation::TensorPairedSource>(patches, conditions);
  return setup;
}

itk::AdaptationSettings
SmallOptions()
{
  itk::AdaptationSettings options;
  options.BatchSize = 4;
  options.GradientAccumulation = 2;
  options.NumberOfSteps = 40;
  options.LearningRate = 5e-3;
  options.GeneDropout = 0.1;
  options.Seed = 11;
  return options;
}

adaptation::GeneFiLMAdapter
NewAdapter(const diffusion::UNet2D & unet)
{
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 12;
  options.embeddingSize = 8;
  torch::manual_seed(1);
  return adaptation::GeneFiLMAdapter(options, adaptation::ResnetBlockChannels(unet));
}

TEST(AdaptationTrainer, ResumingEqualsAnUninterruptedRun)
{
  auto                          a = MakeSetup();
  auto                          b = MakeSetup();
  adaptation::AdaptationTrainer straight(a.unet, a.schedule, NewAdapter(a.unet), SmallOptions());
  for (int step = 0; step < 6; ++step)
  {
    straight.Step(*a.pairs);
  }
  const auto checkpoint = DiffusionTest::ScratchFolder("adaptation-resume") / "checkpoint.safetensors";
  {
    adaptation::AdaptationTrainer first(b.unet, b.schedule, NewAdapter(b.unet), SmallOptions());
    for (int step = 0; step < 3; ++step)
    {
      first.Step(*b.pairs);
    }
    first.SaveCheckpoint(checkpoint.string());
  } // the run is "killed"
  auto                          c = MakeSetup();
  adaptation::AdaptationTrainer resumed(c.unet, c.schedule, NewAdapter(c.unet), SmallOptions());
  resumed.LoadCheckpoint(checkpoint.string());
  EXPECT_EQ(resumed.StepCount(), 3);
  for (int step = 0; step < 3; ++step)
  {
    resumed.Step(*c.pairs);
  }
  const auto x = straight.Adapter()->NamedWeights();
  const auto y = resumed.Adapter()->NamedWeights();
  const auto ex = straight.EmaAdapter()->NamedWeights();
  const auto ey = resumed.EmaAdapter()->NamedWeights();
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    EXPECT_TRUE(torch::equal(x[i].second, y[i].second)) << x[i].first;
    EXPECT_TRUE(torch::equal(ex[i].second, ey[i].second)) << "ema " << x[i].first;
  }
}

TEST(AdaptationTrainer, LearnsAndLeavesTheCentralModelAlone)
{
  auto                       s = MakeSetup();
  std::vector<torch::Tensor> before;
  for (const auto & p : s.unet->parameters())
  {
    before.push_back(p.detach().clone());
  }
  auto options = SmallOptions();
  options.NumberOfSteps = 150;
  options.LearningRate = 1e-2;
  adaptation::AdaptationTrainer trainer(s.unet, s.schedule, NewAdapter(s.unet), options);

  // The conditioned loss on one fixed batch (fixed noise and timesteps), before and after.
  torch::manual_seed(5);
  torch::Tensor images, conditions;
  s.pairs->Get({ 0, 1, 2, 3, 4, 5, 6, 7 }, images, conditions);
  const auto x0 = images.to(torch::kFloat32) / 127.5 - 1.0;
  const auto noise = torch::randn(x0.sizes());
  const auto t = torch::randint(50, 950, { 8 }, torch::kLong);
  const auto fixedLoss = [&](const adaptation::GeneFiLMAdapter & adapter) {
    torch::NoGradGuard noGrad;
    const auto         modulator = adapter->Bind(conditions, torch::zeros({ 8 }, torch::kBool));
    const auto         out = s.unet->forward(s.schedule->AddNoise(x0, noise, t), t, modulator.get());
    return (out - noise).pow(2).mean().item<double>();
  };
  const double initial = fixedLoss(trainer.Adapter());
  for (unsigned int step = 0; step < options.NumberOfSteps; ++step)
  {
    trainer.Step(*s.pairs);
  }
  const double trained = fixedLoss(trainer.Adapter());
  std::cout << "fixed-batch loss: " << initial << " -> " << trained << std::endl;
  EXPECT_LT(trained, 0.9 * initial); // measured 1.067 -> 0.912 (a random central U-Net limits what FiLM can do)

  std::size_t k = 0;
  for (const auto & p : s.unet->parameters())
  {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_TRUE(torch::equal(p, before[k++]));
  }
}

TEST(AdaptationTrainer, WarmUpThenConstantLearningRate)
{
  auto s = MakeSetup();
  auto options = SmallOptions();
  options.NumberOfSteps = 1000;
  options.WarmupFraction = 0.03;
  options.LearningRate = 2e-4;
  adaptation::AdaptationTrainer trainer(s.unet, s.schedule, NewAdapter(s.unet), options);
  EXPECT_DOUBLE_EQ(trainer.LearningRate(0), 2e-4 / 30);
  EXPECT_DOUBLE_EQ(trainer.LearningRate(14), 2e-4 * 15 / 30);
  EXPECT_DOUBLE_EQ(trainer.LearningRate(29), 2e-4);
  EXPECT_DOUBLE_EQ(trainer.LearningRate(500), 2e-4);
}

TEST(AdaptationTrainer, RefusesBadSettingsAndInputs)
{
  const auto options = SmallOptions();
  auto       s = MakeSetup();
  for (const auto & change :
       std::vector<std::function<void(itk::AdaptationSettings &)>>{ [](auto & o) { o.ConditionDropout = 1.0; },
                                                                    [](auto & o) { o.NumberOfSteps = 0; },
                                                                    [](auto & o) { o.Schedule = "linear"; },
                                                                    [](auto & o) { o.EmaDecay = 1.0; } })
  {
    auto bad = options;
    change(bad);
    EXPECT_THROW(adaptation::AdaptationTrainer(s.unet, s.schedule, NewAdapter(s.unet), bad),
                 torchcore::ConfigurationError);
  }

  adaptation::AdaptationTrainer  trainer(s.unet, s.schedule, NewAdapter(s.unet), options);
  adaptation::TensorPairedSource wrongGenes(torch::zeros({ 4, 3, 16, 16 }, torch::kUInt8), torch::zeros({ 4, 11 }));
  EXPECT_THROW(trainer.Step(wrongGenes), torchcore::ConfigurationError);
  const auto             notACheckpoint = DiffusionTest::ScratchFolder("adaptation-bad") / "model.safetensors";
  torchcore::SafeTensors contents;
  contents.tensors.emplace_back("x", torch::zeros({ 2 }));
  torchcore::WriteSafeTensors(notACheckpoint.string(), contents);
  EXPECT_THROW(trainer.LoadCheckpoint(notACheckpoint.string()), torchcore::ModelFileError);
}

} // namespace
