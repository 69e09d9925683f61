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
#include "itkUNet2DConfig.h"
#include "itkConfigJson.h"
#include "itkTorchErrors.h"

#include <nlohmann/json.hpp>

namespace itk
{
namespace diffusion
{
namespace
{
template <typename T>
void
Get(const nlohmann::json & json, const char * key, T & value)
{
  torchcore::ReadOptionalConfigField(json, key, value, "U-Net config");
}
} // namespace

UNet2DConfig
UNet2DConfig::FromJson(const std::string & text)
{
  const nlohmann::json json = torchcore::ParseConfigObject(text, "U-Net config");
  if (json.contains("_class_name") && json["_class_name"] != "UNet2DModel")
  {
    throw torchcore::ConfigurationError("The model is a " + json["_class_name"].dump() +
                                        ", not a UNet2DModel (only pixel-space UNet2DModel is supported)");
  }
  UNet2DConfig config;
  if (json.contains("sample_size") && json["sample_size"].is_array())
  {
    throw torchcore::ConfigurationError("Non-square sample_size is not supported");
  }
  Get(json, "sample_size", config.sampleSize);
  Get(json, "in_channels", config.inChannels);
  Get(json, "out_channels", config.outChannels);
  Get(json, "center_input_sample", config.centerInputSample);
  Get(json, "time_embedding_type", config.timeEmbeddingType);
  Get(json, "freq_shift", config.freqShift);
  Get(json, "flip_sin_to_cos", config.flipSinToCos);
  Get(json, "down_block_types", config.downBlockTypes);
  Get(json, "up_block_types", config.upBlockTypes);
  Get(json, "block_out_channels", config.blockOutChannels);
  Get(json, "layers_per_block", config.layersPerBlock);
  Get(json, "mid_block_scale_factor", config.midBlockScaleFactor);
  Get(json, "downsample_padding", config.downsamplePadding);
  Get(json, "act_fn", config.actFn);
  if (json.contains("attention_head_dim") && json["attention_head_dim"].is_null())
  {
    config.attentionHeadDim = 0;
  }
  Get(json, "attention_head_dim", config.attentionHeadDim);
  Get(json, "norm_num_groups", config.normNumGroups);
  Get(json, "attn_norm_num_groups", config.attnNormNumGroups);
  Get(json, "norm_eps", config.normEps);
  Get(json, "resnet_time_scale_shift", config.resnetTimeScaleShift);
  Get(json, "add_attention", config.addAttention);
  Get(json, "dropout", config.dropout);
  for (const char * key : { "class_embed_type", "num_class_embeds", "time_embedding_dim" })
  {
    if (json.contains(key) && !json[key].is_null())
    {
      throw torchcore::ConfigurationError(std::string("U-Net config field \"") + key + "\" is not supported");
    }
  }
  for (const char * key : { "downsample_type", "upsample_type" })
  {
    if (json.contains(key) && json[key] != "conv")
    {
      throw torchcore::ConfigurationError(std::string("U-Net config field \"") + key + "\" must be \"conv\"");
    }
  }
  config.Validate();
  return config;
}

std::string
UNet2DConfig::ToJson() const
{
  nlohmann::json json{ { "_class_name", "UNet2DModel" },
                       { "sample_size", sampleSize },
                       { "in_channels", inChannels },
                       { "out_channels", outChannels },
                       { "center_input_sample", centerInputSample },
                       { "time_embedding_type", timeEmbeddingType },
                       { "freq_shift", freqShift },
                       { "flip_sin_to_cos", flipSinToCos },
                       { "down_block_types", downBlockTypes },
                       { "up_block_types", upBlockTypes },
                       { "block_out_channels", blockOutChannels },
                       { "layers_per_block", layersPerBlock },
                       { "mid_block_scale_factor", midBlockScaleFactor },
                       { "downsample_padding", downsamplePadding },
                       { "downsample_type", "conv" },
                       { "upsample_type", "conv" },
                       { "act_fn", actFn },
                       { "norm_num_groups", normNumGroups },
                       { "norm_eps", normEps },
                       { "resnet_time_scale_shift", resnetTimeScaleShift },
                       { "add_attention", addAttention },
                       { "dropout", dropout } };
  json["attention_head_dim"] = attentionHeadDim > 0 ? nlohmann::json(attentionHeadDim) : nlohmann::json(nullptr);
  json["attn_norm_num_groups"] = attnNormNumGroups > 0 ? nlohmann::json(attnNormNumGroups) : nlohmann::json(nullptr);
  return json.dump();
}

void
UNet2DConfig::Validate() const
{
  const auto fail = [](const std::string & what) {
    throw torchcore::ConfigurationError("Invalid U-Net config: " + what);
  };
  if (timeEmbeddingType != "positional")
  {
    fail("time_embedding_type \"" + timeEmbeddingType + "\" is not supported (use \"positional\")");
  }
  if (actFn != "silu" && actFn != "swish")
  {
    fail("act_fn \"" + actFn + "\" is not supported (use \"silu\")");
  }
  if (resnetTimeScaleShift != "default" && resnetTimeScaleShift != "scale_shift")
  {
    fail("resnet_time_scale_shift \"" + resnetTimeScaleShift + "\" is not supported (use default or scale_shift)");
  }
  if (inChannels <= 0 || outChannels <= 0 || sampleSize <= 0 || layersPerBlock <= 0 || normNumGroups <= 0)
  {
    fail("in_channels, out_channels, sample_size, layers_per_block and norm_num_groups must be positive");
  }
  if (blockOutChannels.empty() || blockOutChannels.size() != downBlockTypes.size() ||
      blockOutChannels.size() != upBlockTypes.size())
  {
    fail("block_out_channels, down_block_types and up_block_types must be non-empty and of equal length");
  }
  for (std::size_t i = 0; i < blockOutChannels.size(); ++i)
  {
    if (blockOutChannels[i] <= 0 || blockOutChannels[i] % normNumGroups != 0)
    {
      fail("block_out_channels[" + std::to_string(i) + "] = " + std::to_string(blockOutChannels[i]) +
           " is not a positive multiple of norm_num_groups = " + std::to_string(normNumGroups));
    }
    if (attentionHeadDim > 0 && blockOutChannels[i] < attentionHeadDim)
    {
      fail("attention_head_dim exceeds block_out_channels[" + std::to_string(i) + "]");
    }
    if (downBlockTypes[i] != "DownBlock2D" && downBlockTypes[i] != "AttnDownBlock2D")
    {
      fail("down block type \"" + downBlockTypes[i] + "\" is not supported (DownBlock2D, AttnDownBlock2D)");
    }
    if (upBlockTypes[i] != "UpBlock2D" && upBlockTypes[i] != "AttnUpBlock2D")
    {
      fail("up block type \"" + upBlockTypes[i] + "\" is not supported (UpBlock2D, AttnUpBlock2D)");
    }
  }
  if (attnNormNumGroups < 0 || attentionHeadDim < 0 || downsamplePadding < 0 || dropout < 0.0 || dropout >= 1.0)
  {
    fail("attn_norm_num_groups, attention_head_dim, downsample_padding must be >= 0 and dropout in [0, 1)");
  }
  if (blockOutChannels[0] % 2 != 0)
  {
    fail("block_out_channels[0] must be even (it is the sinusoidal time embedding's width)");
  }
}

} // namespace diffusion
} // namespace itk
