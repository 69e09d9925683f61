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
#include "itkLocalModelFile.h"
#include "itkGlobalGeneratorSeed.h"

#include "itkSHA256.h"
#include "itkSafeTensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace itk
{
namespace adaptation
{
namespace
{
constexpr const char * FormatName = "c2l-local-model";

std::string
AdapterOptionsJson(const GeneFiLMAdapter & adapter)
{
  std::vector<std::string> blocks;
  for (const auto & block : adapter->Blocks())
  {
    blocks.push_back(block.first);
  }
  return nlohmann::json{
    { "number_of_genes", adapter->Options().numberOfGenes },
    { "embedding_size", adapter->Options().embeddingSize },
    { "blocks", blocks }
  }.dump();
}

GeneFiLMOptions
AdapterOptionsFromJson(const std::string & text, const std::string & source)
{
  try
  {
    const auto      json = nlohmann::json::parse(text);
    GeneFiLMOptions options;
    options.numberOfGenes = json.at("number_of_genes");
    options.embeddingSize = json.at("embedding_size");
    options.blocks = json.at("blocks").get<std::vector<std::string>>();
    return options;
  }
  catch (const nlohmann::json::exception & e)
  {
    throw torchcore::ModelFileError("The local model " + source + " has malformed adapter options: " + e.what());
  }
}

std::string
Required(const torchcore::SafeTensors & contents, const std::string & key, const std::string & source)
{
  const auto found = contents.metadata.find(key);
  if (found == contents.metadata.end())
  {
    throw torchcore::ModelFileError("The local model " + source + " has no \"" + key + "\" in its metadata");
  }
  return found->second;
}
} // namespace

void
SaveLocalModel(const std::string & fileName, const GeneFiLMAdapter & adapter, const std::string & preprocessing,
               const std::string & centralFile, bool embedCentral)
{
  torchcore::SafeTensors contents;
  for (const auto & named : adapter->NamedWeights())
  {
    contents.tensors.emplace_back("adapter." + named.first, named.second.detach().to(torch::kCPU));
  }
  contents.metadata["format"] = FormatName;
  contents.metadata["version"] = "1";
  contents.metadata["adapter_options"] = AdapterOptionsJson(adapter);
  contents.metadata["preprocessing"] = preprocessing;
  contents.metadata["central_sha256"] = diffusion::SHA256OfModel(centralFile);
  contents.metadata["central_file"] = diffusion::ModelName(centralFile);
  contents.metadata["central_embedded"] = embedCentral ? "true" : "false";
  if (embedCentral)
  {
    const auto central = diffusion::LoadDiffusionModel(centralFile);
    for (auto & named : central.unet->NamedWeights("central."))
    {
      contents.tensors.push_back(std::move(named));
    }
    contents.metadata["unet_config"] = central.unet->Config().ToJson();
    contents.metadata["scheduler_config"] = central.schedule->Config().ToJson();
  }
  torchcore::WriteSafeTensors(fileName, contents);
}

bool
IsLocalModelFile(const std::string & fileName)
{
  // A diffusers folder is a central model; only a regular file can hold a local one.
  if (!std::filesystem::is_regular_file(fileName))
  {
    return false;
  }
  try
  {
    const auto metadata = torchcore::ReadSafeTensorsMetadata(fileName);
    const auto format = metadata.find("format");
    return format != metadata.end() && format->second == FormatName;
  }
  catch (const torchcore::TorchError &)
  {
    return false;
  }
}

LocalModel
LoadLocalModel(const std::string & fileName, const std::string & centralFile)
{
  const auto contents = torchcore::ReadSafeTensors(fileName);
  if (contents.metadata.count("format") == 0 || contents.metadata.at("format") != FormatName)
  {
    throw torchcore::ModelFileError("The file " + fileName + " is not a local (adapted) model");
  }
  LocalModel model;
  model.preprocessing = Required(contents, "preprocessing", fileName);
  model.centralSHA256 = Required(contents, "central_sha256", fileName);
  model.centralEmbedded = Required(contents, "central_embedded", fileName) == "true";
  if (model.centralEmbedded)
  {
    model.central = diffusion::UNet2D(diffusion::UNet2DConfig::FromJson(Required(contents, "unet_config", fileName)));
    model.central->LoadWeights(contents, fileName, "central.");
    model.schedule =
      diffusion::NoiseSchedule(diffusion::SchedulerConfig::FromJson(Required(contents, "scheduler_config", fileName)));
  }
  else
  {
    const std::string recorded = Required(contents, "central_file", fileName);
    const std::string path =
      centralFile.empty() ? (std::filesystem::path(fileName).parent_path() / recorded).string() : centralFile;
    if (!std::filesystem::exists(path))
    {
      throw torchcore::ModelFileError("The local model " + fileName + " refers to its central model \"" + recorded +
                                      "\" (SHA-256 " + model.centralSHA256 + "), which is not at " + path +
                                      "; give the central model's path");
    }
    const std::string hash = diffusion::SHA256OfModel(path);
    if (hash != model.centralSHA256)
    {
      throw torchcore::ModelFileError("The central model " + path + " has SHA-256 " + hash + ", but " + fileName +
                                      " was adapted from one with SHA-256 " + model.centralSHA256 +
                                      "; give the central model it was adapted from");
    }
    auto central = diffusion::LoadDiffusionModel(path);
    model.central = central.unet;
    model.schedule = central.schedule;
  }

  model.adapter = torchcore::BuildModuleToOverwrite([&] {
    return GeneFiLMAdapter(AdapterOptionsFromJson(Required(contents, "adapter_options", fileName), fileName),
                           ResnetBlockChannels(model.central));
  });
  torch::NoGradGuard noGrad;
  for (auto & named : model.adapter->NamedWeights())
  {
    const auto saved = contents.Find("adapter." + named.first);
    if (!saved.defined() || saved.sizes() != named.second.sizes())
    {
      throw torchcore::ModelFileError("The local model " + fileName + " has no adapter tensor \"" + named.first +
                                      "\" of the expected shape");
    }
    named.second.copy_(saved);
  }
  return model;
}

} // namespace adaptation
} // namespace itk
