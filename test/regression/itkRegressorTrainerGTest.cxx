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

// The regressor's training: batch drawing from real and synthetic pools, the losses against their
// closed forms, learning a known function of the image, bit-identical resumption, and the refusal of
// bad input.

#include "itkRegressionTestUtilities.h"
#include "itkRegressorPrediction.h"
#include "itkRegressorTrainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace
{
namespace fs = std::filesystem;
using itk::torchcore::ConfigurationError;
using itk::torchcore::ModelFileError;
using itk::regression::RegressorTrainer;
using itk::RegressorTrainingSettings;
using itk::regression::ResNet;

/** The share of synthetic elements (index >= realCount) in a large draw. */
double
SyntheticShare(const std::vector<std::int64_t> & indices, std::int64_t realCount)
{
  return static_cast<double>(std::count_if(indices.begin(), indices.end(), [=](auto i) { return i >= realCount; })) /
         static_cast<double>(indices.size());
}

/** Patches whose two "genes" are known functions of the image: the mean red value, and the fraction
 * of dark pixels. Each patch has a base colour (channels in [0.3, 0.9]) with +-0.05 noise, and a random
 * share (0 to 60%) of its pixels darkened to a fifth of it (mean below 0.2, all others above 0.25). */
std::pair<torch::Tensor, torch::Tensor>
KnownFunctionPatches(std::int64_t count, std::uint64_t seed)
{
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto base = torch::rand({ count, 1, 1, 3 }, generator) * 0.6 + 0.3;
  const auto noise = (torch::rand({ count, 32, 32, 3 }, generator) - 0.5) * 0.1;
  const auto share = torch::rand({ count, 1, 1, 1 }, generator) * 0.6;
  const auto dark = torch::rand({ count, 32, 32, 1 }, generator).lt(share);
  const auto colour = torch::where(dark, base * 0.2, base + noise);
  const auto patches = (colour * 255.0).round().clamp(0, 255).to(torch::kUInt8);
  const auto values = patches.to(torch::kFloat32) / 255.0;
  const auto red = values.select(3, 0).mean({ 1, 2 });
  const auto darkShare = values.mean(3).lt(0.2).to(torch::kFloat32).mean({ 1, 2 });
  return { patches, torch::stack({ red, darkShare }, 1) };
}

RegressorTrainingSettings
SmallOptions()
{
  RegressorTrainingSettings options;
  options.NumberOfSteps = 6;
  options.BatchSize = 4;
  options.LearningRate = 1e-3;
  return options;
}

class RegressorTraining : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    torch::set_num_threads(1);
    m_Folder = itk::RegressionTest::ScratchFolder("regressor-trainer");
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  fs::path m_Folder;
};

TEST(RegressorBatchDrawing, HonoursTheSyntheticFraction)
{
  auto               generator = at::make_generator<at::CPUGeneratorImpl>(5);
  const std::int64_t draws = 20000;
  const std::int64_t real = 30;
  const std::int64_t synthetic = 90;
  // Uniform over the union: 90 / 120 synthetic. Bounds are about 5 standard deviations
  // (sqrt(p (1 - p) / 20000) = 0.003).
  auto union_ = itk::regression::DrawRegressionBatch(real, synthetic, draws, -1.0, generator);
  ASSERT_EQ(static_cast<std::int64_t>(union_.size()), draws);
  EXPECT_NEAR(SyntheticShare(union_, real), 0.75, 0.016);
  std::vector<std::int64_t> counts(real + synthetic, 0);
  for (const auto index : union_)
  {
    ASSERT_GE(index, 0);
    ASSERT_LT(index, real + synthetic);
    ++counts[index];
  }
  // 166.7 expected per index; each within about 6 standard deviations (sqrt(166) = 13).
  EXPECT_GT(*std::min_element(counts.begin(), counts.end()), 90);
  EXPECT_LT(*std::max_element(counts.begin(), counts.end()), 250);

  const auto mixed = itk::regression::DrawRegressionBatch(real, synthetic, draws, 0.3, generator);
  EXPECT_NEAR(SyntheticShare(mixed, real), 0.3, 0.016);
  std::vector<std::int64_t> perPool(real + synthetic, 0);
  for (const auto index : mixed)
  {
    ++perPool[index];
  }
  // Uniform inside each pool: 0.7 * 20000 / 30 = 467 per real index, 0.3 * 20000 / 90 = 67 per synthetic one.
  EXPECT_GT(*std::min_element(perPool.begin(), perPool.begin() + real), 467 - 130);
  EXPECT_LT(*std::max_element(perPool.begin(), perPool.begin() + real), 467 + 130);
  EXPECT_GT(*std::min_element(perPool.begin() + real, perPool.end()), 67 - 50);
  EXPECT_LT(*std::max_element(perPool.begin() + real, perPool.end()), 67 + 50);

  EXPECT_EQ(SyntheticShare(itk::regression::DrawRegressionBatch(real, synthetic, 1000, 0.0, generator), real), 0.0);
  EXPECT_EQ(SyntheticShare(itk::regression::DrawRegressionBatch(real, synthetic, 1000, 1.0, generator), real), 1.0);
  EXPECT_EQ(SyntheticShare(itk::regression::DrawRegressionBatch(real, 0, 1000, -1.0, generator), real), 0.0);
  EXPECT_EQ(SyntheticShare(itk::regression::DrawRegressionBatch(0, synthetic, 1000, -1.0, generator), 0), 1.0);

  // The same generator state draws the same batch.
  auto first = at::make_generator<at::CPUGeneratorImpl>(9);
  auto second = at::make_generator<at::CPUGeneratorImpl>(9);
  EXPECT_EQ(itk::regression::DrawRegressionBatch(real, synthetic, 64, 0.5, first),
            itk::regression::DrawRegressionBatch(real, synthetic, 64, 0.5, second));

  // A pool that would be drawn from must not be empty.
  EXPECT_THROW(itk::regression::DrawRegressionBatch(0, 0, 4, -1.0, generator), itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::DrawRegressionBatch(real, 0, 4, 0.5, generator), itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::DrawRegressionBatch(0, synthetic, 4, 0.5, generator),
               itk::torchcore::ConfigurationError);
  EXPECT_NO_THROW(itk::regression::DrawRegressionBatch(real, 0, 4, 0.0, generator));
  EXPECT_NO_THROW(itk::regression::DrawRegressionBatch(0, synthetic, 4, 1.0, generator));
}

TEST(RegressorLoss, EqualsTheClosedForms)
{
  const auto output = torch::tensor({ { 1.0f, 2.0f }, { 3.0f, -4.0f } });
  const auto target = torch::tensor({ { 0.0f, 4.0f }, { 3.5f, 0.0f } });
  // |1| + |-2| + |-0.5| + |-4| = 7.5 over 4; 1 + 4 + 0.25 + 16 = 21.25 over 4.
  EXPECT_FLOAT_EQ(itk::regression::RegressionLoss(output, target, "mae").item<float>(), 7.5f / 4.0f);
  EXPECT_FLOAT_EQ(itk::regression::RegressionLoss(output, target, "mse").item<float>(), 21.25f / 4.0f);
  EXPECT_THROW(itk::regression::RegressionLoss(output, target, "huber"), itk::torchcore::ConfigurationError);
}

TEST_F(RegressorTraining, StepReturnsTheLossOfItsBatch)
{
  // The loss Step reports is the closed form, computed here element by element, of the batch it
  // draws (replayed from the same seed) through the network as it was before the update.
  const auto images = itk::RegressionTest::RandomPatches(5, 32, 1);
  const auto targets = torch::rand({ 5, 2 });
  for (const std::string loss : { "mae", "mse" })
  {
    torch::manual_seed(0);
    ResNet net(itk::RegressionTest::Config(18, 2));
    auto   before = ResNet(std::dynamic_pointer_cast<itk::regression::ResNetImpl>(net->clone()));
    auto   options = SmallOptions();
    options.Loss = loss;
    options.Augment = false;
    options.Seed = 17;
    RegressorTrainer trainer(net, options, images, targets);
    const double     reported = trainer.Step();

    auto       generator = at::make_generator<at::CPUGeneratorImpl>(17);
    const auto indices = torch::tensor(itk::regression::DrawRegressionBatch(5, 0, 4, -1.0, generator), torch::kLong);
    before->train();
    torch::NoGradGuard noGrad;
    const auto         output =
      before->forward(images.index_select(0, indices).permute({ 0, 3, 1, 2 }).to(torch::kFloat32) / 255.0);
    const auto target = targets.index_select(0, indices);
    double     sum = 0.0;
    for (std::int64_t i = 0; i < 4; ++i)
    {
      for (std::int64_t g = 0; g < 2; ++g)
      {
        const double difference = output[i][g].item<double>() - target[i][g].item<double>();
        sum += loss == "mae" ? std::abs(difference) : difference * difference;
      }
    }
    EXPECT_NEAR(reported, sum / 8.0, 1e-5 * std::max(1.0, sum / 8.0)) << loss;
    EXPECT_EQ(trainer.CurrentStep(), 1);
  }
}

TEST_F(RegressorTraining, LearnsAKnownFunctionOfTheImage)
{
  const auto train = KnownFunctionPatches(256, 1);
  const auto test = KnownFunctionPatches(64, 2);
  torch::manual_seed(0);
  ResNet net(itk::RegressionTest::Config(18, 2));
  auto   options = SmallOptions();
  options.NumberOfSteps = 150;
  options.BatchSize = 16;
  options.LearningRate = 3e-3;
  std::int64_t     calls = 0;
  RegressorTrainer trainer(net, options, train.first, train.second);
  trainer.Run([&](std::int64_t step, std::int64_t total, double) {
    ++calls;
    EXPECT_EQ(total, 150);
    EXPECT_EQ(step, calls);
  });
  EXPECT_EQ(calls, 150);
  EXPECT_FALSE(net->is_training());
  const auto predicted = itk::regression::PredictExpression(net, test.first, 32, "cpu");
  const auto mae = (predicted - test.second).abs().mean(0);
  const auto baseline = (train.second.mean(0, true) - test.second).abs().mean(0);
  // Both genes at most 40% of the predict-the-mean MAE (measured on 1 thread: 0.034 and 0.041 against
  // 0.127 and 0.162, ratios 0.26 and 0.25).
  EXPECT_LT(mae[0].item<double>(), 0.4 * baseline[0].item<double>());
  EXPECT_LT(mae[1].item<double>(), 0.4 * baseline[1].item<double>());
}

TEST_F(RegressorTraining, ResumedRunEqualsUninterruptedRunBitForBit)
{
  const auto real = itk::RegressionTest::RandomPatches(6, 16, 1);
  const auto synthetic = itk::RegressionTest::RandomPatches(9, 16, 2);
  const auto realTargets = torch::rand({ 6, 3 });
  const auto syntheticTargets = torch::rand({ 9, 3 });
  const auto checkpoint = (m_Folder / "checkpoint.safetensors").string();
  auto       options = SmallOptions();
  options.SyntheticFraction = 0.5;
  options.Seed = 4;

  torch::manual_seed(1);
  ResNet           uninterrupted(itk::RegressionTest::Config(18, 3));
  RegressorTrainer first(uninterrupted, options, real, realTargets, synthetic, syntheticTargets);
  EXPECT_TRUE(std::isnan(first.LastLoss()));
  first.Run();

  options.CheckpointFileName = checkpoint;
  options.CheckpointInterval = 3;
  torch::manual_seed(1);
  {
    ResNet           killed(itk::RegressionTest::Config(18, 3));
    RegressorTrainer trainer(killed, options, real, realTargets, synthetic, syntheticTargets);
    for (int i = 0; i < 3; ++i)
    {
      trainer.Step();
    }
    trainer.SaveCheckpoint(checkpoint);
    // The run goes on past its checkpoint and dies: that work is lost, nothing else.
    trainer.Step();
  }
  torch::manual_seed(99); // other initial weights: everything must come from the checkpoint
  ResNet resumed(itk::RegressionTest::Config(18, 3));
  options.Resume = true;
  RegressorTrainer trainer(resumed, options, real, realTargets, synthetic, syntheticTargets);
  EXPECT_EQ(trainer.CurrentStep(), 3);
  trainer.Run();
  EXPECT_EQ(trainer.CurrentStep(), 6);
  // Bit-identical: parameters, BatchNorm running statistics and counters, and the last loss.
  EXPECT_EQ(itk::RegressionTest::StateDifference(uninterrupted, resumed), 0.0);
  EXPECT_EQ(trainer.LastLoss(), first.LastLoss());
  // Resumed once more after the last step (a run killed before it wrote its model): nothing to
  // train, and the last loss is still the uninterrupted run's, read from the checkpoint.
  {
    ResNet           finished(itk::RegressionTest::Config(18, 3));
    RegressorTrainer again(finished, options, real, realTargets, synthetic, syntheticTargets);
    EXPECT_EQ(again.CurrentStep(), 6);
    again.Run();
    EXPECT_EQ(again.LastLoss(), first.LastLoss());
    EXPECT_EQ(itk::RegressionTest::StateDifference(uninterrupted, finished), 0.0);
  }
  // The training moved the weights (so the equality is not that of two untouched models).
  torch::manual_seed(1);
  EXPECT_GT(itk::RegressionTest::StateDifference(ResNet(itk::RegressionTest::Config(18, 3)), resumed), 1e-4);

  // A checkpoint of another run is refused, saying why.
  auto other = options;
  other.BatchSize = 5;
  EXPECT_THROW(
    RegressorTrainer(ResNet(itk::RegressionTest::Config(18, 3)), other, real, realTargets, synthetic, syntheticTargets),
    itk::torchcore::ModelFileError);
  EXPECT_THROW(RegressorTrainer(ResNet(itk::RegressionTest::Config(18, 3)), options, real, realTargets),
               itk::torchcore::ConfigurationError); // fraction 0.5 without synthetic pairs
  try
  {
    RegressorTrainer(ResNet(itk::RegressionTest::Config(18, 3)),
                     options,
                     real.narrow(0, 0, 5),
                     realTargets.narrow(0, 0, 5),
                     synthetic,
                     syntheticTargets);
    ADD_FAILURE() << "no ModelFileError";
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find("6 real and 9 synthetic"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RegressorTrainer(
                 ResNet(itk::RegressionTest::Config(34, 3)), options, real, realTargets, synthetic, syntheticTargets),
               itk::torchcore::ModelFileError);
  // A fresh start when asked to resume from a checkpoint that does not exist yet.
  options.CheckpointFileName = (m_Folder / "absent.safetensors").string();
  EXPECT_EQ(RegressorTrainer(
              ResNet(itk::RegressionTest::Config(18, 3)), options, real, realTargets, synthetic, syntheticTargets)
              .CurrentStep(),
            0);
}

TEST_F(RegressorTraining, LearningRateWarmsUpThenFollowsItsSchedule)
{
  auto options = SmallOptions();
  options.NumberOfSteps = 100;
  options.WarmupFraction = 0.1;
  RegressorTrainer cosine(ResNet(itk::RegressionTest::Config(18, 1)),
                          options,
                          itk::RegressionTest::RandomPatches(2, 16, 0),
                          torch::zeros({ 2, 1 }));
  EXPECT_DOUBLE_EQ(cosine.LearningRate(0), 1e-4);
  EXPECT_DOUBLE_EQ(cosine.LearningRate(9), 1e-3);
  EXPECT_NEAR(cosine.LearningRate(55), 0.5e-3, 1e-12);
  EXPECT_NEAR(cosine.LearningRate(100), 0.0, 1e-12);
}

TEST_F(RegressorTraining, RefusesBadInput)
{
  const auto net = [] { return ResNet(itk::RegressionTest::Config(18, 2)); };
  const auto images = itk::RegressionTest::RandomPatches(4, 16, 0);
  const auto targets = torch::rand({ 4, 2 });
  const auto options = SmallOptions();
  const auto refused = [&](torch::Tensor             i,
                           torch::Tensor             t,
                           torch::Tensor             si = {},
                           torch::Tensor             st = {},
                           RegressorTrainingSettings o = SmallOptions()) -> std::string {
    try
    {
      RegressorTrainer(net(), o, i, t, si, st);
    }
    catch (const itk::torchcore::ConfigurationError & e)
    {
      return e.what();
    }
    return "accepted";
  };
  auto nan = targets.clone();
  nan[2][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(refused(images, nan).find("NaN"), std::string::npos);
  EXPECT_NE(refused(images, targets.narrow(0, 0, 3)).find("one row per image"), std::string::npos);
  EXPECT_NE(refused(images, torch::rand({ 4, 3 })).find("3 genes"), std::string::npos);
  EXPECT_NE(refused(images.to(torch::kFloat32), targets).find("uint8"), std::string::npos);
  EXPECT_NE(refused(images.permute({ 0, 3, 1, 2 }), targets).find("uint8 [N, H, W, 3]"), std::string::npos);
  EXPECT_NE(refused(itk::RegressionTest::RandomPatches(4, 12, 0), targets).find("at least 16"), std::string::npos);
  EXPECT_NE(refused(images.narrow(1, 0, 15).contiguous(), targets).find("square"), std::string::npos);
  EXPECT_NE(refused(images, targets, itk::RegressionTest::RandomPatches(4, 32, 0), targets).find("one patch size"),
            std::string::npos);
  EXPECT_NE(refused(images, targets, images).find("both images and targets"), std::string::npos);
  const auto none = images.narrow(0, 0, 0);
  const auto noTargets = targets.narrow(0, 0, 0);
  EXPECT_NE(refused(none, noTargets).find("both empty"), std::string::npos);
  auto half = options;
  half.SyntheticFraction = 0.5;
  EXPECT_NE(refused(images, targets, {}, {}, half).find("needs synthetic pairs"), std::string::npos);
  EXPECT_NE(refused(none, noTargets, images, targets, half).find("needs real pairs"), std::string::npos);
  // Synthetic pairs alone are enough when nothing asks for real ones.
  EXPECT_EQ(refused(none, noTargets, images, targets), "accepted");
  for (const auto & change :
       std::vector<std::function<void(RegressorTrainingSettings &)>>{ [](auto & o) { o.Loss = "huber"; },
                                                                      [](auto & o) { o.BatchSize = 1; },
                                                                      [](auto & o) { o.Schedule = "linear"; },
                                                                      [](auto & o) { o.SyntheticFraction = 1.5; },
                                                                      [](auto & o) { o.Resume = true; },
                                                                      [](auto & o) { o.Device = "tpu"; },
                                                                      [](auto & o) { o.LearningRate = 0.0; } })
  {
    auto bad = options;
    change(bad);
    EXPECT_NE(refused(images, targets, {}, {}, bad), "accepted");
  }
}
} // namespace
