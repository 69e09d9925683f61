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
#include "itkSparseImputationNetwork.h"

#include <cmath>
#include <string>

namespace itk
{
namespace imputation
{
namespace
{
torch::nn::Conv2d
Convolution(std::int64_t in, std::int64_t out, std::int64_t kernel)
{
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
}
} // namespace

ResidualDenseBlockImpl::ResidualDenseBlockImpl(std::int64_t channels, std::int64_t growth, std::int64_t layers)
{
  for (std::int64_t layer = 0; layer < layers; ++layer)
  {
    m_Layers.push_back(
      register_module("layer" + std::to_string(layer), Convolution(channels + growth * layer, growth, 3)));
  }
  m_Fusion = register_module("fusion", Convolution(channels + growth * layers, channels, 1));
}

torch::Tensor
ResidualDenseBlockImpl::forward(const torch::Tensor & x)
{
  torch::Tensor features = x;
  for (auto & layer : m_Layers)
  {
    features = torch::cat({ features, torch::relu(layer->forward(features)) }, 1);
  }
  return x + m_Fusion->forward(features);
}

WindowAttentionBlockImpl::WindowAttentionBlockImpl(std::int64_t channels, std::int64_t window, std::int64_t heads,
                                                   bool shifted)
  : m_Window(window)
  , m_Heads(heads)
  , m_Shifted(shifted)
{
  m_Norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({ channels })));
  m_QKV = register_module("qkv", torch::nn::Linear(channels, 3 * channels));
  m_Projection = register_module("proj", torch::nn::Linear(channels, channels));
  m_Norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({ channels })));
  m_MLP = register_module("mlp",
                          torch::nn::Sequential(torch::nn::Linear(channels, 2 * channels),
                                                torch::nn::GELU(),
                                                torch::nn::Linear(2 * channels, channels)));
  m_RelativeBias =
    register_parameter("relative_position_bias_table", torch::zeros({ (2 * window - 1) * (2 * window - 1), heads }));
  // Relative position of every (query, key) pair of a window, as one index into the bias table.
  auto coordinates =
    torch::stack(torch::meshgrid({ torch::arange(window), torch::arange(window) }, "ij")).flatten(1); // (2, w*w)
  auto relative = (coordinates.unsqueeze(2) - coordinates.unsqueeze(1)) + (window - 1);               // (2, n, n)
  m_RelativeIndex =
    register_buffer("relative_position_index", (relative[0] * (2 * window - 1) + relative[1]).flatten());
}

torch::Tensor
WindowAttentionBlockImpl::ShiftMask(std::int64_t height, std::int64_t width, const torch::Device & device) const
{
  // Label the regions a cyclic shift wraps together; pairs from different regions may not attend.
  const std::int64_t shift = m_Window / 2;
  auto               regions = torch::zeros({ height, width }, torch::kLong);
  std::int64_t       label = 0;
  const std::int64_t rowStarts[] = { 0, height - m_Window, height - shift, height };
  const std::int64_t columnStarts[] = { 0, width - m_Window, width - shift, width };
  for (int r = 0; r < 3; ++r)
  {
    for (int c = 0; c < 3; ++c)
    {
      regions.slice(0, rowStarts[r], rowStarts[r + 1]).slice(1, columnStarts[c], columnStarts[c + 1]).fill_(label++);
    }
  }
  auto windows = regions.view({ height / m_Window, m_Window, width / m_Window, m_Window })
                   .permute({ 0, 2, 1, 3 })
                   .reshape({ -1, m_Window * m_Window });
  auto different = windows.unsqueeze(1) != windows.unsqueeze(2); // (nW, n, n)
  return torch::zeros(different.sizes()).masked_fill(different, -100.0).to(device);
}

torch::Tensor
WindowAttentionBlockImpl::forward(const torch::Tensor & input)
{
  const auto         batch = input.size(0);
  const auto         channels = input.size(1);
  const auto         height = input.size(2);
  const auto         width = input.size(3);
  const std::int64_t w = m_Window;
  const std::int64_t n = w * w;
  auto               x = input.permute({ 0, 2, 3, 1 }); // (B, H, W, C)
  auto               shortcut = x;
  x = m_Norm1->forward(x);
  if (m_Shifted)
  {
    x = torch::roll(x, { -w / 2, -w / 2 }, { 1, 2 });
  }
  // Partition into windows: (B * nW, n, C).
  auto windows = x.reshape({ batch, height / w, w, width / w, w, channels })
                   .permute({ 0, 1, 3, 2, 4, 5 })
                   .reshape({ -1, n, channels });
  const auto headChannels = channels / m_Heads;
  auto       qkv = m_QKV->forward(windows).reshape({ -1, n, 3, m_Heads, headChannels }).permute({ 2, 0, 3, 1, 4 });
  auto       attention = torch::matmul(qkv[0] * (1.0 / std::sqrt(static_cast<double>(headChannels))),
                                 qkv[1].transpose(-2, -1)); // (B*nW, heads, n, n)
  attention = attention + m_RelativeBias.index_select(0, m_RelativeIndex).view({ n, n, m_Heads }).permute({ 2, 0, 1 });
  if (m_Shifted)
  {
    const auto windowCount = (height / w) * (width / w);
    attention = (attention.view({ batch, windowCount, m_Heads, n, n }) +
                 ShiftMask(height, width, input.device()).unsqueeze(1).unsqueeze(0))
                  .view({ -1, m_Heads, n, n });
  }
  auto attended = torch::matmul(torch::softmax(attention, -1), qkv[2]).transpose(1, 2).reshape({ -1, n, channels });
  attended = m_Projection->forward(attended);
  // Windows back to the image.
  auto merged = attended.reshape({ batch, height / w, width / w, w, w, channels })
                  .permute({ 0, 1, 3, 2, 4, 5 })
                  .reshape({ batch, height, width, channels });
  if (m_Shifted)
  {
    merged = torch::roll(merged, { w / 2, w / 2 }, { 1, 2 });
  }
  x = shortcut + merged;
  x = x + m_MLP->forward(m_Norm2->forward(x));
  return x.permute({ 0, 3, 1, 2 });
}

ImputationStageImpl::ImputationStageImpl(const SparseImputationNetworkOptions & options)
{
  const auto width = options.width;
  m_Shallow1 = register_module("sfe1", Convolution(2, width, 3));
  m_Shallow2 = register_module("sfe2", Convolution(width, width, 3));
  for (std::int64_t block = 0; block < options.denseBlocks; ++block)
  {
    m_Blocks.push_back(
      register_module("rdb" + std::to_string(block), ResidualDenseBlock(width, options.growth, options.denseLayers)));
  }
  m_GlobalFusion1 = register_module("gff1", Convolution(width * options.denseBlocks, width, 1));
  m_GlobalFusion2 = register_module("gff2", Convolution(width, width, 3));
  for (int shifted = 0; shifted < 2; ++shifted)
  {
    m_Attention.push_back(
      register_module("attention" + std::to_string(shifted),
                      WindowAttentionBlock(width, options.attentionWindow, options.attentionHeads, shifted == 1)));
  }
  m_Output = register_module("output", Convolution(width, 1, 3));
}

torch::Tensor
ImputationStageImpl::forward(const torch::Tensor & value, const torch::Tensor & mask)
{
  const auto                 shallow = m_Shallow1->forward(torch::cat({ value, mask }, 1));
  auto                       x = m_Shallow2->forward(shallow);
  std::vector<torch::Tensor> local;
  for (auto & block : m_Blocks)
  {
    x = block->forward(x);
    local.push_back(x);
  }
  x = m_GlobalFusion2->forward(m_GlobalFusion1->forward(torch::cat(local, 1))) + shallow;
  for (auto & attention : m_Attention)
  {
    x = attention->forward(x);
  }
  return value + m_Output->forward(x);
}

SparseImputationNetworkImpl::SparseImputationNetworkImpl(const SparseImputationNetworkOptions & options)
  : m_Options(options)
{
  for (std::int64_t stage = 0; stage < options.stages; ++stage)
  {
    m_Stages.push_back(register_module("stage" + std::to_string(stage), ImputationStage(options)));
  }
}

torch::Tensor
DataConsistency(const torch::Tensor & estimate, const torch::Tensor & measuredValue, const torch::Tensor & mask)
{
  return torch::where(mask > 0.5, measuredValue, estimate);
}

std::vector<torch::Tensor>
SparseImputationNetworkImpl::forward(const torch::Tensor & value, const torch::Tensor & mask)
{
  const auto window = m_Options.attentionWindow;
  const auto height = value.size(2);
  const auto width = value.size(3);
  const auto padRows = (window - height % window) % window;
  const auto padColumns = (window - width % window) % window;
  // Zero padding with a zero mask: padded positions look like unmeasured ones.
  auto                       paddedValue = torch::constant_pad_nd(value, { 0, padColumns, 0, padRows });
  auto                       paddedMask = torch::constant_pad_nd(mask, { 0, padColumns, 0, padRows });
  std::vector<torch::Tensor> outputs;
  auto                       estimate = paddedValue;
  for (auto & stage : m_Stages)
  {
    estimate = DataConsistency(stage->forward(estimate, paddedMask), paddedValue, paddedMask);
    outputs.push_back(estimate.slice(2, 0, height).slice(3, 0, width));
  }
  return outputs;
}

void
SparseImputationNetworkImpl::ResetParameters(at::Generator & generator)
{
  torch::NoGradGuard noGrad;
  for (auto & item : named_parameters())
  {
    const std::string & name = item.key();
    torch::Tensor &     parameter = item.value();
    const auto          leaf = name.substr(name.rfind('.') + 1);
    if (leaf == "relative_position_bias_table")
    {
      parameter.copy_(torch::randn(parameter.sizes(), generator, torch::kFloat32).clamp(-2.0, 2.0) * 0.02);
    }
    else if (name.find("norm") != std::string::npos)
    {
      parameter.fill_(leaf == "weight" ? 1.0 : 0.0);
    }
    else if (leaf == "weight")
    {
      const double fanIn = static_cast<double>(parameter.numel() / parameter.size(0));
      const double bound = 1.0 / std::sqrt(fanIn);
      parameter.copy_((torch::rand(parameter.sizes(), generator, torch::kFloat32) * 2.0 - 1.0) * bound);
    }
    else
    {
      parameter.zero_();
    }
  }
}

} // namespace imputation
} // namespace itk
