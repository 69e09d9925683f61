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
#ifndef itkGeneFiLMAdapter_h
#define itkGeneFiLMAdapter_h

// Local adaptation's gene conditioning (LibTorch only): a spot's preprocessed expression vector
// becomes, through one learnable projection, a small embedding; for each chosen ResNet block of the
// frozen central U-Net a linear map of the embedding gives a per-channel scale and shift of the
// block's normalised features, h * (1 + scale) + shift (FiLM; Perez et al., AAAI 2018).

#include "itkDiffusionConditioning.h"
#include "itkUNet2D.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace itk
{
namespace adaptation
{

/** Sizes of the adapter. */
struct GeneFiLMOptions
{
  /** Genes per condition vector (the preprocessing's gene count). */
  std::int64_t numberOfGenes = 0;
  /** Size of the gene embedding. */
  std::int64_t embeddingSize = 64;
  /** The ResNet blocks to modulate, by parameter prefix ("down_blocks.1.resnets.0", ...); empty
   * selects every ResNet block of the U-Net. */
  std::vector<std::string> blocks;
};

/** The channels of every ResNet block of \p unet, by parameter prefix (read off norm2's weight). */
std::map<std::string, std::int64_t>
ResnetBlockChannels(const diffusion::UNet2D & unet);

/** The adapter: projection ("projection.weight/bias"), the null condition's embedding
 * ("null_embedding"), and one FiLM map per modulated block ("film.<block>.weight/bias", block dots
 * kept in the name). The FiLM maps start at zero, so before training the adapted U-Net computes
 * exactly what the central one does. */
class GeneFiLMAdapterImpl
  : public torch::nn::Module
  , public diffusion::Conditioning
{
public:
  GeneFiLMAdapterImpl(const GeneFiLMOptions & options, const std::map<std::string, std::int64_t> & blockChannels);

  std::int64_t
  ConditionSize() const override
  {
    return m_Options.numberOfGenes;
  }

  /** [B, G] conditions and [B] null flags -> [B, E] embeddings (the null rows take null_embedding). */
  torch::Tensor
  Embed(const torch::Tensor & conditions, const torch::Tensor & isNull) const;

  std::unique_ptr<diffusion::UNetModulator>
  Bind(const torch::Tensor & conditions, const torch::Tensor & isNull) const override;

  const GeneFiLMOptions &
  Options() const
  {
    return m_Options;
  }
  /** Modulated blocks and their channel counts. */
  const std::map<std::string, std::int64_t> &
  Blocks() const
  {
    return m_Blocks;
  }
  /** Re-draws the projection as torch.nn.Linear initialises it (uniform in +-1/sqrt(genes)) from
   * \p generator, and zeroes the FiLM maps and the null embedding: a reproducible fresh adapter
   * without touching torch's global generator. */
  void
  ResetParameters(at::Generator & generator);

  /** The adapter's parameters by file name (block names with their dots). */
  std::vector<std::pair<std::string, torch::Tensor>>
  NamedWeights() const;

private:
  GeneFiLMOptions                          m_Options;
  std::map<std::string, std::int64_t>      m_Blocks;
  torch::nn::Linear                        m_Projection{ nullptr };
  torch::Tensor                            m_NullEmbedding;
  std::map<std::string, torch::nn::Linear> m_Film;
};
TORCH_MODULE(GeneFiLMAdapter);

/** Freeze every parameter of \p unet (local adaptation trains only the adapter). */
void
Freeze(diffusion::UNet2D & unet);

} // namespace adaptation
} // namespace itk

#endif
