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

// The training pieces both trainers share, each against a closed form computed here: AdamW's
// update (torch.optim.AdamW's formula, written out in double), its checkpoint round trip, the
// min-SNR-gamma loss weights, the learning-rate schedule, the patch value range and the dihedral
// augmentation.

#include "itkOptimization.h"
#include "itkDiffusionLoss.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

namespace
{
using namespace itk::diffusion;

/** torch.optim.AdamW on one scalar, step by step: decoupled decay, then bias-corrected moments. */
struct ScalarAdamW
{
  double p, m = 0.0, v = 0.0;
  int    t = 0;
  void
  Step(double g, double rate, const itk::torchcore::AdamWOptions & o)
  {
    ++t;
    p *= 1.0 - rate * o.weightDecay;
    m = o.beta1 * m + (1.0 - o.beta1) * g;
    v = o.beta2 * v + (1.0 - o.beta2) * g * g;
    const double mHat = m / (1.0 - std::pow(o.beta1, t));
    const double vHat = v / (1.0 - std::pow(o.beta2, t));
    p -= rate * mHat / (std::sqrt(vHat) + o.epsilon);
  }
};
} // namespace

TEST(Optimization, AdamWFollowsTorchsFormulaAndSkipsParametersWithoutGradient)
{
  const itk::torchcore::AdamWOptions options{ 0.8, 0.95, 1e-6, 0.1 };
  auto                               trained = torch::tensor({ 1.5, -0.25 }, torch::kFloat64);
  auto                               untouched = torch::tensor({ 3.0 }, torch::kFloat64);
  itk::torchcore::AdamW              optimizer({ trained, untouched }, options);
  ScalarAdamW                        first{ 1.5 }, second{ -0.25 };
  const double                       gradients[3][2] = { { 0.3, -2.0 }, { -0.1, 0.5 }, { 0.7, 0.0 } };
  const double                       rates[3] = { 0.01, 0.05, 0.02 };
  for (int step = 0; step < 3; ++step)
  {
    trained.mutable_grad() = torch::tensor({ gradients[step][0], gradients[step][1] }, torch::kFloat64);
    optimizer.Step(rates[step]);
    first.Step(gradients[step][0], rates[step], options);
    second.Step(gradients[step][1], rates[step], options);
    EXPECT_NEAR(trained[0].item<double>(), first.p, 1e-12) << "step " << step;
    EXPECT_NEAR(trained[1].item<double>(), second.p, 1e-12) << "step " << step;
  }
  EXPECT_EQ(optimizer.StepCount(), 3);
  EXPECT_EQ(untouched.item<double>(), 3.0); // no gradient: no decay, no update
}

TEST(Optimization, AdamWResumedFromItsSavedStateContinuesExactly)
{
  const itk::torchcore::AdamWOptions options;
  auto                               uninterrupted = torch::tensor({ 0.5, 2.0 });
  auto                               resumed = uninterrupted.clone();
  itk::torchcore::AdamW              a({ uninterrupted }, options);
  const auto                         gradientAt = [](int step) { return torch::tensor({ 0.1f * step, -0.3f + step }); };
  for (int step = 0; step < 2; ++step)
  {
    uninterrupted.mutable_grad() = gradientAt(step);
    a.Step(1e-2);
  }
  itk::torchcore::SafeTensors saved;
  a.Save(saved, { "w" }, "adam.");
  itk::torchcore::AdamW restored({ resumed }, options);
  resumed.detach().copy_(uninterrupted.detach());
  restored.Load(saved, { "w" }, "adam.", "memory");
  EXPECT_EQ(restored.StepCount(), 2);
  for (int step = 2; step < 4; ++step)
  {
    uninterrupted.mutable_grad() = gradientAt(step);
    resumed.mutable_grad() = gradientAt(step);
    a.Step(1e-2);
    restored.Step(1e-2);
  }
  EXPECT_TRUE(torch::equal(uninterrupted, resumed));
  EXPECT_THROW(restored.Load(itk::torchcore::SafeTensors{}, { "w" }, "adam.", "empty"), itk::torchcore::ModelFileError);
}

TEST(Optimization, MinSnrWeightsMatchTheirClosedForm)
{
  const std::vector<std::int64_t> steps{ 0, 10, 100, 500, 999 };
  const auto                      timesteps = torch::tensor(steps, torch::kLong);
  for (const std::string type : { "epsilon", "v_prediction", "sample" })
  {
    SchedulerConfig config;
    config.predictionType = type;
    NoiseSchedule schedule(config);
    const auto    weights = MinSnrWeights(*schedule, timesteps, 5.0).to(torch::kFloat64);
    const auto    ones = MinSnrWeights(*schedule, timesteps, 0.0);
    for (std::size_t i = 0; i < steps.size(); ++i)
    {
      // alpha-bar of the default linear schedule (betas 1e-4 .. 0.02 over 1000 steps), in double.
      double alphaBar = 1.0;
      for (std::int64_t s = 0; s <= steps[i]; ++s)
      {
        alphaBar *= 1.0 - (1e-4 + (0.02 - 1e-4) * static_cast<double>(s) / 999.0);
      }
      const double snr = alphaBar / (1.0 - alphaBar);
      const double clipped = std::min(snr, 5.0);
      const double expected =
        type == "epsilon" ? clipped / snr : (type == "v_prediction" ? clipped / (snr + 1) : clipped);
      EXPECT_NEAR(weights[i].item<double>(), expected, 1e-6 * expected) << type << " t=" << steps[i];
      EXPECT_EQ(ones[i].item<double>(), 1.0);
    }
  }
  // The loss is the weighted mean of per-sample mean squared errors.
  SchedulerConfig config;
  NoiseSchedule   schedule(config);
  const auto      target = torch::zeros({ 2, 1, 2, 2 });
  const auto      output = torch::stack({ torch::full({ 1, 2, 2 }, 1.0f), torch::full({ 1, 2, 2 }, 2.0f) });
  const auto      t = torch::tensor({ 0, 999 }, torch::kLong);
  const auto      w = MinSnrWeights(*schedule, t, 5.0);
  EXPECT_NEAR(MinSnrLoss(*schedule, output, target, t, 5.0).item<double>(),
              (w[0].item<double>() * 1.0 + w[1].item<double>() * 4.0) / 2.0,
              1e-6);
}

TEST(Optimization, EmaWarmsUpAsDiffusersDoes)
{
  // diffusers' EMAModel.get_decay: 0 at the first update, then min(decay, (1 + s) / (10 + s)), s = updates
  // before this one.
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.999, 1),
                   0.0); // diffusers' EMAModel: the first update copies the weights
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.999, 2), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.999, 1000), 1000.0 / 1009.0);
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.999, 100000), 0.999);
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.5, 3), 0.25); // the warm-up is below the decay
  EXPECT_DOUBLE_EQ(itk::torchcore::EmaDecayAt(0.5, 20), 0.5);

  // Parameters held at p: the average is p + (a0 - p) * prod(d_k), the initial weights' share
  // vanishing (after 800 updates below 1e-20, against 0.999^800 = 0.45 without the warm-up).
  auto                                     parameter = torch::full({ 3 }, 2.0, torch::kDouble);
  itk::torchcore::ExponentialMovingAverage average({ torch::zeros({ 3 }, torch::kDouble) }, 0.999);
  double                                   share = 1.0;
  for (std::int64_t update = 1; update <= 800; ++update)
  {
    average.Update({ parameter }, update);
    share *= itk::torchcore::EmaDecayAt(0.999, update);
  }
  EXPECT_LT(share, 2e-3);
  EXPECT_NEAR(average.Averages()[0][0].item<double>(), 2.0 * (1.0 - share), 1e-12);
}

TEST(Optimization, WarmupThenConstantOrCosine)
{
  EXPECT_DOUBLE_EQ(itk::torchcore::WarmupLearningRate(0, 1e-3, 10, 110, "cosine"), 1e-4);
  EXPECT_DOUBLE_EQ(itk::torchcore::WarmupLearningRate(9, 1e-3, 10, 110, "cosine"), 1e-3);
  EXPECT_DOUBLE_EQ(itk::torchcore::WarmupLearningRate(10, 1e-3, 10, 110, "cosine"), 1e-3);
  EXPECT_NEAR(itk::torchcore::WarmupLearningRate(60, 1e-3, 10, 110, "cosine"), 0.5e-3, 1e-15);
  EXPECT_NEAR(itk::torchcore::WarmupLearningRate(110, 1e-3, 10, 110, "cosine"), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(itk::torchcore::WarmupLearningRate(500, 1e-3, 10, 110, "constant"), 1e-3);
}

TEST(Optimization, PatchesMapToTheModelRangeAndAugmentationIsADihedralMap)
{
  const auto bytes = torch::tensor({ 0, 255, 51 }, torch::kUInt8);
  const auto mapped = PatchesToModelRange(bytes);
  EXPECT_EQ(mapped.scalar_type(), torch::kFloat32);
  EXPECT_FLOAT_EQ(mapped[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(mapped[1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(mapped[2].item<float>(), -0.6f);
  const auto already = torch::tensor({ 0.25f });
  EXPECT_TRUE(torch::equal(PatchesToModelRange(already), already));

  // Every augmented image is one of the eight symmetries of the square applied to its own input,
  // and over many draws all eight occur.
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto images = torch::arange(64 * 2 * 9, torch::kFloat32).reshape({ 64, 2, 3, 3 });
  const auto augmented = itk::torchcore::AugmentDihedral(images, generator);
  ASSERT_EQ(augmented.sizes(), images.sizes());
  std::vector<bool> seen(8, false);
  for (std::int64_t i = 0; i < images.size(0); ++i)
  {
    int match = -1;
    for (int symmetry = 0; symmetry < 8 && match < 0; ++symmetry)
    {
      auto candidate = symmetry >= 4 ? images[i].flip({ 2 }) : images[i];
      candidate = torch::rot90(candidate, symmetry % 4, { 1, 2 });
      if (torch::equal(candidate, augmented[i]))
      {
        match = symmetry;
      }
    }
    ASSERT_GE(match, 0) << "image " << i << " is not a dihedral image of its input";
    seen[match] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 8);
  const auto drawn = itk::torchcore::DrawBatchIndices(5, 1000, generator);
  EXPECT_EQ(drawn.size(), 1000u);
  EXPECT_EQ(*std::min_element(drawn.begin(), drawn.end()), 0);
  EXPECT_EQ(*std::max_element(drawn.begin(), drawn.end()), 4);
}
