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
#include "itkUNet2D.h"

#include "itkAttentionProduct.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/utils.h>

#include <cmath>
#include <set>
#include <sstream>

namespace itk
{
namespace diffusion
{
namespace
{
namespace F = torch::nn::functional;

torch::nn::Conv2d
Conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1, std::int64_t padding = 1)
{
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(padding));
}

std::string
ShapeText(torch::IntArrayRef sizes)
{
  std::ostringstream text;
  text << '[';
  for (std::size_t i = 0; i < sizes.size(); ++i)
  {
    text << (i ? ", " : "") << sizes[i];
  }
  text << ']';
  return text.str();
}

} // namespace

torch::Tensor
TimestepEmbedding(const torch::Tensor & timesteps, std::int64_t dim, bool flipSinToCos, double freqShift)
{
  const std::int64_t half = dim / 2;
  const auto         options = torch::TensorOptions().dtype(torch::kFloat32).device(timesteps.device());
  auto               exponent = torch::arange(0, half, options) * (-std::log(10000.0));
  exponent = exponent / (static_cast<double>(half) - freqShift);
  auto emb = timesteps.to(torch::kFloat32).unsqueeze(1) * torch::exp(exponent).unsqueeze(0);
  emb = flipSinToCos ? torch::cat({ torch::cos(emb), torch::sin(emb) }, -1)
                     : torch::cat({ torch::sin(emb), torch::cos(emb) }, -1);
  if (dim % 2 == 1)
  {
    emb = F::pad(emb, F::PadFuncOptions({ 0, 1, 0, 0 }));
  }
  return emb;
}

TimeMlpImpl::TimeMlpImpl(std::int64_t in, std::int64_t out)
  : m_Linear1(register_module("linear_1", torch::nn::Linear(in, out)))
  , m_Linear2(register_module("linear_2", torch::nn::Linear(out, out)))
{}

torch::Tensor
TimeMlpImpl::forward(const torch::Tensor & x)
{
  return m_Linear2(torch::silu(m_Linear1(x)));
}

ResnetBlock2DImpl::ResnetBlock2DImpl(std::int64_t in, std::int64_t out, std::int64_t tembChannels, std::int64_t groups,
                                     double eps, bool scaleShift, double outputScaleFactor, double dropout,
                                     std::string name)
  : m_Norm1(register_module("norm1", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, in).eps(eps))))
  , m_Conv1(register_module("conv1", Conv3x3(in, out)))
  , m_TimeEmbProj(register_module("time_emb_proj", torch::nn::Linear(tembChannels, scaleShift ? 2 * out : out)))
  , m_Norm2(register_module("norm2", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, out).eps(eps))))
  , m_Conv2(register_module("conv2", Conv3x3(out, out)))
  , m_ScaleShift(scaleShift)
  , m_OutputScaleFactor(outputScaleFactor)
  , m_Dropout(dropout)
  , m_Name(std::move(name))
{
  if (in != out)
  {
    m_ConvShortcut = register_module("conv_shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
  }
}

torch::Tensor
ResnetBlock2DImpl::forward(const torch::Tensor & x, const torch::Tensor & temb, const UNetModulator * modulator)
{
  auto h = m_Conv1(torch::silu(m_Norm1(x)));
  auto t = m_TimeEmbProj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  if (m_ScaleShift)
  {
    auto scaleAndShift = t.chunk(2, 1);
    h = m_Norm2(h) * (1 + scaleAndShift[0]) + scaleAndShift[1];
  }
  else
  {
    h = m_Norm2(h + t);
  }
  if (modulator != nullptr)
  {
    h = modulator->Modulate(m_Name, h);
  }
  h = torch::silu(h);
  if (m_Dropout > 0.0)
  {
    h = torch::dropout(h, m_Dropout, is_training());
  }
  h = m_Conv2(h);
  auto shortcut = m_ConvShortcut ? m_ConvShortcut(x) : x;
  auto result = shortcut + h;
  return m_OutputScaleFactor == 1.0 ? result : result / m_OutputScaleFactor;
}

SpatialAttentionImpl::SpatialAttentionImpl(std::int64_t channels, std::int64_t headDim, std::int64_t groups, double eps,
                                           double rescale)
  : m_Heads(headDim > 0 ? channels / headDim : 1)
  , m_HeadDim(headDim > 0 ? headDim : channels)
  , m_Rescale(rescale)
{
  const std::int64_t inner = m_Heads * m_HeadDim;
  if (groups > 0)
  {
    m_GroupNorm =
      register_module("group_norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps)));
  }
  m_ToQ = register_module("to_q", torch::nn::Linear(channels, inner));
  m_ToK = register_module("to_k", torch::nn::Linear(channels, inner));
  m_ToV = register_module("to_v", torch::nn::Linear(channels, inner));
  m_ToOut = torch::nn::Linear(inner, channels);
  m_ToOutList->push_back(m_ToOut);
  register_module("to_out", m_ToOutList);
}

torch::Tensor
SpatialAttentionImpl::forward(const torch::Tensor & x)
{
  const auto batch = x.size(0);
  const auto channels = x.size(1);
  const auto height = x.size(2);
  const auto width = x.size(3);
  auto       h = x.reshape({ batch, channels, height * width });
  if (m_GroupNorm)
  {
    h = m_GroupNorm(h);
  }
  h = h.transpose(1, 2);
  // Heads folded into the batch, [B * heads, N, d], as diffusers' AttnProcessor does.
  const auto split = [&](const torch::Tensor & t) {
    return t.reshape({ batch, -1, m_Heads, m_HeadDim })
      .permute({ 0, 2, 1, 3 })
      .reshape({ batch * m_Heads, -1, m_HeadDim });
  };
  const auto q = split(m_ToQ(h));
  const auto k = split(m_ToK(h));
  const auto v = split(m_ToV(h));
  const auto tokens = q.size(1);
  auto       attended = Attend(q, k, v, 1.0 / std::sqrt(static_cast<double>(m_HeadDim)));
  attended = attended.reshape({ batch, m_Heads, tokens, m_HeadDim })
               .permute({ 0, 2, 1, 3 })
               .reshape({ batch, tokens, m_Heads * m_HeadDim });
  auto out = m_ToOut(attended).transpose(1, 2).reshape({ batch, channels, height, width });
  out = out + x;
  return m_Rescale == 1.0 ? out : out / m_Rescale;
}

ResampleImpl::ResampleImpl(std::int64_t channels, bool down, std::int64_t padding)
  : m_Conv(register_module("conv", down ? Conv3x3(channels, channels, 2, padding) : Conv3x3(channels, channels)))
  , m_Down(down)
  , m_Padding(padding)
{}

torch::Tensor
ResampleImpl::forward(const torch::Tensor & x)
{
  if (m_Down)
  {
    // diffusers pads right and bottom by one when the convolution itself has no padding.
    return m_Conv(m_Padding == 0 ? F::pad(x, F::PadFuncOptions({ 0, 1, 0, 1 })) : x);
  }
  auto up =
    F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{ 2.0, 2.0 }).mode(torch::kNearest));
  return m_Conv(up);
}

UNetBlockImpl::UNetBlockImpl(Kind kind, const UNet2DConfig & config, std::vector<std::int64_t> resnetIn,
                             std::int64_t out, std::int64_t tembChannels, bool attention, bool resample,
                             const std::string & name)
  : m_Kind(kind)
{
  const bool   scaleShift = config.resnetTimeScaleShift == "scale_shift";
  const double scale = kind == Kind::Mid ? config.midBlockScaleFactor : 1.0;
  std::int64_t attentionGroups = config.normNumGroups;
  if (kind == Kind::Mid)
  {
    attentionGroups = config.attnNormNumGroups > 0 ? config.attnNormNumGroups : (scaleShift ? 0 : config.normNumGroups);
  }
  torch::nn::ModuleList resnets;
  torch::nn::ModuleList attentions;
  for (std::size_t i = 0; i < resnetIn.size(); ++i)
  {
    m_Resnets.emplace_back(resnetIn[i],
                           out,
                           tembChannels,
                           config.normNumGroups,
                           config.normEps,
                           scaleShift,
                           scale,
                           config.dropout,
                           name + ".resnets." + std::to_string(i));
    resnets->push_back(m_Resnets.back());
    // The mid block interleaves: resnet, (attention, resnet)...; the others: (resnet, attention)...
    if (attention && (kind != Kind::Mid || i > 0))
    {
      m_Attentions.emplace_back(out, config.attentionHeadDim, attentionGroups, config.normEps, scale);
      attentions->push_back(m_Attentions.back());
    }
  }
  register_module("resnets", resnets);
  if (attention)
  {
    register_module("attentions", attentions);
  }
  if (resample)
  {
    m_Resampler = Resample(out, kind == Kind::Down, config.downsamplePadding);
    torch::nn::ModuleList resamplers;
    resamplers->push_back(m_Resampler);
    register_module(kind == Kind::Down ? "downsamplers" : "upsamplers", resamplers);
  }
}

torch::Tensor
UNetBlockImpl::forward(torch::Tensor x, const torch::Tensor & temb, std::vector<torch::Tensor> & skips,
                       const UNetModulator * modulator)
{
  for (std::size_t i = 0; i < m_Resnets.size(); ++i)
  {
    if (m_Kind == Kind::Up)
    {
      x = torch::cat({ x, skips.back() }, 1);
      skips.pop_back();
    }
    if (m_Kind == Kind::Mid)
    {
      if (i > 0 && !m_Attentions.empty())
      {
        x = m_Attentions[i - 1](x);
      }
      x = m_Resnets[i](x, temb, modulator);
      continue;
    }
    x = m_Resnets[i](x, temb, modulator);
    if (!m_Attentions.empty())
    {
      x = m_Attentions[i](x);
    }
    if (m_Kind == Kind::Down)
    {
      skips.push_back(x);
    }
  }
  if (m_Resampler)
  {
    x = m_Resampler(x);
    if (m_Kind == Kind::Down)
    {
      skips.push_back(x);
    }
  }
  return x;
}

UNet2DImpl::UNet2DImpl(const UNet2DConfig & config)
  : m_Config(config)
{
  m_Config.Validate();
  const auto &       widths = m_Config.blockOutChannels;
  const std::int64_t scales = static_cast<std::int64_t>(widths.size());
  const std::int64_t tembChannels = widths[0] * 4;
  m_ConvIn = register_module("conv_in", Conv3x3(m_Config.inChannels, widths[0]));
  m_TimeEmbedding = register_module("time_embedding", TimeMlp(widths[0], tembChannels));

  torch::nn::ModuleList down;
  std::int64_t          outChannels = widths[0];
  for (std::int64_t i = 0; i < scales; ++i)
  {
    const std::int64_t        inChannels = outChannels;
    std::vector<std::int64_t> resnetIn(m_Config.layersPerBlock, widths[i]);
    outChannels = widths[i];
    resnetIn[0] = inChannels;
    m_DownBlocks.emplace_back(UNetBlockImpl::Kind::Down,
                              m_Config,
                              resnetIn,
                              outChannels,
                              tembChannels,
                              m_Config.downBlockTypes[i] == "AttnDownBlock2D",
                              i + 1 < scales,
                              "down_blocks." + std::to_string(i));
    down->push_back(m_DownBlocks.back());
  }
  register_module("down_blocks", down);

  m_MidBlock = register_module("mid_block",
                               UNetBlock(UNetBlockImpl::Kind::Mid,
                                         m_Config,
                                         std::vector<std::int64_t>{ widths.back(), widths.back() },
                                         widths.back(),
                                         tembChannels,
                                         m_Config.addAttention,
                                         false,
                                         "mid_block"));

  // Channel bookkeeping of diffusers' UNet2DModel: each up block takes the previous block's output,
  // concatenates the matching down path's skips, and its last ResNet takes the skip of the next finer scale.
  torch::nn::ModuleList up;
  outChannels = widths.back();
  for (std::int64_t i = 0; i < scales; ++i)
  {
    const std::int64_t        previousOut = outChannels;
    const std::int64_t        reversed = scales - 1 - i;
    const std::int64_t        inChannels = widths[std::max<std::int64_t>(reversed - 1, 0)];
    const std::int64_t        layers = m_Config.layersPerBlock + 1;
    std::vector<std::int64_t> resnetIn;
    outChannels = widths[reversed];
    for (std::int64_t j = 0; j < layers; ++j)
    {
      const std::int64_t skipChannels = j == layers - 1 ? inChannels : outChannels;
      resnetIn.push_back((j == 0 ? previousOut : outChannels) + skipChannels);
    }
    m_UpBlocks.emplace_back(UNetBlockImpl::Kind::Up,
                            m_Config,
                            resnetIn,
                            outChannels,
                            tembChannels,
                            m_Config.upBlockTypes[i] == "AttnUpBlock2D",
                            i + 1 < scales,
                            "up_blocks." + std::to_string(i));
    up->push_back(m_UpBlocks.back());
  }
  register_module("up_blocks", up);

  m_ConvNormOut = register_module(
    "conv_norm_out",
    torch::nn::GroupNorm(torch::nn::GroupNormOptions(m_Config.normNumGroups, widths[0]).eps(m_Config.normEps)));
  m_ConvOut = register_module("conv_out", Conv3x3(widths[0], m_Config.outChannels));
}

torch::Tensor
UNet2DImpl::forward(const torch::Tensor & sample, const torch::Tensor & timesteps, const UNetModulator * modulator)
{
  const auto         batch = sample.size(0);
  const std::int64_t factor = std::int64_t{ 1 } << (m_Config.blockOutChannels.size() - 1);
  if (sample.dim() != 4 || sample.size(1) != m_Config.inChannels || sample.size(2) % factor != 0 ||
      sample.size(3) % factor != 0)
  {
    throw torchcore::ConfigurationError("The U-Net takes [B, " + std::to_string(m_Config.inChannels) +
                                        ", H, W] with H and W multiples of " + std::to_string(factor) + "; got " +
                                        ShapeText(sample.sizes()));
  }
  auto t = timesteps.reshape({ -1 });
  if (t.numel() == 1)
  {
    t = t.expand({ batch });
  }
  auto x = m_Config.centerInputSample ? 2 * sample - 1.0 : sample;
  auto emb = TimestepEmbedding(t, m_Config.blockOutChannels[0], m_Config.flipSinToCos, m_Config.freqShift);
  emb = m_TimeEmbedding(emb.to(x.scalar_type()));

  x = m_ConvIn(x);
  std::vector<torch::Tensor> skips{ x };
  for (auto & block : m_DownBlocks)
  {
    x = block(x, emb, skips, modulator);
  }
  x = m_MidBlock(x, emb, skips, modulator);
  for (auto & block : m_UpBlocks)
  {
    x = block(x, emb, skips, modulator);
  }
  return m_ConvOut(torch::silu(m_ConvNormOut(x)));
}

std::string
CurrentParameterName(const std::string & name)
{
  static const std::vector<std::pair<std::string, std::string>> legacy{
    { ".query.", ".to_q." }, { ".key.", ".to_k." }, { ".value.", ".to_v." }, { ".proj_attn.", ".to_out.0." }
  };
  for (const auto & rename : legacy)
  {
    const auto at = name.find(rename.first);
    if (at != std::string::npos && name.find(".attentions.") != std::string::npos)
    {
      return name.substr(0, at) + rename.second + name.substr(at + rename.first.size());
    }
  }
  return name;
}

void
UNet2DImpl::LoadWeights(const torchcore::SafeTensors & weights, const std::string & source, const std::string & prefix)
{
  auto                  parameters = named_parameters(true);
  std::set<std::string> loaded;
  torch::NoGradGuard    noGrad;
  for (const auto & named : weights.tensors)
  {
    if (named.first.compare(0, prefix.size(), prefix) != 0)
    {
      continue;
    }
    const auto name = CurrentParameterName(named.first.substr(prefix.size()));
    auto *     parameter = parameters.find(name);
    if (parameter == nullptr)
    {
      throw torchcore::ModelFileError(
        "The model file " + source + " has a tensor \"" + named.first +
        "\" that the U-Net config does not have: the file's config does not describe its weights");
    }
    if (parameter->sizes() != named.second.sizes())
    {
      throw torchcore::ModelFileError("Tensor \"" + named.first + "\" in " + source + " has shape " +
                                      ShapeText(named.second.sizes()) + " but the U-Net config expects " +
                                      ShapeText(parameter->sizes()) + ": the config does not match the weights");
    }
    if (!loaded.insert(name).second)
    {
      throw torchcore::ModelFileError("The model file " + source + " holds tensor \"" + name +
                                      "\" twice (legacy and current names)");
    }
    parameter->copy_(named.second.to(parameter->device(), parameter->scalar_type()));
  }
  for (const auto & parameter : parameters)
  {
    if (loaded.count(parameter.key()) == 0)
    {
      throw torchcore::ModelFileError("The model file " + source + " lacks tensor \"" + prefix + parameter.key() +
                                      "\" (shape " + ShapeText(parameter.value().sizes()) +
                                      ") that the U-Net config needs");
    }
  }
}

std::vector<std::pair<std::string, torch::Tensor>>
UNet2DImpl::NamedWeights(const std::string & prefix) const
{
  std::vector<std::pair<std::string, torch::Tensor>> result;
  for (const auto & parameter : named_parameters(true))
  {
    result.emplace_back(prefix + parameter.key(), parameter.value().detach());
  }
  return result;
}

} // namespace diffusion
} // namespace itk
