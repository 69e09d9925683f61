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

// The regressor's single file: a bit-identical round trip with its metadata, the refusal of other
// and hostile files, and the loading of a torchvision backbone.

#include "itkDiffusionModelFile.h"
#include "itkRegressionTestUtilities.h"
#include "itkRegressorModelFile.h"
#include "itkSafeTensors.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <fstream>

namespace
{
namespace fs = std::filesystem;
using itk::torchcore::ModelFileError;
using itk::torchcore::SafeTensors;
using itk::regression::LoadRegressor;
using itk::regression::RegressorMetadata;
using itk::regression::ResNet;

/** A ResNet-18 regressor of 3 genes whose BatchNorm statistics are not the initial ones. */
ResNet
TrainedLookingNet()
{
  torch::manual_seed(3);
  ResNet             net(itk::RegressionTest::Config(18, 3));
  torch::NoGradGuard noGrad;
  for (auto & named : net->named_buffers())
  {
    if (named.value().is_floating_point())
    {
      named.value().uniform_(0.5, 1.5);
    }
    else
    {
      named.value().fill_(12);
    }
  }
  return net;
}

RegressorMetadata
Metadata(const ResNet & net)
{
  RegressorMetadata metadata;
  metadata.config = net->Config();
  metadata.genes = { "ERBB2", "GAPDH", "\"odd\" name é" };
  metadata.preprocessing = R"({"normalization":"library_size","log1p":true})";
  metadata.imageSize = 224;
  metadata.training = R"({"steps":1000,"loss":"mae","final_loss":0.25})";
  return metadata;
}

/** Expects \p call to throw ModelFileError whose message contains every one of \p words. */
template <typename Call>
void
ExpectRefusal(Call call, const std::vector<std::string> & words)
{
  try
  {
    call();
    ADD_FAILURE() << "no ModelFileError";
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    for (const auto & word : words)
    {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what() << " lacks \"" << word << "\"";
    }
  }
}

class RegressorModelFile : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    torch::set_num_threads(1);
    m_Folder = itk::RegressionTest::ScratchFolder("regressor-file");
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  std::string
  File(const std::string & name) const
  {
    return (m_Folder / name).string();
  }
  /** Saves a regressor, lets \p edit change its contents, writes them to \p name. */
  template <typename Edit>
  std::string
  Edited(const std::string & name, Edit edit)
  {
    auto net = TrainedLookingNet();
    itk::regression::SaveRegressor(File(name), net, Metadata(net));
    auto contents = itk::torchcore::ReadSafeTensors(File(name));
    edit(contents);
    itk::torchcore::WriteSafeTensors(File(name), contents);
    return File(name);
  }
  fs::path m_Folder;
};

TEST_F(RegressorModelFile, RoundTripIsBitIdenticalWithItsMetadata)
{
  auto       net = TrainedLookingNet();
  const auto metadata = Metadata(net);
  itk::regression::SaveRegressor(File("regressor.safetensors"), net, metadata);
  RegressorMetadata loaded;
  auto              back = LoadRegressor(File("regressor.safetensors"), loaded);
  EXPECT_EQ(itk::RegressionTest::StateDifference(net, back), 0.0);
  EXPECT_FALSE(back->is_training());
  EXPECT_EQ(loaded.config.ToJson(), metadata.config.ToJson());
  EXPECT_EQ(loaded.genes, metadata.genes);
  EXPECT_EQ(loaded.preprocessing, metadata.preprocessing);
  EXPECT_EQ(loaded.imageSize, 224);
  EXPECT_EQ(nlohmann::json::parse(loaded.training), nlohmann::json::parse(metadata.training));
  // Same outputs, and the buffers are where they should be (eval mode uses them).
  net->eval();
  torch::NoGradGuard noGrad;
  const auto         images = torch::rand({ 2, 3, 32, 32 });
  EXPECT_TRUE(torch::equal(net->forward(images), back->forward(images)));
  const auto contents = itk::torchcore::ReadSafeTensors(File("regressor.safetensors"));
  EXPECT_EQ(contents.metadata.at("format"), "c2l-gene-regressor");
  EXPECT_EQ(contents.Find("layer1.0.bn1.num_batches_tracked").scalar_type(), torch::kLong);
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(m_Folder), fs::directory_iterator()), 1);
}

TEST_F(RegressorModelFile, SaveRefusesInconsistentMetadata)
{
  auto net = TrainedLookingNet();
  auto metadata = Metadata(net);
  metadata.genes.pop_back();
  EXPECT_THROW(itk::regression::SaveRegressor(File("a.safetensors"), net, metadata),
               itk::torchcore::ConfigurationError);
  metadata = Metadata(net);
  metadata.config.depth = 34;
  EXPECT_THROW(itk::regression::SaveRegressor(File("a.safetensors"), net, metadata),
               itk::torchcore::ConfigurationError);
  metadata = Metadata(net);
  metadata.training = "{not json";
  EXPECT_THROW(itk::regression::SaveRegressor(File("a.safetensors"), net, metadata),
               itk::torchcore::ConfigurationError);
  EXPECT_FALSE(fs::exists(File("a.safetensors")));
}

TEST_F(RegressorModelFile, RefusesFilesOfOtherKinds)
{
  RegressorMetadata metadata;
  // A real diffusion model file.
  itk::diffusion::UNet2DConfig unet;
  unet.sampleSize = 16;
  unet.blockOutChannels = { 8, 16 };
  unet.downBlockTypes = { "DownBlock2D", "DownBlock2D" };
  unet.upBlockTypes = { "UpBlock2D", "UpBlock2D" };
  unet.layersPerBlock = 1;
  unet.normNumGroups = 4;
  itk::diffusion::SaveDiffusionModel(File("diffusion.safetensors"),
                                     itk::diffusion::UNet2D(unet),
                                     itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}));
  ExpectRefusal([&] { LoadRegressor(File("diffusion.safetensors"), metadata); },
                { File("diffusion.safetensors"), "diffusion model" });
  // A bare torchvision state_dict.
  itk::torchcore::SafeTensors bare;
  bare.tensors = TrainedLookingNet()->NamedState();
  itk::torchcore::WriteSafeTensors(File("bare.safetensors"), bare);
  ExpectRefusal([&] { LoadRegressor(File("bare.safetensors"), metadata); }, { "torchvision", "backbone" });
  // Another format, and a file that is no safetensors at all.
  const auto local =
    Edited("local.safetensors", [](itk::torchcore::SafeTensors & c) { c.metadata["format"] = "c2l-local-model"; });
  ExpectRefusal([&] { LoadRegressor(local, metadata); }, { "local gene-conditioned diffusion model" });
  std::ofstream(File("text.safetensors")) << "hello, I am not a model";
  EXPECT_THROW(LoadRegressor(File("text.safetensors"), metadata), itk::torchcore::ModelFileError);
  EXPECT_THROW(LoadRegressor(File("absent.safetensors"), metadata), itk::torchcore::ModelFileError);
}

TEST_F(RegressorModelFile, RefusesInconsistentRegressorFiles)
{
  RegressorMetadata metadata;
  const auto        wrongDepth = Edited("depth.safetensors", [](itk::torchcore::SafeTensors & c) {
    c.metadata["resnet_config"] = itk::RegressionTest::Config(34, 3).ToJson().dump();
  });
  ExpectRefusal([&] { LoadRegressor(wrongDepth, metadata); }, { wrongDepth, "layer1.2.conv1.weight", "ResNet-34" });

  const auto missing = Edited("missing.safetensors", [](itk::torchcore::SafeTensors & c) {
    c.tensors.erase(std::find_if(c.tensors.begin(), c.tensors.end(), [](const auto & named) {
      return named.first == "layer2.0.downsample.1.running_var";
    }));
  });
  ExpectRefusal([&] { LoadRegressor(missing, metadata); }, { missing, "layer2.0.downsample.1.running_var" });

  const auto shape = Edited("shape.safetensors", [](itk::torchcore::SafeTensors & c) {
    for (auto & named : c.tensors)
    {
      if (named.first == "fc.weight")
      {
        named.second = torch::zeros({ 4, 512 });
      }
    }
  });
  ExpectRefusal([&] { LoadRegressor(shape, metadata); }, { shape, "fc.weight", "[4, 512]", "[3, 512]" });

  const auto extra = Edited("extra.safetensors", [](itk::torchcore::SafeTensors & c) {
    c.tensors.emplace_back("layer5.0.conv1.weight", torch::zeros({ 1 }));
  });
  ExpectRefusal([&] { LoadRegressor(extra, metadata); }, { "layer5.0.conv1.weight" });

  const auto genes =
    Edited("genes.safetensors", [](itk::torchcore::SafeTensors & c) { c.metadata["genes"] = R"(["A","B"])"; });
  ExpectRefusal([&] { LoadRegressor(genes, metadata); }, { "2 genes for 3 outputs" });

  const auto garbled =
    Edited("garbled.safetensors", [](itk::torchcore::SafeTensors & c) { c.metadata["resnet_config"] = "{"; });
  ExpectRefusal([&] { LoadRegressor(garbled, metadata); }, { garbled, "metadata" });

  const auto noSize =
    Edited("size.safetensors", [](itk::torchcore::SafeTensors & c) { c.metadata.erase("image_size"); });
  ExpectRefusal([&] { LoadRegressor(noSize, metadata); }, { "image_size" });
  EXPECT_TRUE(metadata.genes.empty()); // untouched by the failures
}

TEST_F(RegressorModelFile, LoadsATorchvisionBackboneButNotItsHead)
{
  // A torchvision-named state_dict with ImageNet's 1000-class head and no num_batches_tracked (as
  // in state_dicts older than PyTorch 0.4.1).
  auto                        source = TrainedLookingNet();
  itk::torchcore::SafeTensors file;
  for (const auto & named : source->NamedState())
  {
    if (named.first.find("num_batches_tracked") == std::string::npos && named.first.rfind("fc.", 0) != 0)
    {
      file.tensors.push_back(named);
    }
  }
  file.tensors.emplace_back("fc.weight", torch::zeros({ 1000, 512 }));
  file.tensors.emplace_back("fc.bias", torch::zeros({ 1000 }));
  itk::torchcore::WriteSafeTensors(File("resnet18.safetensors"), file);

  torch::manual_seed(11);
  ResNet     net(itk::RegressionTest::Config(18, 3));
  const auto head = net->named_parameters()["fc.weight"].clone();
  itk::regression::LoadTorchvisionBackbone(net, File("resnet18.safetensors"));
  for (const auto & named : file.tensors)
  {
    if (named.first.rfind("fc.", 0) != 0)
    {
      const torch::Tensor loaded = named.first.find("running") != std::string::npos
                                     ? net->named_buffers()[named.first]
                                     : net->named_parameters()[named.first];
      EXPECT_TRUE(torch::equal(loaded, named.second)) << named.first;
    }
  }
  EXPECT_TRUE(torch::equal(net->named_parameters()["fc.weight"], head));

  // Another depth is named as such; a ResNet-50 is refused by a ResNet-18 and the other way round.
  ResNet deeper(itk::RegressionTest::Config(50, 3));
  ExpectRefusal([&] { itk::regression::LoadTorchvisionBackbone(deeper, File("resnet18.safetensors")); },
                { "ResNet-18", "ResNet-50" });
  itk::torchcore::SafeTensors fifty;
  fifty.tensors = deeper->NamedState();
  itk::torchcore::WriteSafeTensors(File("resnet50.safetensors"), fifty);
  ExpectRefusal([&] { itk::regression::LoadTorchvisionBackbone(net, File("resnet50.safetensors")); },
                { "holds a torchvision ResNet-50", "this regressor is a ResNet-18" });
  ResNet thirtyFour(itk::RegressionTest::Config(34, 3));
  ExpectRefusal([&] { itk::regression::LoadTorchvisionBackbone(thirtyFour, File("resnet18.safetensors")); },
                { "ResNet-18", "ResNet-34" });

  // Missing tensors are listed; a wrong shape is named; either leaves the net as it was.
  file.tensors.erase(file.tensors.begin(), file.tensors.begin() + 2);
  itk::torchcore::WriteSafeTensors(File("partial.safetensors"), file);
  const auto before = net->NamedState().front().second.clone();
  ExpectRefusal([&] { itk::regression::LoadTorchvisionBackbone(net, File("partial.safetensors")); },
                { "lacks 2 of its tensors", "conv1.weight", "bn1.weight" });
  file.tensors.insert(file.tensors.begin(), { "conv1.weight", torch::zeros({ 64, 3, 3, 3 }) });
  file.tensors.insert(file.tensors.begin(), { "bn1.weight", torch::zeros({ 64 }) });
  itk::torchcore::WriteSafeTensors(File("shape.safetensors"), file);
  ExpectRefusal([&] { itk::regression::LoadTorchvisionBackbone(net, File("shape.safetensors")); },
                { "conv1.weight", "[64, 3, 3, 3]", "[64, 3, 7, 7]" });
  EXPECT_TRUE(torch::equal(net->NamedState().front().second, before));
  // Not a ResNet at all.
  ExpectRefusal(
    [&] {
      itk::regression::LoadTorchvisionBackbone(
        net, Edited("r.safetensors", [](itk::torchcore::SafeTensors & c) {
          c.tensors.erase(std::remove_if(c.tensors.begin(),
                                         c.tensors.end(),
                                         [](const auto & n) { return n.first.rfind("layer", 0) == 0; }),
                          c.tensors.end());
        }));
    },
    { "not a torchvision ResNet" });
}
} // namespace
