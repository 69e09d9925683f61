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

// Batched prediction: the same numbers as one eval-mode forward pass whatever the batch size,
// progress per batch, the caller's training mode kept, and bad input refused.

#include "itkRegressionTestUtilities.h"
#include "itkRegressorPrediction.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace
{
using itk::regression::ResNet;

TEST(RegressorPrediction, BatchesAgreeWithOneEvalForwardPass)
{
  torch::set_num_threads(1);
  torch::manual_seed(0);
  ResNet net(itk::RegressionTest::Config(18, 4));
  // Running statistics far from the initial ones: a train-mode pass would give other numbers.
  itk::RegressionTest::DisturbBatchNorms(net);
  const auto    patches = itk::RegressionTest::RandomPatches(7, 24, 3);
  torch::Tensor expected;
  torch::Tensor features;
  {
    net->eval();
    torch::NoGradGuard noGrad;
    const auto         input = patches.permute({ 0, 3, 1, 2 }).to(torch::kFloat32) / 255.0;
    expected = net->forward(input);
    features = net->Features(input);
  }
  net->train();
  for (const std::int64_t batch : { 1, 3, 7, 100 })
  {
    std::vector<std::int64_t> done;
    const auto                predicted =
      itk::regression::PredictExpression(net, patches, batch, "cpu", [&](std::int64_t d, std::int64_t total) {
        EXPECT_EQ(total, 7);
        done.push_back(d);
      });
    ASSERT_EQ(predicted.sizes(), (std::vector<std::int64_t>{ 7, 4 }));
    EXPECT_LE((predicted - expected).abs().max().item<double>(), 1e-5) << "batch " << batch;
    EXPECT_EQ(static_cast<std::int64_t>(done.size()), (7 + batch - 1) / batch);
    EXPECT_EQ(done.back(), 7);
    EXPECT_TRUE(net->is_training());
    // An ordinary tensor, which the caller may change.
    EXPECT_FALSE(predicted.is_inference());
    predicted.mul_(2.0);
  }
  const auto pooled = itk::regression::PredictFeatures(net, patches, 2, "cpu");
  ASSERT_EQ(pooled.sizes(), (std::vector<std::int64_t>{ 7, 512 }));
  EXPECT_LE((pooled - features).abs().max().item<double>(), 1e-5);
  // Both outputs from one pass agree with the two single-output passes; what is not asked stays undefined.
  const auto both = itk::regression::Predict(net, patches, 3, "cpu", {}, true, true);
  EXPECT_LE((both.expression - expected).abs().max().item<double>(), 1e-5);
  EXPECT_LE((both.features - features).abs().max().item<double>(), 1e-5);
  EXPECT_FALSE(itk::regression::Predict(net, patches, 3, "cpu", {}, true, false).features.defined());
  EXPECT_EQ(itk::regression::PredictExpression(net, patches.narrow(0, 0, 0), 4, "cpu").sizes(),
            (std::vector<std::int64_t>{ 0, 4 }));
}

TEST(RegressorPrediction, RefusesBadInput)
{
  torch::set_num_threads(1);
  ResNet     net(itk::RegressionTest::Config(18, 2));
  const auto patches = itk::RegressionTest::RandomPatches(2, 16, 0);
  using itk::torchcore::ConfigurationError;
  EXPECT_THROW(itk::regression::PredictExpression(net, patches.to(torch::kFloat32), 2, "cpu"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::PredictExpression(net, patches.permute({ 0, 3, 1, 2 }), 2, "cpu"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::PredictExpression(net, itk::RegressionTest::RandomPatches(2, 8, 0), 2, "cpu"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::PredictExpression(net, patches, 0, "cpu"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::PredictFeatures(net, patches, 2, "gpu"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(itk::regression::PredictFeatures(net, torch::Tensor(), 2, "cpu"), itk::torchcore::ConfigurationError);
}
} // namespace
