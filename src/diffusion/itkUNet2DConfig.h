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
#ifndef itkUNet2DConfig_h
#define itkUNet2DConfig_h

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{
namespace diffusion
{

/** The architecture of a UNet2D: the fields and defaults of diffusers' UNet2DModel configuration
 * (config.json), restricted to what a pixel-space, unconditional-or-FiLM U-Net needs. Fields that
 * diffusers has but this engine does not implement (Fourier time embedding, class embeddings,
 * ResNet up/down samplers, "spatial" norm) are refused when a config asks for them. */
struct UNet2DConfig
{
  std::int64_t sampleSize = 64;
  std::int64_t inChannels = 3;
  std::int64_t outChannels = 3;
  bool         centerInputSample = false;
  std::string  timeEmbeddingType = "positional";
  double       freqShift = 0.0;
  bool         flipSinToCos = true;
  // The paper's default: base width 64, four scales, attention only at the two coarse scales.
  std::vector<std::string>  downBlockTypes{ "DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D" };
  std::vector<std::string>  upBlockTypes{ "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D" };
  std::vector<std::int64_t> blockOutChannels{ 64, 128, 256, 256 };
  std::int64_t              layersPerBlock = 2;
  double                    midBlockScaleFactor = 1.0;
  std::int64_t              downsamplePadding = 1;
  std::string               actFn = "silu";
  /** 0 means None (one head per block: the head dimension is the block's width). */
  std::int64_t attentionHeadDim = 8;
  std::int64_t normNumGroups = 32;
  /** 0 means None (diffusers' default: the mid-block attention norm follows resnet_time_scale_shift). */
  std::int64_t attnNormNumGroups = 0;
  double       normEps = 1e-5;
  std::string  resnetTimeScaleShift = "default";
  bool         addAttention = true;
  double       dropout = 0.0;

  /** Parses a diffusers config.json text; unknown fields are ignored, unsupported values refused. */
  static UNet2DConfig
  FromJson(const std::string & json);

  /** Writes the diffusers config.json fields (with "_class_name": "UNet2DModel"). */
  std::string
  ToJson() const;

  /** Throws ConfigurationError unless the architecture can be built. */
  void
  Validate() const;
};

} // namespace diffusion
} // namespace itk

#endif
