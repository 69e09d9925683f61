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
#include "itkDiffusionModelFile.h"
#include "itkGlobalGeneratorSeed.h"
#include "itkTorchErrors.h"
#include "itkReadableFile.h"
#include "itkSHA256.h"
#include "itkSafeTensors.h"

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <regex>
#include <sstream>
#include <thread>

namespace itk
{
namespace diffusion
{
namespace
{
namespace fs = std::filesystem;

std::string
ReadText(const fs::path & path)
{
  const std::string problem = ReadableFileProblem(path.string());
  if (!problem.empty())
  {
    throw torchcore::ModelFileError("Cannot read " + path.string() + ": " + problem);
  }
  std::ifstream      file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

DiffusionModelData
Build(const std::string & unetConfig, const std::string & schedulerConfig, const torchcore::SafeTensors & weights,
      const std::string & source)
{
  DiffusionModelData model;
  try
  {
    model.unet = torchcore::BuildModuleToOverwrite([&] { return UNet2D(UNet2DConfig::FromJson(unetConfig)); });
    model.schedule =
      NoiseSchedule(schedulerConfig.empty() ? SchedulerConfig{} : SchedulerConfig::FromJson(schedulerConfig));
  }
  catch (const torchcore::ConfigurationError & e)
  {
    throw torchcore::ModelFileError(std::string(e.what()) + " (in " + source + ")");
  }
  bool hasEma = false;
  for (const auto & named : weights.tensors)
  {
    hasEma = hasEma || named.first.compare(0, 4, "ema.") == 0;
  }
  model.unet->LoadWeights(weights, source, hasEma ? "ema." : "");
  model.unet->eval();
  model.metadata = weights.metadata;
  return model;
}

fs::path
WeightsIn(const fs::path & folder)
{
  const auto weights = folder / "diffusion_pytorch_model.safetensors";
  if (!fs::exists(weights))
  {
    if (fs::exists(folder / "diffusion_pytorch_model.bin"))
    {
      throw torchcore::ModelFileError(
        "The model folder " + folder.string() +
        " has only pickled weights (diffusion_pytorch_model.bin), which are never loaded because "
        "they can run code: save it with safe_serialization=True");
    }
    throw torchcore::ModelFileError("The model folder " + folder.string() +
                                    " has no diffusion_pytorch_model.safetensors");
  }
  return weights;
}

/** The files of a diffusers folder that make up the model; an empty scheduler when it has none. */
struct ModelFolderFiles
{
  fs::path unetConfig;
  fs::path weights;
  fs::path schedulerConfig;
};

/** Resolves a model folder (config.json + weights) or a pipeline folder (model_index.json, unet/,
 * scheduler/); ModelFileError when it is neither. */
ModelFolderFiles
ResolveModelFolder(const fs::path & location)
{
  ModelFolderFiles files;
  fs::path         unetFolder = location;
  fs::path         scheduler = location / "scheduler_config.json";
  if (fs::exists(location / "model_index.json"))
  {
    unetFolder = location / "unet";
    scheduler = location / "scheduler" / "scheduler_config.json";
    if (!fs::exists(unetFolder / "config.json"))
    {
      throw torchcore::ModelFileError("The pipeline folder " + location.string() + " has no unet/config.json");
    }
  }
  else if (!fs::exists(location / "config.json"))
  {
    throw torchcore::ModelFileError("The folder " + location.string() +
                                    " is neither a diffusers model folder (config.json) nor a pipeline "
                                    "folder (model_index.json)");
  }
  files.unetConfig = unetFolder / "config.json";
  files.weights = WeightsIn(unetFolder);
  if (fs::exists(scheduler))
  {
    files.schedulerConfig = scheduler;
  }
  return files;
}
} // namespace

DiffusionModelData
LoadDiffusionModel(const std::string & path)
{
  const fs::path location(path);
  if (!fs::exists(location))
  {
    throw torchcore::ModelFileError("The model " + path +
                                    " does not exist: give a .safetensors file or a diffusers folder");
  }
  if (fs::is_directory(location))
  {
    const auto files = ResolveModelFolder(location);
    return Build(ReadText(files.unetConfig),
                 files.schedulerConfig.empty() ? std::string() : ReadText(files.schedulerConfig),
                 torchcore::ReadSafeTensors(files.weights.string()),
                 files.weights.string());
  }
  const auto contents = torchcore::ReadSafeTensors(path);
  const auto unet = contents.metadata.find("unet_config");
  if (unet == contents.metadata.end())
  {
    throw torchcore::ModelFileError(
      "The model file " + path +
      " has no \"unet_config\" in its __metadata__: it is not a diffusion model written by c2l (a "
      "diffusers model is loaded from its folder)");
  }
  const auto scheduler = contents.metadata.find("scheduler_config");
  return Build(unet->second, scheduler == contents.metadata.end() ? std::string() : scheduler->second, contents, path);
}

std::string
SHA256OfModel(const std::string & path)
{
  if (!fs::is_directory(path))
  {
    return torchcore::SHA256OfFile(path);
  }
  const auto  files = ResolveModelFolder(path);
  std::string listing;
  for (const auto & [role, file] : { std::pair<const char *, fs::path>{ "unet_config", files.unetConfig },
                                     { "weights", files.weights },
                                     { "scheduler_config", files.schedulerConfig } })
  {
    listing +=
      std::string(role) + " " + (file.empty() ? std::string("-") : torchcore::SHA256OfFile(file.string())) + "\n";
  }
  return torchcore::SHA256Hex(listing.data(), listing.size());
}

std::string
ModelName(const std::string & path)
{
  const auto normal = fs::path(path).lexically_normal();
  return normal.has_filename() ? normal.filename().string() : normal.parent_path().filename().string();
}

std::array<double, 3>
PatchColourMean(const torch::Tensor & patches)
{
  if (patches.scalar_type() != torch::kUInt8 || patches.dim() != 4 || patches.size(1) != 3 || patches.numel() == 0)
  {
    throw std::invalid_argument("PatchColourMean takes uint8 RGB patches [N, 3, H, W]");
  }
  // Exact integer sums over the bytes: no floating-point copy of a corpus that may not fit twice.
  const auto                   contiguous = patches.cpu().contiguous();
  const std::uint8_t *         byte = contiguous.data_ptr<std::uint8_t>();
  const std::int64_t           plane = patches.size(2) * patches.size(3);
  std::array<std::uint64_t, 3> sums{ 0, 0, 0 };
  for (std::int64_t n = 0; n < patches.size(0); ++n)
  {
    for (std::size_t c = 0; c < 3; ++c, byte += plane)
    {
      sums[c] = std::accumulate(byte, byte + plane, sums[c]);
    }
  }
  const double pixels = static_cast<double>(patches.size(0) * plane);
  return { sums[0] / pixels, sums[1] / pixels, sums[2] / pixels };
}

std::string
PatchColourMeanText(const std::array<double, 3> & mean)
{
  auto json = nlohmann::json::array();
  for (const double channel : mean)
  {
    json.push_back(std::round(channel * 100.0) / 100.0);
  }
  return json.dump();
}

std::vector<double>
StatedPatchColourMean(const std::map<std::string, std::string> & metadata, const std::string & source)
{
  const auto stated = metadata.find(PatchColourMeanKey);
  if (stated == metadata.end())
  {
    return {};
  }
  const auto          json = nlohmann::json::parse(stated->second, nullptr, false);
  std::vector<double> mean;
  if (json.is_array() && json.size() == 3)
  {
    for (const auto & channel : json)
    {
      if (channel.is_number() && channel.get<double>() >= 0.0 && channel.get<double>() <= 255.0)
      {
        mean.push_back(channel.get<double>());
      }
    }
  }
  if (mean.size() != 3)
  {
    throw torchcore::ModelFileError("The metadata \"" + std::string(PatchColourMeanKey) + "\" of " + source + " is \"" +
                                    stated->second +
                                    "\", not the mean R, G and B of its training patches ([r, g, b], "
                                    "each in [0, 255]): remove the entry or write it in that form");
  }
  return mean;
}

void
SaveDiffusionModel(const std::string & fileName, const UNet2D & unet, const NoiseSchedule & schedule,
                   std::map<std::string, std::string> metadata, bool halfPrecision)
{
  torchcore::SafeTensors contents;
  contents.tensors = unet->NamedWeights();
  if (halfPrecision)
  {
    for (auto & named : contents.tensors)
    {
      if (named.second.is_floating_point())
      {
        named.second = named.second.detach().to(torch::kFloat16);
      }
    }
  }
  contents.metadata = std::move(metadata);
  contents.metadata["format"] = "c2l-diffusion";
  contents.metadata["unet_config"] = unet->Config().ToJson();
  contents.metadata["scheduler_config"] = schedule->Config().ToJson();
  torchcore::WriteSafeTensors(fileName, contents);
}

} // namespace diffusion
} // namespace itk
