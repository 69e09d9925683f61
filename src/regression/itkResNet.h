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
#ifndef itkResNet_h
#define itkResNet_h

// torchvision's ResNet-18/34/50 (v1.5: the stride of a bottleneck sits on its 3x3 conv) with a
// linear head of one output per gene, under torchvision's parameter and buffer names so that its
// state_dict (converted to safetensors) loads as it is.

#include "itkTorchErrors.h"

#include <nlohmann/json.hpp>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace itk
{
namespace regression
{

struct ResNetConfig
{
  /** 18, 34 or 50. */
  int          depth = 50;
  std::int64_t inChannels = 3;
  /** Genes predicted: the width of the head `fc`. */
  std::int64_t numberOfOutputs = 0;
  /** The per-channel normalisation the backbone was trained with (ImageNet's by default). */
  std::array<double, 3> mean{ 0.485, 0.456, 0.406 };
  std::array<double, 3> std{ 0.229, 0.224, 0.225 };

  nlohmann::json
  ToJson() const;
  /** ConfigurationError for a missing depth or output count, a field of the wrong type, or an
   * invalid config. */
  static ResNetConfig
  FromJson(const nlohmann::json & json);
  /** ConfigurationError saying which field is wrong. */
  void
  Validate() const;
};

/** A convolution and the BatchNorm after it. In eval mode under InferenceMode they run as one
 * convolution with the BatchNorm folded in (weight x s per output channel, bias beta - mean x s,
 * s = gamma / sqrt(var + eps)), as inference engines run torchvision's ResNet: one pass over the
 * activations fewer per BatchNorm. The folded weights are kept and folded again when any of the
 * five tensors has changed (another tensor, storage or version: an optimizer step, a load). In
 * training, or with autograd, the two modules run as they are. Unlike the parameters, which threads
 * may read at once, the cache is written by the first inference after a change: threads running
 * inference through one network at the same time must each use their own (clone()). */
class ConvBatchNorm
{
public:
  torch::Tensor
  operator()(torch::nn::Conv2dImpl & conv, torch::nn::BatchNorm2dImpl & norm, const torch::Tensor & x);

private:
  /** The tensors folded (held, so that none is freed and replaced at the same address unseen),
   * with their data pointers and versions when folded. */
  std::vector<torch::Tensor> m_Sources;
  std::vector<const void *>  m_SourceData;
  std::vector<std::int64_t>  m_SourceVersions;
  torch::Tensor              m_Weight;
  torch::Tensor              m_Bias;
};

/** torchvision's BasicBlock (conv1, bn1, conv2, bn2) or, for ResNet-50, Bottleneck (conv1 1x1,
 * bn1, conv2 3x3 with the stride, bn2, conv3 1x1, bn3), with the projection `downsample` (1x1 conv
 * + BatchNorm) when the stride or width changes. */
class ResNetBlockImpl : public torch::nn::Cloneable<ResNetBlockImpl>
{
public:
  ResNetBlockImpl(std::int64_t in, std::int64_t planes, std::int64_t stride, bool bottleneck);
  void
  reset() override;
  torch::Tensor
  forward(const torch::Tensor & x);

  /** Output channels per input plane: 4 for a bottleneck, 1 otherwise. */
  static std::int64_t
  Expansion(bool bottleneck)
  {
    return bottleneck ? 4 : 1;
  }

private:
  std::int64_t           m_In;
  std::int64_t           m_Planes;
  std::int64_t           m_Stride;
  bool                   m_Bottleneck;
  torch::nn::Conv2d      m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  torch::nn::Conv2d      m_Conv2{ nullptr };
  torch::nn::BatchNorm2d m_Bn2{ nullptr };
  torch::nn::Conv2d      m_Conv3{ nullptr };
  torch::nn::BatchNorm2d m_Bn3{ nullptr };
  torch::nn::Sequential  m_Downsample{ nullptr };
  ConvBatchNorm          m_Folded1;
  ConvBatchNorm          m_Folded2;
  ConvBatchNorm          m_Folded3;
  ConvBatchNorm          m_FoldedDownsample;
};
TORCH_MODULE(ResNetBlock);

/** The regressor: images float [B, 3, H, W] in [0, 1] (any H, W >= 16), normalised by the config's
 * mean and std inside the module so that no caller can forget it, through torchvision's ResNet to
 * [B, numberOfOutputs]. Weights are initialised as torchvision does (Kaiming-normal convs, unit
 * BatchNorm), from LibTorch's global generator. Cloneable: clone() is a deep copy. */
class ResNetImpl : public torch::nn::Cloneable<ResNetImpl>
{
public:
  explicit ResNetImpl(ResNetConfig config);
  void
  reset() override;

  /** [B, 3, H, W] in [0, 1] -> [B, numberOfOutputs]. */
  torch::Tensor
  forward(const torch::Tensor & images);
  /** The globally average-pooled penultimate features: [B, 3, H, W] -> [B, NumberOfFeatures()]. */
  torch::Tensor
  Features(const torch::Tensor & images);
  /** The regression head: features [B, NumberOfFeatures()] -> [B, numberOfOutputs]. */
  torch::Tensor
  Head(const torch::Tensor & features);
  /** 512 for ResNet-18/34, 2048 for ResNet-50. */
  std::int64_t
  NumberOfFeatures() const;

  const ResNetConfig &
  Config() const
  {
    return m_Config;
  }

  /** Parameters then buffers (BatchNorm running statistics and num_batches_tracked) under
   * torchvision's state_dict names, prefixed with \p prefix: what a model file holds. */
  std::vector<std::pair<std::string, torch::Tensor>>
  NamedState(const std::string & prefix = "") const;

private:
  ResNetConfig           m_Config;
  torch::Tensor          m_Mean;
  torch::Tensor          m_Std;
  torch::nn::Conv2d      m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  ConvBatchNorm          m_Folded1;
  torch::nn::Sequential  m_Layer1{ nullptr };
  torch::nn::Sequential  m_Layer2{ nullptr };
  torch::nn::Sequential  m_Layer3{ nullptr };
  torch::nn::Sequential  m_Layer4{ nullptr };
  torch::nn::Linear      m_Fc{ nullptr };
};
TORCH_MODULE(ResNet);

/** Patches uint8 [N, H, W, 3] (0..255) -> float [N, 3, H, W] in [0, 1], as torchvision's ToTensor
 * makes them (value / 255). A float [N, 3, H, W] is returned as it is. */
torch::Tensor
PatchesToResNetInput(const torch::Tensor & patches);

} // namespace regression
} // namespace itk

#endif
