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
#ifndef itkUNet2D_h
#define itkUNet2D_h

#include "itkDiffusionConditioning.h"
#include "itkSafeTensors.h"
#include "itkUNet2DConfig.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace itk
{
namespace diffusion
{

/** The sinusoidal embedding of diffusion timesteps (diffusers' get_timestep_embedding with scale 1
 * and max_period 10000): [B] -> [B, dim]. */
torch::Tensor
TimestepEmbedding(const torch::Tensor & timesteps, std::int64_t dim, bool flipSinToCos, double freqShift);

/** diffusers' TimestepEmbedding: linear_1, SiLU, linear_2. */
class TimeMlpImpl : public torch::nn::Module
{
public:
  TimeMlpImpl(std::int64_t in, std::int64_t out);
  torch::Tensor
  forward(const torch::Tensor & x);

private:
  torch::nn::Linear m_Linear1{ nullptr };
  torch::nn::Linear m_Linear2{ nullptr };
};
TORCH_MODULE(TimeMlp);

/** diffusers' ResnetBlock2D (pre-norm, SiLU, no up/down sampling): norm1, conv1, time_emb_proj,
 * norm2, conv2 and, when the width changes, a 1x1 conv_shortcut. "scale_shift" applies the time
 * embedding as h * (1 + scale) + shift after norm2; "default" adds it before norm2. */
class ResnetBlock2DImpl : public torch::nn::Module
{
public:
  ResnetBlock2DImpl(std::int64_t in, std::int64_t out, std::int64_t tembChannels, std::int64_t groups, double eps,
                    bool scaleShift, double outputScaleFactor, double dropout, std::string name);
  torch::Tensor
  forward(const torch::Tensor & x, const torch::Tensor & temb, const UNetModulator * modulator);

private:
  torch::nn::GroupNorm m_Norm1{ nullptr };
  torch::nn::Conv2d    m_Conv1{ nullptr };
  torch::nn::Linear    m_TimeEmbProj{ nullptr };
  torch::nn::GroupNorm m_Norm2{ nullptr };
  torch::nn::Conv2d    m_Conv2{ nullptr };
  torch::nn::Conv2d    m_ConvShortcut{ nullptr };
  bool                 m_ScaleShift;
  double               m_OutputScaleFactor;
  double               m_Dropout;
  std::string          m_Name;
};
TORCH_MODULE(ResnetBlock2D);

/** diffusers' Attention as used by UNet2DModel's attention blocks (the former AttentionBlock):
 * optional group_norm, to_q/to_k/to_v, multi-head softmax attention over the pixels (in fp32),
 * to_out.0, residual connection, divided by the rescale factor. */
class SpatialAttentionImpl : public torch::nn::Module
{
public:
  SpatialAttentionImpl(std::int64_t channels, std::int64_t headDim, std::int64_t groups, double eps, double rescale);
  torch::Tensor
  forward(const torch::Tensor & x);

private:
  torch::nn::GroupNorm  m_GroupNorm{ nullptr };
  torch::nn::Linear     m_ToQ{ nullptr };
  torch::nn::Linear     m_ToK{ nullptr };
  torch::nn::Linear     m_ToV{ nullptr };
  torch::nn::ModuleList m_ToOutList;
  torch::nn::Linear     m_ToOut{ nullptr };
  std::int64_t          m_Heads;
  std::int64_t          m_HeadDim;
  double                m_Rescale;
};
TORCH_MODULE(SpatialAttention);

/** A strided 3x3 convolution (Downsample2D) or nearest x2 upsampling and a 3x3 convolution
 * (Upsample2D); the parameter is "conv" in both. */
class ResampleImpl : public torch::nn::Module
{
public:
  ResampleImpl(std::int64_t channels, bool down, std::int64_t padding);
  torch::Tensor
  forward(const torch::Tensor & x);

private:
  torch::nn::Conv2d m_Conv{ nullptr };
  bool              m_Down;
  std::int64_t      m_Padding;
};
TORCH_MODULE(Resample);

/** DownBlock2D / AttnDownBlock2D, UpBlock2D / AttnUpBlock2D and UNetMidBlock2D in one class: a
 * sequence of ResNet blocks, each optionally followed by attention, then an optional resampler.
 * Up blocks concatenate one skip tensor before each ResNet. */
class UNetBlockImpl : public torch::nn::Module
{
public:
  enum class Kind
  {
    Down,
    Mid,
    Up
  };
  UNetBlockImpl(Kind kind, const UNet2DConfig & config, std::vector<std::int64_t> resnetIn, std::int64_t out,
                std::int64_t tembChannels, bool attention, bool resample, const std::string & name);

  /** Down: appends the block's skip outputs to `skips`. Up: consumes skips from its end. */
  torch::Tensor
  forward(torch::Tensor x, const torch::Tensor & temb, std::vector<torch::Tensor> & skips,
          const UNetModulator * modulator);

private:
  Kind                          m_Kind;
  std::vector<ResnetBlock2D>    m_Resnets;
  std::vector<SpatialAttention> m_Attentions;
  Resample                      m_Resampler{ nullptr };
};
TORCH_MODULE(UNetBlock);

/** diffusers' UNet2DModel (positional time embedding, no class embedding), with the same
 * parameter names, so its safetensors weights load directly. forward(sample [B, C, H, W],
 * timesteps [B] or [1]) returns the model output (noise, or v) [B, out_channels, H, W]. H and W
 * must be divisible by 2^(scales - 1). An optional modulator applies FiLM conditioning. */
class UNet2DImpl : public torch::nn::Module
{
public:
  explicit UNet2DImpl(const UNet2DConfig & config);

  torch::Tensor
  forward(const torch::Tensor & sample, const torch::Tensor & timesteps, const UNetModulator * modulator = nullptr);

  const UNet2DConfig &
  Config() const
  {
    return m_Config;
  }

  /** Copies weights from named tensors (diffusers' names; the legacy attention names query, key,
   * value and proj_attn are accepted). Strict: a missing or unexpected tensor, or a shape that
   * differs from the config's, throws ModelFileError naming the tensor and both shapes. `prefix` is
   * stripped from the tensor names first (e.g. "ema."), and tensors without it are ignored. */
  void
  LoadWeights(const torchcore::SafeTensors & weights, const std::string & source, const std::string & prefix = "");

  /** The parameters by diffusers' names, ready to write (optionally with a name prefix). */
  std::vector<std::pair<std::string, torch::Tensor>>
  NamedWeights(const std::string & prefix = "") const;

private:
  UNet2DConfig           m_Config;
  torch::nn::Conv2d      m_ConvIn{ nullptr };
  TimeMlp                m_TimeEmbedding{ nullptr };
  std::vector<UNetBlock> m_DownBlocks;
  UNetBlock              m_MidBlock{ nullptr };
  std::vector<UNetBlock> m_UpBlocks;
  torch::nn::GroupNorm   m_ConvNormOut{ nullptr };
  torch::nn::Conv2d      m_ConvOut{ nullptr };
};
TORCH_MODULE(UNet2D);

/** Maps a legacy diffusers attention parameter name (query, key, value, proj_attn) to the current
 * one (to_q, to_k, to_v, to_out.0); other names are returned unchanged. */
std::string
CurrentParameterName(const std::string & name);

} // namespace diffusion
} // namespace itk

#endif
