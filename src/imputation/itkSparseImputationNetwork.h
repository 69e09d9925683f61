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
#ifndef itkSparseImputationNetwork_h
#define itkSparseImputationNetwork_h

#include <torch/torch.h>

#include <vector>

namespace itk
{
namespace imputation
{

/** Sizes of the cascaded imputation network. The defaults are a CPU size of S2S-ST's structure;
 * the authors' configuration is width 32, 8 dense blocks of 4 layers, growth 32, window 8. */
struct SparseImputationNetworkOptions
{
  std::int64_t stages{ 3 };
  std::int64_t width{ 16 };
  std::int64_t denseBlocks{ 2 };
  std::int64_t denseLayers{ 2 };
  std::int64_t growth{ 16 };
  std::int64_t attentionWindow{ 4 };
  std::int64_t attentionHeads{ 2 };
};

/** One residual dense block (RDN): densely connected 3x3 convolutions, a 1x1 fusion, a residual. */
class ResidualDenseBlockImpl : public torch::nn::Module
{
public:
  ResidualDenseBlockImpl(std::int64_t channels, std::int64_t growth, std::int64_t layers);
  torch::Tensor
  forward(const torch::Tensor & x);

private:
  std::vector<torch::nn::Conv2d> m_Layers;
  torch::nn::Conv2d              m_Fusion{ nullptr };
};
TORCH_MODULE(ResidualDenseBlock);

/** A Swin transformer block: windowed multi-head self-attention with a relative position bias
 * (cyclically shifted by half a window when \p shifted, with the mask that keeps windows from
 * mixing wrapped regions), then an MLP; pre-norm, residual. Height and width must be multiples of
 * the window. */
class WindowAttentionBlockImpl : public torch::nn::Module
{
public:
  WindowAttentionBlockImpl(std::int64_t channels, std::int64_t window, std::int64_t heads, bool shifted);
  torch::Tensor
  forward(const torch::Tensor & x); // (B, C, H, W)

private:
  torch::Tensor
  ShiftMask(std::int64_t height, std::int64_t width, const torch::Device & device) const;

  std::int64_t          m_Window;
  std::int64_t          m_Heads;
  bool                  m_Shifted;
  torch::nn::LayerNorm  m_Norm1{ nullptr };
  torch::nn::Linear     m_QKV{ nullptr };
  torch::nn::Linear     m_Projection{ nullptr };
  torch::nn::LayerNorm  m_Norm2{ nullptr };
  torch::nn::Sequential m_MLP{ nullptr };
  torch::Tensor         m_RelativeBias;  // ((2w-1)^2, heads), learned
  torch::Tensor         m_RelativeIndex; // (w*w*w*w), buffer
};
TORCH_MODULE(WindowAttentionBlock);

/** One stage: shallow features of (value, measured mask), residual dense blocks with global
 * fusion, an attention pair (plain and shifted windows), and a residual correction of the value. */
class ImputationStageImpl : public torch::nn::Module
{
public:
  explicit ImputationStageImpl(const SparseImputationNetworkOptions & options);
  torch::Tensor
  forward(const torch::Tensor & value, const torch::Tensor & mask);

private:
  torch::nn::Conv2d                 m_Shallow1{ nullptr };
  torch::nn::Conv2d                 m_Shallow2{ nullptr };
  std::vector<ResidualDenseBlock>   m_Blocks;
  torch::nn::Conv2d                 m_GlobalFusion1{ nullptr };
  torch::nn::Conv2d                 m_GlobalFusion2{ nullptr };
  std::vector<WindowAttentionBlock> m_Attention;
  torch::nn::Conv2d                 m_Output{ nullptr };
};
TORCH_MODULE(ImputationStage);

/** S2S-ST's cascaded data-consistent imputation network over single-channel grids: K stages, each
 * followed by a data-consistency layer that puts the measured values back where measured (after
 * the last stage too). Input and outputs are (B, 1, H, W); H and W are padded internally to a
 * multiple of the attention window. */
class SparseImputationNetworkImpl : public torch::nn::Module
{
public:
  explicit SparseImputationNetworkImpl(const SparseImputationNetworkOptions & options);
  /** Every stage's output after data consistency (deep supervision uses them all). */
  std::vector<torch::Tensor>
  forward(const torch::Tensor & value, const torch::Tensor & mask);
  /** PyTorch's default initialisation (uniform within 1/sqrt(fan-in)) drawn from \p generator,
   * so that a seed, not the global generator, decides the initial weights. */
  void
  ResetParameters(at::Generator & generator);

private:
  SparseImputationNetworkOptions m_Options;
  std::vector<ImputationStage>   m_Stages;
};
TORCH_MODULE(SparseImputationNetwork);

/** Put \p measuredValue back where \p mask is 1. */
torch::Tensor
DataConsistency(const torch::Tensor & estimate, const torch::Tensor & measuredValue, const torch::Tensor & mask);

} // namespace imputation
} // namespace itk

#endif
