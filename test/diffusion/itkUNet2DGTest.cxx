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

// The U-Net: agreement with an independent PyTorch model of the same architecture (both time
// embedding modes, attention, diffusers' and legacy names), the three ways a model is stored, and
// the errors for weights that do not fit the config.

#include "itkDiffusionModelFile.h"
#include "itkSHA256.h"
#include "itkDiffusionTestUtilities.h"
#include "itkUNet2D.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <fstream>
#include <set>

namespace
{
namespace fs = std::filesystem;
using itk::torchcore::ModelFileError;

/** Writes the reference models and outputs of unet_reference.py once per test process. */
class UNet2DReference : public ::testing::Test
{
protected:
  static void
  SetUpTestSuite()
  {
    s_Folder = itk::DiffusionTest::ScratchFolder("unet-reference").string();
    const std::string command =
      std::string(DIFFUSION_PYTHON) + " " + DIFFUSION_REFERENCE_SCRIPT + " " + s_Folder + " > /dev/null";
    s_Status = std::system(command.c_str());
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
    ASSERT_EQ(s_Status, 0) << "unet_reference.py failed: is PyTorch installed for " << DIFFUSION_PYTHON << "?";
  }

  /** max |C++ - reference| for the reference inputs, per sample and as one batch. */
  static double
  MaxDifference(itk::diffusion::UNet2D & unet, const std::string & name)
  {
    const auto         io = itk::torchcore::ReadSafeTensors(s_Folder + "/" + name + "_io.safetensors");
    torch::NoGradGuard noGrad;
    unet->eval();
    const auto batch = unet(io.Find("sample"), io.Find("timesteps"));
    double     difference = (batch - io.Find("expected")).abs().max().item<double>();
    for (std::int64_t i = 0; i < 2; ++i)
    {
      const auto single = unet(io.Find("sample").narrow(0, i, 1), io.Find("timesteps").narrow(0, i, 1));
      difference = std::max(difference, (single - io.Find("expected").narrow(0, i, 1)).abs().max().item<double>());
    }
    return difference;
  }

  static std::string s_Folder;
  static int         s_Status;
};
std::string UNet2DReference::s_Folder;
int         UNet2DReference::s_Status = -1;
} // namespace

TEST_F(UNet2DReference, ForwardMatchesPyTorchWithDefaultTimeEmbedding)
{
  auto model = itk::diffusion::LoadDiffusionModel(s_Folder + "/default.safetensors");
  EXPECT_EQ(model.unet->Config().resnetTimeScaleShift, "default");
  const auto difference = MaxDifference(model.unet, "default");
  EXPECT_LE(difference, 1e-4);
  // The outputs are not trivially small: a wrong network could not pass by accident.
  const auto io = itk::torchcore::ReadSafeTensors(s_Folder + "/default_io.safetensors");
  EXPECT_GT(io.Find("expected").abs().max().item<double>(), 0.1);
}

TEST_F(UNet2DReference, ForwardMatchesPyTorchWithScaleShiftAndLegacyNames)
{
  auto model = itk::diffusion::LoadDiffusionModel(s_Folder + "/scale_shift.safetensors");
  EXPECT_EQ(model.unet->Config().resnetTimeScaleShift, "scale_shift");
  EXPECT_EQ(model.unet->Config().blockOutChannels.size(), 3u);
  EXPECT_LE(MaxDifference(model.unet, "scale_shift"), 1e-4);
}

TEST_F(UNet2DReference, LoadsDiffusersModelAndPipelineFolders)
{
  auto folder = itk::diffusion::LoadDiffusionModel(s_Folder + "/default_model");
  EXPECT_LE(MaxDifference(folder.unet, "default"), 1e-4);
  // No scheduler config beside a bare model: DDPMScheduler's defaults.
  EXPECT_EQ(folder.schedule->NumTrainTimesteps(), 1000);

  auto pipeline = itk::diffusion::LoadDiffusionModel(s_Folder + "/scale_shift_pipeline");
  EXPECT_LE(MaxDifference(pipeline.unet, "scale_shift"), 1e-4);
  const auto & scheduler = pipeline.schedule->Config();
  EXPECT_EQ(scheduler.numTrainTimesteps, 500);
  EXPECT_EQ(scheduler.betaSchedule, "squaredcos_cap_v2");
  EXPECT_EQ(scheduler.predictionType, "v_prediction");
  EXPECT_EQ(scheduler.timestepSpacing, "trailing");
  EXPECT_FALSE(scheduler.clipSample);
  EXPECT_EQ(pipeline.schedule->InferenceTimesteps(5), (std::vector<std::int64_t>{ 499, 399, 299, 199, 99 }));
}

TEST_F(UNet2DReference, FolderWithATrailingSlashLoadsAndIsNamedByTheFolder)
{
  auto folder = itk::diffusion::LoadDiffusionModel(s_Folder + "/default_pipeline/");
  EXPECT_LE(MaxDifference(folder.unet, "default"), 1e-4);
  EXPECT_EQ(itk::diffusion::ModelName(s_Folder + "/default_pipeline/"), "default_pipeline");
  EXPECT_EQ(itk::diffusion::ModelName(s_Folder + "/default_pipeline/."), "default_pipeline");
  EXPECT_EQ(itk::diffusion::ModelName(s_Folder + "/default.safetensors"), "default.safetensors");
}

TEST_F(UNet2DReference, FolderIdentityIsItsModelFilesWhereverItLies)
{
  namespace fs = std::filesystem;
  using itk::torchcore::SHA256OfFile;
  using itk::diffusion::SHA256OfModel;
  const std::string model = s_Folder + "/default_model";
  // The identity is the SHA-256 of the list of the model files' own SHA-256 (computed here by
  // hand), never that of an unreadable folder's zero bytes.
  const std::string listing = "unet_config " + itk::torchcore::SHA256OfFile(model + "/config.json") + "\nweights " +
                              itk::torchcore::SHA256OfFile(model + "/diffusion_pytorch_model.safetensors") +
                              "\nscheduler_config -\n";
  EXPECT_EQ(SHA256OfModel(model), itk::torchcore::SHA256Hex(listing.data(), listing.size()));
  EXPECT_NE(SHA256OfModel(model), itk::torchcore::SHA256Hex("", 0));
  EXPECT_EQ(SHA256OfModel(s_Folder + "/default.safetensors"),
            itk::torchcore::SHA256OfFile(s_Folder + "/default.safetensors"));

  const auto copy = fs::path(s_Folder) / "copied" / "elsewhere";
  fs::create_directories(copy);
  fs::copy(model, copy, fs::copy_options::recursive);
  EXPECT_EQ(SHA256OfModel(copy.string()), SHA256OfModel(model));
  // The pipeline folder holds the same U-Net and weights plus a scheduler: another model.
  EXPECT_NE(SHA256OfModel(s_Folder + "/default_pipeline"), SHA256OfModel(model));
  // One changed weight byte is another model.
  {
    std::fstream weights((copy / "diffusion_pytorch_model.safetensors").string(),
                         std::ios::in | std::ios::out | std::ios::binary);
    weights.seekp(-1, std::ios::end);
    weights.put('\x7f');
  }
  EXPECT_NE(SHA256OfModel(copy.string()), SHA256OfModel(model));
  EXPECT_THROW(SHA256OfModel(s_Folder), itk::torchcore::ModelFileError); // not a model folder
  fs::remove_all(fs::path(s_Folder) / "copied");
}

TEST_F(UNet2DReference, SavedSingleFileRoundTrips)
{
  auto       model = itk::diffusion::LoadDiffusionModel(s_Folder + "/scale_shift_pipeline");
  const auto file = s_Folder + "/resaved.safetensors";
  itk::diffusion::SaveDiffusionModel(file, model.unet, model.schedule, { { "note", "round trip" } });
  auto again = itk::diffusion::LoadDiffusionModel(file);
  EXPECT_LE(MaxDifference(again.unet, "scale_shift"), 1e-4);
  EXPECT_EQ(again.schedule->Config().ToJson(), model.schedule->Config().ToJson());
  EXPECT_EQ(again.unet->Config().ToJson(), model.unet->Config().ToJson());
  EXPECT_EQ(again.metadata.at("note"), "round trip");
}

TEST(UNet2D, HasDiffusersParameterNames)
{
  auto                   config = itk::DiffusionTest::TinyConfig();
  itk::diffusion::UNet2D unet(config);
  std::set<std::string>  names;
  for (const auto & named : unet->NamedWeights())
  {
    names.insert(named.first);
  }
  for (const char * expected : { "conv_in.weight",
                                 "time_embedding.linear_1.weight",
                                 "time_embedding.linear_2.bias",
                                 "down_blocks.0.resnets.0.norm1.weight",
                                 "down_blocks.0.resnets.0.time_emb_proj.weight",
                                 "down_blocks.0.downsamplers.0.conv.weight",
                                 "down_blocks.1.resnets.0.conv_shortcut.weight",
                                 "down_blocks.1.attentions.0.group_norm.weight",
                                 "down_blocks.1.attentions.0.to_q.weight",
                                 "down_blocks.1.attentions.0.to_out.0.bias",
                                 "mid_block.resnets.1.conv2.weight",
                                 "mid_block.attentions.0.to_v.weight",
                                 "up_blocks.0.resnets.1.conv_shortcut.weight",
                                 "up_blocks.0.upsamplers.0.conv.weight",
                                 "up_blocks.1.resnets.1.norm2.bias",
                                 "conv_norm_out.weight",
                                 "conv_out.bias" })
  {
    EXPECT_EQ(names.count(expected), 1u) << expected;
  }
  EXPECT_EQ(names.count("down_blocks.1.downsamplers.0.conv.weight"), 0u);
  EXPECT_EQ(names.count("down_blocks.0.attentions.0.to_q.weight"), 0u);
  // The time embedding of "scale_shift" produces a scale and a shift per channel.
  config.resnetTimeScaleShift = "scale_shift";
  itk::diffusion::UNet2D shifted(config);
  for (const auto & named : shifted->NamedWeights())
  {
    if (named.first == "down_blocks.0.resnets.0.time_emb_proj.weight")
    {
      EXPECT_EQ(named.second.size(0), 16);
    }
    // diffusers' mid-block attention has no group norm with scale_shift.
    EXPECT_NE(named.first, "mid_block.attentions.0.group_norm.weight");
  }
  torch::NoGradGuard noGrad;
  const auto         output = shifted(torch::randn({ 3, 3, 16, 16 }), torch::tensor({ 10 }));
  EXPECT_EQ(output.sizes(), (std::vector<std::int64_t>{ 3, 3, 16, 16 }));
}

TEST(UNet2D, ConfigWeightMismatchNamesTheTensorAndBothShapes)
{
  const auto                  folder = itk::DiffusionTest::ScratchFolder("unet-mismatch");
  auto                        config = itk::DiffusionTest::TinyConfig();
  itk::diffusion::UNet2D      unet(config);
  itk::torchcore::SafeTensors weights;
  weights.tensors = unet->NamedWeights();

  auto wider = config;
  wider.blockOutChannels = { 8, 24 };
  itk::diffusion::UNet2D other(wider);
  try
  {
    other->LoadWeights(weights, "tiny.safetensors");
    ADD_FAILURE() << "loaded weights of another width";
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    const std::string message = e.what();
    EXPECT_NE(message.find("\"down_blocks.1.resnets.0.conv1.weight\""), std::string::npos) << message;
    EXPECT_NE(message.find("shape [16, 8, 3, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("expects [24, 8, 3, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("tiny.safetensors"), std::string::npos) << message;
  }
  try
  {
    auto partial = weights;
    partial.tensors.pop_back();
    unet->LoadWeights(partial, "partial.safetensors");
    ADD_FAILURE() << "loaded incomplete weights";
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find("lacks tensor \"conv_out.bias\""), std::string::npos) << e.what();
  }
  auto extra = weights;
  extra.tensors.emplace_back("class_embedding.weight", torch::zeros({ 3 }));
  EXPECT_THROW(unet->LoadWeights(extra, "extra.safetensors"), itk::torchcore::ModelFileError);

  // A model file whose config disagrees with its weights, and files that are not models.
  itk::diffusion::SaveDiffusionModel(
    (folder / "tiny.safetensors").string(), unet, itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}));
  auto contents = itk::torchcore::ReadSafeTensors((folder / "tiny.safetensors").string());
  contents.metadata["unet_config"] = wider.ToJson();
  itk::torchcore::WriteSafeTensors((folder / "lying.safetensors").string(), contents);
  EXPECT_THROW(itk::diffusion::LoadDiffusionModel((folder / "lying.safetensors").string()),
               itk::torchcore::ModelFileError);
  contents.metadata.erase("unet_config");
  itk::torchcore::WriteSafeTensors((folder / "bare.safetensors").string(), contents);
  EXPECT_THROW(itk::diffusion::LoadDiffusionModel((folder / "bare.safetensors").string()),
               itk::torchcore::ModelFileError);
  EXPECT_THROW(itk::diffusion::LoadDiffusionModel((folder / "absent.safetensors").string()),
               itk::torchcore::ModelFileError);
  fs::create_directories(folder / "pickled");
  std::ofstream((folder / "pickled" / "config.json").string()) << config.ToJson();
  std::ofstream((folder / "pickled" / "diffusion_pytorch_model.bin").string()) << "pickle";
  try
  {
    itk::diffusion::LoadDiffusionModel((folder / "pickled").string());
    ADD_FAILURE() << "loaded a pickle folder";
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find("never loaded"), std::string::npos) << e.what();
  }
  fs::remove_all(folder);
}

TEST(UNet2D, RefusesUnsupportedConfigs)
{
  using itk::torchcore::ConfigurationError;
  using itk::diffusion::UNet2DConfig;
  EXPECT_THROW(UNet2DConfig::FromJson("{\"time_embedding_type\": \"fourier\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(UNet2DConfig::FromJson("{\"_class_name\": \"UNet2DConditionModel\"}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(UNet2DConfig::FromJson("{\"block_out_channels\": [30, 64, 64, 64]}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(UNet2DConfig::FromJson("{\"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\", "
                                      "\"DownBlock2D\", \"DownBlock2D\"]}"),
               itk::torchcore::ConfigurationError);
  EXPECT_THROW(UNet2DConfig::FromJson("{\"layers_per_block\": \"two\"}"), itk::torchcore::ConfigurationError);
  EXPECT_THROW(UNet2DConfig::FromJson("not json"), itk::torchcore::ConfigurationError);
  EXPECT_NO_THROW(UNet2DConfig::FromJson("{}"));
  // Integer fields hold whole numbers that fit (found by the model_config fuzzer: a sample_size or
  // a channel count of 4e45 was cast to int64, undefined behaviour); 32.0 is 32, as Python writes it.
  for (const char * field : { "{\"sample_size\": 4.4e45}",
                              "{\"sample_size\": 32.5}",
                              "{\"layers_per_block\": 9223372036854775808}",
                              "{\"block_out_channels\": [1.2e37, 64, 64, 64]}" })
  {
    try
    {
      UNet2DConfig::FromJson(field);
      ADD_FAILURE() << field << " was accepted";
    }
    catch (const ConfigurationError & e)
    {
      EXPECT_NE(std::string(e.what()).find("whole numbers within 64-bit range"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(UNet2DConfig::FromJson("{\"sample_size\": 32.0}").sampleSize, 32);
  itk::diffusion::UNet2D unet(itk::DiffusionTest::TinyConfig());
  torch::NoGradGuard     noGrad;
  EXPECT_THROW(unet(torch::zeros({ 1, 3, 17, 17 }), torch::tensor({ 1 })), itk::torchcore::ConfigurationError);
}
