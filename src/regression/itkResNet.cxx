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
#include "itkResNet.h"

#include "itkConfigJson.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/torch.h>

namespace itk
{
namespace regression
{
namespace
{
using torchcore::ConfigurationError;

/** Blocks per stage, torchvision's resnet18/34/50. */
std::array<std::int64_t, 4>
BlocksPerStage(int depth)
{
  if (depth == 18)
  {
    return { 2, 2, 2, 2 };
  }
  return { 3, 4, 6, 3 };
}

torch::nn::Conv2d
Conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding)
{
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}
} // namespace

nlohmann::json
ResNetConfig::ToJson() const
{
  return { { "architecture", "resnet" + std::to_string(depth) },
           { "depth", depth },
           { "in_channels", inChannels },
           { "number_of_outputs", numberOfOutputs },
           { "mean", mean },
           { "std", std } };
}

ResNetConfig
ResNetConfig::FromJson(const nlohmann::json & json)
{
  const std::string what = "The ResNet config";
  if (!json.is_object() || !json.contains("depth") || !json.contains("number_of_outputs"))
  {
    throw torchcore::ConfigurationError(
      what + " must be a JSON object with \"depth\" and \"number_of_outputs\": " + json.dump());
  }
  ResNetConfig config;
  torchcore::ReadOptionalConfigField(json, "depth", config.depth, what);
  torchcore::ReadOptionalConfigField(json, "in_channels", config.inChannels, what);
  torchcore::ReadOptionalConfigField(json, "number_of_outputs", config.numberOfOutputs, what);
  torchcore::ReadOptionalConfigField(json, "mean", config.mean, what);
  torchcore::ReadOptionalConfigField(json, "std", config.std, what);
  config.Validate();
  return config;
}

void
ResNetConfig::Validate() const
{
  const auto fail = [](const std::string & what) {
    throw torchcore::ConfigurationError("Invalid ResNet config: " + what);
  };
  if (depth != 18 && depth != 34 && depth != 50)
  {
    fail("depth " + std::to_string(depth) + " is not 18, 34 or 50 (torchvision's resnet18, resnet34, resnet50)");
  }
  if (inChannels != 3)
  {
    fail("the input must have 3 channels (RGB, normalised by the per-channel mean and std), not " +
         std::to_string(inChannels));
  }
  if (numberOfOutputs < 1)
  {
    fail("the number of outputs (genes) must be positive, not " + std::to_string(numberOfOutputs));
  }
  for (std::size_t c = 0; c < 3; ++c)
  {
    if (!std::isfinite(mean[c]) || !(std[c] > 0.0) || !std::isfinite(std[c]))
    {
      fail("the normalisation mean must be finite and the std positive");
    }
  }
}

torch::Tensor
ConvBatchNorm::operator()(torch::nn::Conv2dImpl & conv, torch::nn::BatchNorm2dImpl & norm, const torch::Tensor & x)
{
  if (!c10::InferenceMode::is_enabled() || conv.is_training() || norm.is_training() ||
      !norm.options.track_running_stats() || !norm.options.affine())
  {
    return norm.forward(conv.forward(x));
  }
  const std::vector<torch::Tensor> sources{ conv.weight, norm.weight, norm.bias, norm.running_mean, norm.running_var };
  bool                             current = m_Sources.size() == sources.size();
  for (std::size_t i = 0; current && i < sources.size(); ++i)
  {
    current = m_Sources[i].is_same(sources[i]) && m_SourceData[i] == sources[i].data_ptr() &&
              m_SourceVersions[i] == sources[i]._version();
  }
  if (!current)
  {
    const auto scale = norm.weight / torch::sqrt(norm.running_var + norm.options.eps());
    const auto format = conv.weight.suggest_memory_format();
    m_Weight = (conv.weight * scale.view({ -1, 1, 1, 1 })).contiguous(format);
    m_Bias = norm.bias - norm.running_mean * scale;
    if (conv.options.bias())
    {
      m_Bias = m_Bias + conv.bias * scale;
    }
    m_Sources = sources;
    m_SourceData.clear();
    m_SourceVersions.clear();
    for (const auto & source : sources)
    {
      m_SourceData.push_back(source.data_ptr());
      m_SourceVersions.push_back(source._version());
    }
  }
  const auto & o = conv.options;
  return torch::conv2d(
    x, m_Weight, m_Bias, o.stride(), c10::get<torch::ExpandingArray<2>>(o.padding()), o.dilation(), o.groups());
}

ResNetBlockImpl::ResNetBlockImpl(std::int64_t in, std::int64_t planes, std::int64_t stride, bool bottleneck)
  : m_In(in)
  , m_Planes(planes)
  , m_Stride(stride)
  , m_Bottleneck(bottleneck)
{
  reset();
}

void
ResNetBlockImpl::reset()
{
  const auto out = m_Planes * Expansion(m_Bottleneck);
  if (m_Bottleneck)
  {
    m_Conv1 = register_module("conv1", Conv(m_In, m_Planes, 1, 1, 0));
    m_Bn1 = register_module("bn1", torch::nn::BatchNorm2d(m_Planes));
    m_Conv2 = register_module("conv2", Conv(m_Planes, m_Planes, 3, m_Stride, 1));
    m_Bn2 = register_module("bn2", torch::nn::BatchNorm2d(m_Planes));
    m_Conv3 = register_module("conv3", Conv(m_Planes, out, 1, 1, 0));
    m_Bn3 = register_module("bn3", torch::nn::BatchNorm2d(out));
  }
  else
  {
    m_Conv1 = register_module("conv1", Conv(m_In, m_Planes, 3, m_Stride, 1));
    m_Bn1 = register_module("bn1", torch::nn::BatchNorm2d(m_Planes));
    m_Conv2 = register_module("conv2", Conv(m_Planes, m_Planes, 3, 1, 1));
    m_Bn2 = register_module("bn2", torch::nn::BatchNorm2d(m_Planes));
  }
  if (m_Stride != 1 || m_In != out)
  {
    m_Downsample = register_module("downsample",
                                   torch::nn::Sequential(Conv(m_In, out, 1, m_Stride, 0), torch::nn::BatchNorm2d(out)));
  }
}

torch::Tensor
ResNetBlockImpl::forward(const torch::Tensor & x)
{
  // In-place ReLUs, as torchvision's ReLU(inplace=True): neither BatchNorm's nor the sum's backward
  // needs its output, and the activations at 224 px are large enough that a copy costs time.
  auto out = m_Folded1(*m_Conv1, *m_Bn1, x).relu_();
  if (m_Bottleneck)
  {
    out = m_Folded2(*m_Conv2, *m_Bn2, out).relu_();
    out = m_Folded3(*m_Conv3, *m_Bn3, out);
  }
  else
  {
    out = m_Folded2(*m_Conv2, *m_Bn2, out);
  }
  out += m_Downsample ? m_FoldedDownsample(*m_Downsample[0]->as<torch::nn::Conv2dImpl>(),
                                           *m_Downsample[1]->as<torch::nn::BatchNorm2dImpl>(),
                                           x)
                      : x;
  return out.relu_();
}

ResNetImpl::ResNetImpl(ResNetConfig config)
  : m_Config(std::move(config))
{
  m_Config.Validate();
  reset();
}

void
ResNetImpl::reset()
{
  const bool bottleneck = m_Config.depth == 50;
  const auto blocks = BlocksPerStage(m_Config.depth);
  m_Mean = torch::tensor(std::vector<float>(m_Config.mean.begin(), m_Config.mean.end())).view({ 1, 3, 1, 1 });
  m_Std = torch::tensor(std::vector<float>(m_Config.std.begin(), m_Config.std.end())).view({ 1, 3, 1, 1 });
  m_Conv1 = register_module("conv1", Conv(m_Config.inChannels, 64, 7, 2, 3));
  m_Bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  std::int64_t                                 in = 64;
  const std::array<torch::nn::Sequential *, 4> layers{ &m_Layer1, &m_Layer2, &m_Layer3, &m_Layer4 };
  for (std::size_t stage = 0; stage < 4; ++stage)
  {
    const std::int64_t    planes = 64 << stage;
    torch::nn::Sequential layer;
    for (std::int64_t b = 0; b < blocks[stage]; ++b)
    {
      const std::int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      layer->push_back(ResNetBlock(in, planes, stride, bottleneck));
      in = planes * ResNetBlockImpl::Expansion(bottleneck);
    }
    *layers[stage] = register_module("layer" + std::to_string(stage + 1), layer);
  }
  m_Fc = register_module("fc", torch::nn::Linear(in, m_Config.numberOfOutputs));

  // torchvision's initialisation; the head keeps nn.Linear's default, as torchvision's does.
  torch::NoGradGuard noGrad;
  for (auto & module : modules(/*include_self=*/false))
  {
    if (auto * conv = module->as<torch::nn::Conv2d>())
    {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      // Channels-last weights, as PatchesToResNetInput's images (same values; files store them NCHW).
      conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
    }
    else if (auto * norm = module->as<torch::nn::BatchNorm2d>())
    {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    }
  }
}

torch::Tensor
ResNetImpl::Features(const torch::Tensor & images)
{
  if (images.dim() != 4 || images.size(1) != m_Config.inChannels || !images.is_floating_point())
  {
    throw torchcore::ConfigurationError("The ResNet takes float images [B, 3, H, W] in [0, 1]; it was given " +
                                        std::string(images.scalar_type() == torch::kUInt8 ? "uint8 " : "") +
                                        c10::str(images.sizes()));
  }
  auto x =
    (images - m_Mean.to(images.device(), images.scalar_type())) / m_Std.to(images.device(), images.scalar_type());
  x = m_Folded1(*m_Conv1, *m_Bn1, x).relu_();
  x = torch::max_pool2d(x, 3, 2, 1);
  x = m_Layer4->forward(m_Layer3->forward(m_Layer2->forward(m_Layer1->forward(x))));
  return torch::adaptive_avg_pool2d(x, { 1, 1 }).flatten(1);
}

torch::Tensor
ResNetImpl::forward(const torch::Tensor & images)
{
  return Head(Features(images));
}

torch::Tensor
ResNetImpl::Head(const torch::Tensor & features)
{
  return m_Fc(features);
}

std::int64_t
ResNetImpl::NumberOfFeatures() const
{
  return 512 * ResNetBlockImpl::Expansion(m_Config.depth == 50);
}

std::vector<std::pair<std::string, torch::Tensor>>
ResNetImpl::NamedState(const std::string & prefix) const
{
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto & named : named_parameters())
  {
    state.emplace_back(prefix + named.key(), named.value());
  }
  for (const auto & named : named_buffers())
  {
    state.emplace_back(prefix + named.key(), named.value());
  }
  return state;
}

torch::Tensor
PatchesToResNetInput(const torch::Tensor & patches)
{
  if (patches.dim() == 4 && patches.scalar_type() == torch::kUInt8 && patches.size(3) == 3)
  {
    // Channels-last whatever the batch's strides, as the convolution weights are: oneDNN then runs
    // without reordering (measured 10% faster training and 25-35% faster prediction at 224^2 here).
    return patches.permute({ 0, 3, 1, 2 })
      .to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/false, torch::MemoryFormat::ChannelsLast)
      .div_(255.0);
  }
  if (patches.dim() == 4 && patches.is_floating_point() && patches.size(1) == 3)
  {
    return patches;
  }
  throw torchcore::ConfigurationError("Patches must be uint8 [N, H, W, 3] or float [N, 3, H, W]; they are " +
                                      c10::str(patches.sizes()) + " of " +
                                      std::string(c10::toString(patches.scalar_type())));
}

} // namespace regression
} // namespace itk
