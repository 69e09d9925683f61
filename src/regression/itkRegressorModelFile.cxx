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
#include "itkRegressorModelFile.h"
#include "itkGlobalGeneratorSeed.h"

#include "itkTorchErrors.h"
#include "itkSafeTensors.h"

#include <torch/torch.h>

#include <map>
#include <set>

namespace itk
{
namespace regression
{
namespace
{
using torchcore::ConfigurationError;
using torchcore::ModelFileError;
using torchcore::SafeTensors;

std::string
ShapeText(const torch::Tensor & tensor)
{
  return c10::str(tensor.sizes());
}

bool
EndsWith(const std::string & text, const std::string & suffix)
{
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/** What a file that is not a regressor is, for the refusal's message. */
std::string
DescribeOtherFile(const torchcore::SafeTensors & contents)
{
  const auto format = contents.metadata.find("format");
  const auto name = format == contents.metadata.end() ? std::string() : format->second;
  if (name == "c2l-diffusion" || (name.empty() && contents.metadata.count("unet_config") != 0))
  {
    return "a diffusion model (U-Net), not a gene regressor";
  }
  if (name == "c2l-diffusion-checkpoint")
  {
    return "a diffusion training checkpoint, not a gene regressor";
  }
  if (name == "c2l-local-model")
  {
    return "a local gene-conditioned diffusion model, not a gene regressor";
  }
  if (name == "c2l-gene-regressor-checkpoint")
  {
    return "a gene-regressor training checkpoint, not a finished regressor (resume the training to write one)";
  }
  if (name.empty() && contents.Find("conv1.weight").defined() && contents.Find("layer1.0.conv1.weight").defined())
  {
    return "a bare torchvision ResNet state_dict without regressor metadata (load it as a backbone instead)";
  }
  return name.empty() ? "not a gene regressor (its metadata names no format)"
                      : "a \"" + name + "\" file, not a gene regressor";
}

/** The depth of a torchvision ResNet state_dict from its names (0 if it is none). */
int
TorchvisionDepth(const torchcore::SafeTensors & contents)
{
  const auto has = [&contents](const char * name) { return contents.Find(name).defined(); };
  if (has("layer1.0.conv3.weight"))
  {
    return has("layer3.35.conv1.weight") ? 152 : (has("layer3.22.conv1.weight") ? 101 : 50);
  }
  if (has("layer1.0.conv1.weight"))
  {
    return has("layer3.5.conv1.weight") ? 34 : 18;
  }
  return 0;
}

void
CopyInto(torch::Tensor & target, const torch::Tensor & saved, const std::string & name, const std::string & source)
{
  if (saved.sizes() != target.sizes())
  {
    throw torchcore::ModelFileError("The tensor \"" + name + "\" of " + source + " has the shape " + ShapeText(saved) +
                                    "; this ResNet expects " + ShapeText(target));
  }
  if (target.is_floating_point() != saved.is_floating_point())
  {
    throw torchcore::ModelFileError("The tensor \"" + name + "\" of " + source + " is " +
                                    c10::toString(saved.scalar_type()) + "; this ResNet expects " +
                                    c10::toString(target.scalar_type()));
  }
  torch::NoGradGuard noGrad;
  target.copy_(saved);
}
} // namespace

void
LoadResNetState(ResNet & net, const torchcore::SafeTensors & contents, const std::string & prefix,
                const std::string & source)
{
  for (auto & named : net->NamedState())
  {
    const auto saved = contents.Find(prefix + named.first);
    if (!saved.defined())
    {
      throw torchcore::ModelFileError("The file " + source + " lacks the tensor \"" + prefix + named.first +
                                      "\" of a ResNet-" + std::to_string(net->Config().depth));
    }
    CopyInto(named.second, saved, prefix + named.first, source);
  }
}

void
SaveRegressor(const std::string & fileName, ResNet & net, const RegressorMetadata & metadata)
{
  if (metadata.config.ToJson() != net->Config().ToJson())
  {
    throw torchcore::ConfigurationError("The regressor metadata's ResNet config " + metadata.config.ToJson().dump() +
                                        " is not the network's " + net->Config().ToJson().dump());
  }
  if (static_cast<std::int64_t>(metadata.genes.size()) != net->Config().numberOfOutputs)
  {
    throw torchcore::ConfigurationError("The regressor predicts " + std::to_string(net->Config().numberOfOutputs) +
                                        " outputs but its metadata names " + std::to_string(metadata.genes.size()) +
                                        " genes");
  }
  if (metadata.imageSize < 1)
  {
    throw torchcore::ConfigurationError("The regressor's patch size must be positive, not " +
                                        std::to_string(metadata.imageSize));
  }
  nlohmann::json training = nlohmann::json::object();
  if (!metadata.training.empty())
  {
    try
    {
      training = nlohmann::json::parse(metadata.training);
    }
    catch (const nlohmann::json::exception & e)
    {
      throw torchcore::ConfigurationError(std::string("The regressor's training description is not valid JSON: ") +
                                          e.what());
    }
  }
  torchcore::SafeTensors contents;
  contents.tensors = net->NamedState();
  contents.metadata["format"] = RegressorFormat;
  contents.metadata["version"] = "1";
  contents.metadata["resnet_config"] = net->Config().ToJson().dump();
  contents.metadata["genes"] = nlohmann::json(metadata.genes).dump();
  contents.metadata["preprocessing"] = metadata.preprocessing;
  contents.metadata["image_size"] = std::to_string(metadata.imageSize);
  contents.metadata["training"] = training.dump();
  torchcore::WriteSafeTensors(fileName, contents);
}

ResNet
LoadRegressor(const std::string & fileName, RegressorMetadata & metadata)
{
  const auto contents = torchcore::ReadSafeTensors(fileName);
  const auto format = contents.metadata.find("format");
  if (format == contents.metadata.end() || format->second != RegressorFormat)
  {
    throw torchcore::ModelFileError("The file " + fileName + " is " + DescribeOtherFile(contents));
  }
  const auto field = [&](const char * key) -> const std::string & {
    const auto found = contents.metadata.find(key);
    if (found == contents.metadata.end())
    {
      throw torchcore::ModelFileError("The regressor file " + fileName + " lacks the metadata \"" + key + "\"");
    }
    return found->second;
  };
  RegressorMetadata loaded;
  try
  {
    loaded.config = ResNetConfig::FromJson(nlohmann::json::parse(field("resnet_config")));
    const auto genes = nlohmann::json::parse(field("genes"));
    loaded.genes = genes.get<std::vector<std::string>>();
    std::size_t end = 0;
    const auto  imageSize = field("image_size");
    loaded.imageSize = std::stoll(imageSize, &end);
    if (end != imageSize.size() || loaded.imageSize < 1)
    {
      throw torchcore::ModelFileError("The regressor file " + fileName + " has an invalid patch size \"" + imageSize +
                                      "\"");
    }
    loaded.training = field("training");
    if (!nlohmann::json::accept(loaded.training))
    {
      throw torchcore::ModelFileError("The regressor file " + fileName +
                                      " has a training description that is not JSON");
    }
  }
  catch (const torchcore::ModelFileError &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    throw torchcore::ModelFileError("The regressor file " + fileName + " has unreadable metadata: " + e.what());
  }
  loaded.preprocessing = field("preprocessing");
  if (static_cast<std::int64_t>(loaded.genes.size()) != loaded.config.numberOfOutputs)
  {
    throw torchcore::ModelFileError("The regressor file " + fileName + " names " + std::to_string(loaded.genes.size()) +
                                    " genes for " + std::to_string(loaded.config.numberOfOutputs) + " outputs");
  }
  ResNet net = torchcore::BuildModuleToOverwrite([&] { return ResNet(loaded.config); });
  LoadResNetState(net, contents, "", fileName);
  std::set<std::string> expected;
  for (const auto & named : net->NamedState())
  {
    expected.insert(named.first);
  }
  for (const auto & named : contents.tensors)
  {
    if (expected.count(named.first) == 0)
    {
      throw torchcore::ModelFileError("The regressor file " + fileName + " holds the tensor \"" + named.first +
                                      "\", which a ResNet-" + std::to_string(loaded.config.depth) + " does not have");
    }
  }
  net->eval();
  metadata = std::move(loaded);
  return net;
}

void
LoadTorchvisionBackbone(ResNet & net, const std::string & safetensorsFile)
{
  const auto contents = torchcore::ReadSafeTensors(safetensorsFile);
  const int  depth = TorchvisionDepth(contents);
  const int  expected = net->Config().depth;
  if (depth == 0)
  {
    throw torchcore::ModelFileError("The file " + safetensorsFile +
                                    " is not a torchvision ResNet state_dict (it has no \"layer1.0.conv1.weight\")");
  }
  if (depth != expected)
  {
    throw torchcore::ModelFileError("The file " + safetensorsFile + " holds a torchvision ResNet-" +
                                    std::to_string(depth) + "; this regressor is a ResNet-" + std::to_string(expected) +
                                    " (set its depth to " + std::to_string(depth) + " or convert resnet" +
                                    std::to_string(expected) + "'s weights)");
  }
  std::vector<std::string>             missing;
  std::map<std::string, torch::Tensor> found;
  auto                                 state = net->NamedState();
  for (const auto & named : state)
  {
    const auto saved = contents.Find(named.first);
    if (saved.defined())
    {
      found.emplace(named.first, saved);
    }
    else if (named.first.rfind("fc.", 0) != 0 && !EndsWith(named.first, ".num_batches_tracked"))
    {
      missing.push_back(named.first);
    }
  }
  if (!missing.empty())
  {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 10; ++i)
    {
      list += (i ? ", " : "") + missing[i];
    }
    throw torchcore::ModelFileError("The torchvision ResNet-" + std::to_string(depth) + " file " + safetensorsFile +
                                    " lacks " + std::to_string(missing.size()) + " of its tensors: " + list +
                                    (missing.size() > 10 ? ", ..." : ""));
  }
  // Every shape is checked before a weight changes, so a refused file leaves the net as it was. The
  // head (ImageNet's 1000 classes) is not the regressor's.
  for (const auto & named : state)
  {
    const auto saved = found.find(named.first);
    if (named.first.rfind("fc.", 0) != 0 && saved != found.end() && saved->second.sizes() != named.second.sizes())
    {
      throw torchcore::ModelFileError("The tensor \"" + named.first + "\" of " + safetensorsFile + " has the shape " +
                                      ShapeText(saved->second) + "; torchvision's resnet" + std::to_string(depth) +
                                      " has " + ShapeText(named.second));
    }
  }
  for (auto & named : state)
  {
    const auto saved = found.find(named.first);
    if (named.first.rfind("fc.", 0) != 0 && saved != found.end())
    {
      CopyInto(named.second, saved->second, named.first, safetensorsFile);
    }
  }
}

} // namespace regression
} // namespace itk
