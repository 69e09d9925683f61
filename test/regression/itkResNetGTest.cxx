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

// The regressor's ResNet: agreement with torchvision's resnet18 and resnet50 (outputs, pooled
// features, state_dict names), any patch size from 16 pixels, its config, and deep copies.

#include "itkRegressionTestUtilities.h"
#include "itkRegressorModelFile.h"
#include "itkRegressorPrediction.h"
#include "itkResNet.h"
#include "itkSafeTensors.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <set>

namespace
{
namespace fs = std::filesystem;
using itk::regression::ResNet;
using itk::regression::ResNetConfig;

/** Runs resnet_reference.py (torchvision) once per test process. */
class ResNetTorchvision : public ::testing::Test
{
protected:
  static void
  SetUpTestSuite()
  {
    s_Folder = itk::RegressionTest::ScratchFolder("resnet-reference").string();
    const std::string command =
      std::string(REGRESSION_PYTHON) + " " + REGRESSION_REFERENCE_SCRIPT + " " + s_Folder + " > /dev/null 2>&1";
    const int status = std::system(command.c_str());
    s_Status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    torch::set_num_threads(1);
  }
  static void
  TearDownTestSuite()
  {
    fs::remove_all(s_Folder);
  }
  void
  SetUp() override
  {
    if (s_Status == 3)
    {
      GTEST_SKIP() << "torchvision is not installed for " << REGRESSION_PYTHON;
    }
    ASSERT_EQ(s_Status, 0) << "resnet_reference.py failed: is PyTorch installed for " << REGRESSION_PYTHON << "?";
  }

  /** A regressor with torchvision's weights: the backbone by LoadTorchvisionBackbone, then the head. */
  static ResNet
  TorchvisionRegressor(int depth)
  {
    ResNet     net(itk::RegressionTest::Config(depth, 5));
    const auto weights = Weights(depth);
    itk::regression::LoadTorchvisionBackbone(net, WeightsFile(depth));
    torch::NoGradGuard noGrad;
    for (auto & named : net->named_parameters())
    {
      if (named.key().rfind("fc.", 0) == 0)
      {
        named.value().copy_(weights.Find(named.key()));
      }
    }
    net->eval();
    return net;
  }
  static std::string
  WeightsFile(int depth)
  {
    return s_Folder + "/resnet" + std::to_string(depth) + ".safetensors";
  }
  static itk::torchcore::SafeTensors
  Weights(int depth)
  {
    return itk::torchcore::ReadSafeTensors(WeightsFile(depth));
  }
  static itk::torchcore::SafeTensors
  Io(int depth)
  {
    return itk::torchcore::ReadSafeTensors(s_Folder + "/resnet" + std::to_string(depth) + "_io.safetensors");
  }

  /** Output, features and prediction of uint8 patches against torchvision's, as max |difference|. */
  static void
  ExpectAgreement(int depth)
  {
    auto               net = TorchvisionRegressor(depth);
    const auto         io = Io(depth);
    torch::NoGradGuard noGrad;
    const auto         output = net->forward(io.Find("images"));
    const auto         features = net->Features(io.Find("images"));
    ASSERT_EQ(output.sizes(), io.Find("expected").sizes());
    ASSERT_EQ(features.sizes(), io.Find("features").sizes());
    // float32 through 18 or 50 layers: torchvision and this net run the same kernels, in the same
    // order; 1e-4 leaves room for a different summation order in a kernel.
    EXPECT_LE((output - io.Find("expected")).abs().max().item<double>(), 1e-4);
    EXPECT_LE((features - io.Find("features")).abs().max().item<double>(), 1e-4);
    // The outputs are not trivially small (the bound would then say nothing).
    EXPECT_GT(io.Find("expected").abs().max().item<double>(), 0.1);
    const auto predicted = itk::regression::PredictExpression(net, io.Find("patches"), 1, "cpu");
    EXPECT_LE((predicted - io.Find("expected")).abs().max().item<double>(), 1e-4);
    const auto pooled = itk::regression::PredictFeatures(net, io.Find("patches"), 2, "cpu");
    EXPECT_LE((pooled - io.Find("features")).abs().max().item<double>(), 1e-4);
  }

  static std::string s_Folder;
  static int         s_Status;
};
std::string ResNetTorchvision::s_Folder;
int         ResNetTorchvision::s_Status = -1;

TEST_F(ResNetTorchvision, ResNet18AgreesWithTorchvision)
{
  ExpectAgreement(18);
}

TEST_F(ResNetTorchvision, ResNet50AgreesWithTorchvision)
{
  ExpectAgreement(50);
}

TEST_F(ResNetTorchvision, StateHasTorchvisionsNamesAndShapes)
{
  for (const int depth : { 18, 50 })
  {
    const auto                                       weights = Weights(depth);
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto & named : weights.tensors)
    {
      expected[named.first] = named.second.sizes().vec();
    }
    std::map<std::string, std::vector<std::int64_t>> actual;
    for (const auto & named : ResNet(itk::RegressionTest::Config(depth, 5))->NamedState())
    {
      actual[named.first] = named.second.sizes().vec();
    }
    EXPECT_EQ(actual, expected) << "ResNet-" << depth;
  }
  // The BatchNorm statistics came from the file too (torchvision's were randomised).
  const auto net = TorchvisionRegressor(18);
  const auto state = net->NamedState();
  const auto found = std::find_if(
    state.begin(), state.end(), [](const auto & named) { return named.first == "layer3.1.bn2.running_var"; });
  ASSERT_NE(found, state.end());
  EXPECT_TRUE(torch::equal(found->second, Weights(18).Find("layer3.1.bn2.running_var")));
}

TEST(ResNet, AnyPatchSizeFromSixteenPixels)
{
  torch::set_num_threads(1);
  torch::manual_seed(0);
  for (const int depth : { 18, 34, 50 })
  {
    ResNet net(itk::RegressionTest::Config(depth, 3));
    net->eval();
    EXPECT_EQ(net->NumberOfFeatures(), depth == 50 ? 2048 : 512);
    torch::NoGradGuard noGrad;
    for (const auto & size : std::vector<std::array<std::int64_t, 2>>{ { 16, 16 }, { 17, 23 }, { 40, 40 } })
    {
      const auto images = torch::rand({ 2, 3, size[0], size[1] });
      EXPECT_EQ(net->forward(images).sizes(), (std::vector<std::int64_t>{ 2, 3 }));
      EXPECT_EQ(net->Features(images).sizes(), (std::vector<std::int64_t>{ 2, net->NumberOfFeatures() }));
    }
  }
}

TEST(ResNet, NormalisesItsInput)
{
  // An image equal to the mean is zero after normalisation: the output of a net is then that of a
  // zero input with identity normalisation.
  torch::set_num_threads(1);
  torch::manual_seed(0);
  auto   config = itk::RegressionTest::Config(18, 2);
  ResNet net(config);
  auto   identity = config;
  identity.mean = { 0.0, 0.0, 0.0 };
  identity.std = { 1.0, 1.0, 1.0 };
  ResNet plain(identity);
  {
    torch::NoGradGuard noGrad;
    auto               target = plain->NamedState();
    const auto         source = net->NamedState();
    for (std::size_t i = 0; i < source.size(); ++i)
    {
      target[i].second.copy_(source[i].second);
    }
  }
  net->eval();
  plain->eval();
  torch::NoGradGuard noGrad;
  const auto         mean = torch::tensor({ 0.485f, 0.456f, 0.406f }).view({ 1, 3, 1, 1 }).expand({ 1, 3, 16, 16 });
  EXPECT_LE((net->forward(mean) - plain->forward(torch::zeros({ 1, 3, 16, 16 }))).abs().max().item<double>(), 1e-6);
}

TEST(ResNet, RefusesBadInput)
{
  torch::set_num_threads(1);
  ResNet net(itk::RegressionTest::Config(18, 2));
  EXPECT_THROW(net->forward(torch::zeros({ 1, 16, 16, 3 })), itk::torchcore::ConfigurationError);
  EXPECT_THROW(net->forward(torch::zeros({ 1, 3, 16, 16 }, torch::kUInt8)), itk::torchcore::ConfigurationError);
  EXPECT_THROW(net->forward(torch::zeros({ 3, 16, 16 })), itk::torchcore::ConfigurationError);
}

TEST(ResNet, ConfigRoundTripsAndValidates)
{
  auto config = itk::RegressionTest::Config(34, 250);
  config.mean = { 0.5, 0.4, 0.3 };
  config.std = { 0.2, 0.3, 0.4 };
  const auto back = ResNetConfig::FromJson(config.ToJson());
  EXPECT_EQ(back.ToJson(), config.ToJson());
  EXPECT_EQ(back.depth, 34);
  EXPECT_EQ(back.numberOfOutputs, 250);
  EXPECT_EQ(back.std[2], 0.4);
  using itk::torchcore::ConfigurationError;
  for (const auto & bad : { nlohmann::json{ { "depth", 101 }, { "number_of_outputs", 2 } },
                            nlohmann::json{ { "depth", 18 }, { "number_of_outputs", 0 } },
                            nlohmann::json{ { "depth", 18 } },
                            nlohmann::json{ { "depth", "18" }, { "number_of_outputs", 2 } },
                            nlohmann::json{ { "depth", 18 }, { "number_of_outputs", 2 }, { "in_channels", 4 } },
                            nlohmann::json{ { "depth", 18 }, { "number_of_outputs", 2 }, { "std", { 1, 0, 1 } } },
                            nlohmann::json::array() })
  {
    EXPECT_THROW(ResNetConfig::FromJson(bad), itk::torchcore::ConfigurationError) << bad.dump();
  }
  EXPECT_THROW(ResNet(ResNetConfig{}), itk::torchcore::ConfigurationError); // no outputs
}

TEST(ResNet, InferenceFoldsBatchNormIntoTheConvolutionsAndFoldsAgainAfterAChange)
{
  // ResNet-50 (bottlenecks and downsampling projections) with BatchNorm statistics far from the
  // identity: under InferenceMode the folded convolutions must give what the modules give with
  // autograd merely off, before and after the weights change in place.
  torch::set_num_threads(1);
  torch::manual_seed(4);
  ResNet net(itk::RegressionTest::Config(50, 3));
  itk::RegressionTest::DisturbBatchNorms(net);
  net->eval();
  const auto images = torch::rand({ 2, 3, 32, 32 });
  const auto unfolded = [&] {
    torch::NoGradGuard noGrad;
    return net->forward(images);
  };
  const auto folded = [&] {
    c10::InferenceMode inference;
    return net->forward(images).clone();
  };
  const auto before = unfolded();
  EXPECT_GT(before.abs().max().item<double>(), 0.1);
  EXPECT_LE((folded() - before).abs().max().item<double>(), 1e-4 * before.abs().max().item<double>());

  // In-place changes (what an optimizer step or a load does): the next inference folds again.
  {
    torch::NoGradGuard noGrad;
    for (auto & named : net->NamedState())
    {
      if (named.first == "bn1.weight" || named.first == "layer2.0.downsample.1.running_var" ||
          named.first == "layer4.2.conv3.weight")
      {
        named.second.mul_(1.5);
      }
    }
  }
  const auto after = unfolded();
  EXPECT_GT((after - before).abs().max().item<double>(), 1e-3);
  EXPECT_LE((folded() - after).abs().max().item<double>(), 1e-4 * after.abs().max().item<double>());
}

TEST(ResNet, CloneIsADeepCopy)
{
  torch::set_num_threads(1);
  ResNet     net(itk::RegressionTest::Config(18, 2));
  const auto copy = std::dynamic_pointer_cast<itk::regression::ResNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  ResNet cloned(copy);
  EXPECT_EQ(itk::RegressionTest::StateDifference(net, cloned), 0.0);
  {
    torch::NoGradGuard noGrad;
    net->NamedState().front().second.add_(1.0);
  }
  EXPECT_NEAR(itk::RegressionTest::StateDifference(net, cloned), 1.0, 1e-5);
  EXPECT_EQ(cloned->Config().ToJson(), net->Config().ToJson());
}
} // namespace
