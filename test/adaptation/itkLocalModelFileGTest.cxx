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

// Local model files: the adapter and the preprocessing come back exactly, with the central model
// embedded or referenced by hash; a central model that is not the one adapted from is refused.

#include "itkDiffusionTestUtilities.h"
#include "itkLocalModelFile.h"
#include "itkSHA256.h"
#include "itkSafeTensors.h"

#include "gtest/gtest.h"

#include <fstream>

namespace
{
using namespace itk;

struct Files
{
  std::filesystem::path       folder;
  std::string                 central;
  adaptation::GeneFiLMAdapter adapter{ nullptr };
};

Files
MakeFiles(const std::string & name)
{
  Files files;
  files.folder = DiffusionTest::ScratchFolder(name);
  torch::manual_seed(3);
  diffusion::UNet2D unet(DiffusionTest::TinyConfig());
  files.central = (files.folder / "central.safetensors").string();
  diffusion::SaveDiffusionModel(files.central, unet, diffusion::NoiseSchedule(diffusion::SchedulerConfig()));
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 7;
  options.embeddingSize = 5;
  options.blocks = { "mid_block.resnets.0", "up_blocks.1.resnets.1" };
  files.adapter = adaptation::GeneFiLMAdapter(options, adaptation::ResnetBlockChannels(unet));
  torch::NoGradGuard noGrad;
  for (auto & w : files.adapter->NamedWeights())
  {
    w.second.normal_(); // as if trained
  }
  return files;
}

void
ExpectSameAdapter(const adaptation::GeneFiLMAdapter & a, const adaptation::GeneFiLMAdapter & b)
{
  const auto x = a->NamedWeights();
  const auto y = b->NamedWeights();
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    EXPECT_EQ(x[i].first, y[i].first);
    EXPECT_TRUE(torch::equal(x[i].second, y[i].second)) << x[i].first;
  }
}

TEST(LocalModelFile, ReferencedCentralRoundTrip)
{
  const auto files = MakeFiles("local-referenced");
  const auto local = (files.folder / "local.safetensors").string();
  adaptation::SaveLocalModel(local, files.adapter, R"({"genes":["A"]})", files.central, false);
  EXPECT_TRUE(adaptation::IsLocalModelFile(local));
  EXPECT_FALSE(adaptation::IsLocalModelFile(files.central));
  // Only the adapter travels: the file is much smaller than the central model.
  EXPECT_LT(std::filesystem::file_size(local), std::filesystem::file_size(files.central) / 4);

  const auto model = adaptation::LoadLocalModel(local); // finds central.safetensors beside it
  EXPECT_FALSE(model.centralEmbedded);
  EXPECT_EQ(model.preprocessing, R"({"genes":["A"]})");
  EXPECT_EQ(model.centralSHA256, torchcore::SHA256OfFile(files.central));
  ExpectSameAdapter(model.adapter, files.adapter);
  const auto central = diffusion::LoadDiffusionModel(files.central);
  const auto a = central.unet->NamedWeights();
  const auto b = model.central->NamedWeights();
  for (std::size_t i = 0; i < a.size(); ++i)
  {
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

TEST(LocalModelFile, EmbeddedCentralNeedsNoOtherFile)
{
  const auto files = MakeFiles("local-embedded");
  const auto local = (files.folder / "local.safetensors").string();
  adaptation::SaveLocalModel(local, files.adapter, "{}", files.central, true);
  std::filesystem::remove(files.central);
  const auto model = adaptation::LoadLocalModel(local);
  EXPECT_TRUE(model.centralEmbedded);
  ExpectSameAdapter(model.adapter, files.adapter);
  EXPECT_EQ(model.central->Config().ToJson(), DiffusionTest::TinyConfig().ToJson());
}

TEST(LocalModelFile, AnotherCentralModelIsRefused)
{
  const auto files = MakeFiles("local-mismatch");
  const auto local = (files.folder / "local.safetensors").string();
  adaptation::SaveLocalModel(local, files.adapter, "{}", files.central, false);
  // Another central model under the same name: same architecture, other weights.
  torch::manual_seed(99);
  diffusion::SaveDiffusionModel(files.central,
                                diffusion::UNet2D(DiffusionTest::TinyConfig()),
                                diffusion::NoiseSchedule(diffusion::SchedulerConfig()));
  try
  {
    adaptation::LoadLocalModel(local);
    FAIL() << "no exception";
  }
  catch (const torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find("SHA-256"), std::string::npos) << e.what();
  }
  std::filesystem::remove(files.central);
  EXPECT_THROW(adaptation::LoadLocalModel(local), torchcore::ModelFileError); // missing central
  EXPECT_THROW(adaptation::LoadLocalModel(files.folder.string() + "/nothing.safetensors"), torchcore::ModelFileError);
}

} // namespace

TEST(LocalModelFile, FolderCentralIsReferencedByTheIdentityOfItsFiles)
{
  // A central model as a diffusers model folder (config.json + weights), written here.
  const auto files = MakeFiles("local-folder");
  const auto folder = files.folder / "central_model";
  std::filesystem::create_directories(folder);
  const auto unet = diffusion::LoadDiffusionModel(files.central).unet;
  std::ofstream((folder / "config.json").string()) << unet->Config().ToJson();
  torchcore::SafeTensors weights;
  weights.tensors = unet->NamedWeights();
  torchcore::WriteSafeTensors((folder / "diffusion_pytorch_model.safetensors").string(), weights);

  const auto local = (files.folder / "local.safetensors").string();
  adaptation::SaveLocalModel(local, files.adapter, "{}", folder.string() + "/", false);
  EXPECT_FALSE(adaptation::IsLocalModelFile(folder.string()));
  const auto recorded = torchcore::ReadSafeTensorsMetadata(local);
  EXPECT_EQ(recorded.at("central_file"), "central_model");
  EXPECT_EQ(recorded.at("central_sha256"), diffusion::SHA256OfModel(folder.string()));
  EXPECT_NE(recorded.at("central_sha256"), torchcore::SHA256Hex("", 0));

  // Found beside the local model by its recorded name, or given anywhere else.
  const auto beside = adaptation::LoadLocalModel(local);
  ExpectSameAdapter(beside.adapter, files.adapter);
  const auto moved = files.folder / "moved";
  std::filesystem::rename(folder, moved);
  EXPECT_THROW(adaptation::LoadLocalModel(local), torchcore::ModelFileError);
  EXPECT_NO_THROW(adaptation::LoadLocalModel(local, moved.string()));

  // Another model folder (other weights, same layout) is refused by its identity.
  torch::manual_seed(41);
  weights.tensors = diffusion::UNet2D(DiffusionTest::TinyConfig())->NamedWeights();
  torchcore::WriteSafeTensors((moved / "diffusion_pytorch_model.safetensors").string(), weights);
  try
  {
    adaptation::LoadLocalModel(local, moved.string());
    FAIL() << "no exception";
  }
  catch (const torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find("SHA-256"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(files.folder);
}
