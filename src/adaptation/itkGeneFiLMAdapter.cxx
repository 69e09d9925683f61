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
#include "itkGeneFiLMAdapter.h"

#include <cmath>
#include <stdexcept>

namespace itk
{
namespace adaptation
{
namespace
{
/** Module names may not hold dots: "down_blocks.1.resnets.0" is registered as
 * "down_blocks_1_resnets_0" and written back with its dots. */
std::string
ModuleName(const std::string & block)
{
  std::string name = block;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

/** Scale and shift of each modulated block for one bound batch. */
class FiLMModulator : public diffusion::UNetModulator
{
public:
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> ScaleShift;

  torch::Tensor
  Modulate(const std::string & block, const torch::Tensor & features) const override
  {
    const auto found = ScaleShift.find(block);
    if (found == ScaleShift.end())
    {
      return features;
    }
    return features * (1 + found->second.first) + found->second.second;
  }
};
} // namespace

std::map<std::string, std::int64_t>
ResnetBlockChannels(const diffusion::UNet2D & unet)
{
  std::map<std::string, std::int64_t> channels;
  const std::string                   suffix = ".norm2.weight";
  for (const auto & item : unet->named_parameters())
  {
    const std::string & name = item.key();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    {
      channels[name.substr(0, name.size() - suffix.size())] = item.value().size(0);
    }
  }
  return channels;
}

GeneFiLMAdapterImpl::GeneFiLMAdapterImpl(const GeneFiLMOptions &                     options,
                                         const std::map<std::string, std::int64_t> & blockChannels)
  : m_Options(options)
{
  if (options.numberOfGenes <= 0 || options.embeddingSize <= 0)
  {
    throw std::invalid_argument("The gene adapter needs a positive gene count and embedding size (got " +
                                std::to_string(options.numberOfGenes) + " genes, embedding " +
                                std::to_string(options.embeddingSize) + ")");
  }
  if (options.blocks.empty())
  {
    m_Blocks = blockChannels;
  }
  for (const auto & block : options.blocks)
  {
    const auto found = blockChannels.find(block);
    if (found == blockChannels.end())
    {
      std::string known;
      for (const auto & b : blockChannels)
      {
        known += (known.empty() ? "" : ", ") + b.first;
      }
      throw std::invalid_argument("The U-Net has no ResNet block \"" + block + "\"; its blocks are " + known);
    }
    m_Blocks.insert(*found);
  }
  if (m_Blocks.empty())
  {
    throw std::invalid_argument("The gene adapter has no ResNet block to modulate");
  }
  m_Projection = register_module("projection", torch::nn::Linear(options.numberOfGenes, options.embeddingSize));
  m_NullEmbedding = register_parameter("null_embedding", torch::zeros({ options.embeddingSize }));
  for (const auto & block : m_Blocks)
  {
    auto film =
      register_module("film_" + ModuleName(block.first), torch::nn::Linear(options.embeddingSize, 2 * block.second));
    // Zero-initialised: no modulation until training moves it, so the local model starts as the
    // central one (and the null condition keeps it there until the null embedding learns).
    torch::NoGradGuard noGrad;
    film->weight.zero_();
    film->bias.zero_();
    m_Film.emplace(block.first, film);
  }
}

torch::Tensor
GeneFiLMAdapterImpl::Embed(const torch::Tensor & conditions, const torch::Tensor & isNull) const
{
  if (conditions.dim() != 2 || conditions.size(1) != m_Options.numberOfGenes)
  {
    throw std::invalid_argument("The conditions must be [batch, " + std::to_string(m_Options.numberOfGenes) +
                                "] (one value per gene of the model)");
  }
  auto projected = torch::silu(m_Projection.ptr()->forward(conditions));
  return torch::where(
    isNull.to(torch::kBool).unsqueeze(1), m_NullEmbedding.unsqueeze(0).expand_as(projected), projected);
}

std::unique_ptr<diffusion::UNetModulator>
GeneFiLMAdapterImpl::Bind(const torch::Tensor & conditions, const torch::Tensor & isNull) const
{
  const auto embedding = Embed(conditions, isNull);
  auto       modulator = std::make_unique<FiLMModulator>();
  for (const auto & film : m_Film)
  {
    const auto out = film.second.ptr()->forward(embedding); // [B, 2C]
    const auto channels = m_Blocks.at(film.first);
    modulator->ScaleShift[film.first] = { out.slice(1, 0, channels).unsqueeze(-1).unsqueeze(-1),
                                          out.slice(1, channels, 2 * channels).unsqueeze(-1).unsqueeze(-1) };
  }
  return modulator;
}

void
GeneFiLMAdapterImpl::ResetParameters(at::Generator & generator)
{
  torch::NoGradGuard noGrad;
  const double       bound = 1.0 / std::sqrt(static_cast<double>(m_Options.numberOfGenes));
  for (auto * parameter : { &m_Projection->weight, &m_Projection->bias })
  {
    parameter->copy_(torch::rand(parameter->sizes(), generator) * (2 * bound) - bound);
  }
  m_NullEmbedding.zero_();
  for (auto & film : m_Film)
  {
    film.second->weight.zero_();
    film.second->bias.zero_();
  }
}

std::vector<std::pair<std::string, torch::Tensor>>
GeneFiLMAdapterImpl::NamedWeights() const
{
  std::vector<std::pair<std::string, torch::Tensor>> weights{ { "projection.weight", m_Projection->weight },
                                                              { "projection.bias", m_Projection->bias },
                                                              { "null_embedding", m_NullEmbedding } };
  for (const auto & film : m_Film)
  {
    weights.emplace_back("film." + film.first + ".weight", film.second->weight);
    weights.emplace_back("film." + film.first + ".bias", film.second->bias);
  }
  return weights;
}

void
Freeze(diffusion::UNet2D & unet)
{
  for (auto & parameter : unet->parameters())
  {
    parameter.set_requires_grad(false);
  }
}

} // namespace adaptation
} // namespace itk
