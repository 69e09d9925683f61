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
#include "itkSparseImputationTrainer.h"
#include "itkAutogradBackward.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace itk
{
namespace imputation
{
namespace
{
constexpr double       Pi = 3.14159265358979323846;
constexpr std::int64_t DefaultCropSize = 16;
// Below this a crop holds too few positions for a stride-2 decimation to leave both input and target.
constexpr std::int64_t MinimumCropSize = 4;

std::int64_t
RandomBelow(std::int64_t bound, at::Generator & generator)
{
  return torch::randint(bound, { 1 }, generator, torch::kLong).item<std::int64_t>();
}

/** Flips and transposes a square (C, n, n) crop, the same for every channel. */
torch::Tensor
AugmentDihedral(torch::Tensor crop, at::Generator & generator)
{
  const auto choice = RandomBelow(8, generator);
  if (choice & 1)
  {
    crop = crop.flip({ 2 });
  }
  if (choice & 2)
  {
    crop = crop.flip({ 1 });
  }
  if (choice & 4)
  {
    crop = crop.transpose(1, 2);
  }
  return crop.contiguous();
}

/** Which of a crop's measured positions become the training input. */
torch::Tensor
SparserPattern(bool lattice, double rate, std::int64_t size, at::Generator & generator)
{
  if (lattice)
  {
    // One of the four stride-2 phases: the same decimation that made the measured set.
    const auto phase = RandomBelow(4, generator);
    auto       pattern = torch::zeros({ 1, size, size });
    pattern.slice(1, phase / 2, size, 2).slice(2, phase % 2, size, 2).fill_(1.0);
    return pattern;
  }
  return (torch::rand({ 1, size, size }, generator, torch::kFloat32) < rate).to(torch::kFloat32);
}

/** A training batch: input values and mask, the target and where it counts. */
struct Batch
{
  torch::Tensor input;
  torch::Tensor inputMask;
  torch::Tensor target;
  torch::Tensor targetMask;

  Batch
  To(const torch::Device & device) const
  {
    return { input.to(device), inputMask.to(device), target.to(device), targetMask.to(device) };
  }
};

Batch
MakeBatch(const std::vector<torch::Tensor> & crops, bool lattice, double rate, at::Generator & generator)
{
  // Each crop is (2, n, n): value and where the value is known. Augmentation comes first, the
  // decimation after it, and both only see known positions: nothing unknown reaches a target.
  std::vector<torch::Tensor> inputs, inputMasks, targets, targetMasks;
  for (const auto & crop : crops)
  {
    auto       augmented = AugmentDihedral(crop, generator);
    const auto known = augmented.slice(0, 1, 2);
    const auto value = augmented.slice(0, 0, 1);
    const auto keep = known * SparserPattern(lattice, rate, crop.size(1), generator);
    inputs.push_back(value * keep);
    inputMasks.push_back(keep);
    targets.push_back(value);
    targetMasks.push_back(known * (1.0 - keep));
  }
  return { torch::stack(inputs), torch::stack(inputMasks), torch::stack(targets), torch::stack(targetMasks) };
}

/** Deep supervision: stage k of K weighs k / K, the L1 error counted where the target is known. */
torch::Tensor
DeepSupervisionLoss(const std::vector<torch::Tensor> & outputs, const Batch & batch)
{
  const double stages = static_cast<double>(outputs.size());
  auto         loss = torch::zeros({}, batch.target.options());
  double       totalWeight = 0.0;
  const auto   count = batch.targetMask.sum().clamp_min(1.0);
  for (std::size_t k = 0; k < outputs.size(); ++k)
  {
    const double weight = static_cast<double>(k + 1) / stages;
    loss = loss + weight * ((outputs[k] - batch.target).abs() * batch.targetMask).sum() / count;
    totalWeight += weight;
  }
  return loss / totalWeight;
}

/** The section's known values standardised per gene, as (genes, 2, H, W): value and known mask. */
struct PreparedSection
{
  torch::Tensor       known; // (genes, 2, H, W)
  std::vector<double> mean;
  std::vector<double> scale;
};

PreparedSection
Prepare(const GridSection & section)
{
  const auto         positions = section.rows * section.columns;
  PreparedSection    prepared;
  std::vector<float> planar(static_cast<std::size_t>(section.genes * 2 * positions), 0.0f);
  std::int64_t       measuredCount = 0;
  for (std::int64_t p = 0; p < positions; ++p)
  {
    measuredCount += section.measured[p] != 0;
  }
  for (std::int64_t gene = 0; gene < section.genes; ++gene)
  {
    double sum = 0.0;
    double squares = 0.0;
    double largest = 0.0;
    for (std::int64_t p = 0; p < positions; ++p)
    {
      if (section.measured[p] != 0)
      {
        const double value = section.values[gene * positions + p];
        if (!std::isfinite(value))
        {
          std::ostringstream message;
          message << "The measured value of gene " << gene << " at grid position " << p
                  << " is not finite: fix or drop that spot";
          throw std::invalid_argument(message.str());
        }
        sum += value;
        squares += value * value;
        largest = std::max(largest, std::abs(value));
      }
    }
    if (largest == 0.0)
    {
      std::ostringstream message;
      message << "Gene " << gene << " is zero at every measured position: nothing can be imputed from it; "
              << "drop it from the gene list";
      throw std::invalid_argument(message.str());
    }
    const double mean = sum / static_cast<double>(measuredCount);
    const double variance = std::max(0.0, squares / static_cast<double>(measuredCount) - mean * mean);
    const double scale = variance > 1e-12 ? std::sqrt(variance) : 1.0;
    prepared.mean.push_back(mean);
    prepared.scale.push_back(scale);
    float * value = planar.data() + gene * 2 * positions;
    float * known = value + positions;
    for (std::int64_t p = 0; p < positions; ++p)
    {
      if (section.measured[p] != 0)
      {
        value[p] = static_cast<float>((section.values[gene * positions + p] - mean) / scale);
        known[p] = 1.0f;
      }
    }
  }
  prepared.known = torch::from_blob(planar.data(), { section.genes, 2, section.rows, section.columns }).clone();
  return prepared;
}

/** Crop origins whose crop holds at least 4 known positions. */
std::vector<std::array<std::int64_t, 2>>
CropOrigins(const torch::Tensor & known, std::int64_t crop)
{
  std::vector<std::array<std::int64_t, 2>> origins;
  const auto counts = torch::avg_pool2d(known.unsqueeze(0).unsqueeze(0), crop, 1) * static_cast<double>(crop * crop);
  const auto accessor = counts.accessor<float, 4>();
  for (std::int64_t row = 0; row < counts.size(2); ++row)
  {
    for (std::int64_t column = 0; column < counts.size(3); ++column)
    {
      if (accessor[0][0][row][column] >= 3.5f)
      {
        origins.push_back({ row, column });
      }
    }
  }
  return origins;
}

torch::Tensor
NaturalCrop(const NaturalImage & image, std::int64_t crop, at::Generator & generator)
{
  const auto row = RandomBelow(image.rows - crop + 1, generator);
  const auto column = RandomBelow(image.columns - crop + 1, generator);
  auto       whole = torch::from_blob(const_cast<float *>(image.values.data()), { image.rows, image.columns });
  auto       patch = whole.slice(0, row, row + crop).slice(1, column, column + crop).clone();
  // The same scale as the genes: zero mean, unit deviation (a flat patch stays flat).
  patch = (patch - patch.mean()) / patch.std(false).clamp_min(1e-3);
  return torch::stack({ patch, torch::ones_like(patch) });
}

struct TrainingDomain
{
  torch::Tensor                            known; // (genes, 2, h, w)
  std::vector<std::array<std::int64_t, 2>> origins;
  bool                                     lattice{ false };
  double                                   rate{ 0.0 };
};

std::vector<float>
TrainOne(const TrainingDomain & domain, const std::vector<std::int64_t> & genes, const PreparedSection & prepared,
         const GridSection & section, const std::vector<NaturalImage> & naturalImages,
         const SparseImputationOptions & options, at::Generator & generator, const torch::Device & device,
         const ImputationProgress & progress, std::int64_t progressOffset, std::int64_t progressTotal,
         ImputationResult & result)
{
  SparseImputationNetwork network(options.network);
  network->ResetParameters(generator);
  network->to(device);
  network->train();
  torch::optim::Adam optimizer(network->parameters(),
                               torch::optim::AdamOptions(options.learningRate).betas(std::make_tuple(0.5, 0.999)));
  const auto         crop = options.cropSize;
  double             lossSum = 0.0;
  std::int64_t       lossCount = 0;
  for (std::int64_t step = 0; step < options.steps; ++step)
  {
    // Cosine decay to a tenth of the rate: the last steps settle instead of jumping.
    const double progressFraction = static_cast<double>(step) / static_cast<double>(options.steps);
    const double rate = options.learningRate * (0.1 + 0.45 * (1.0 + std::cos(Pi * progressFraction)));
    for (auto & group : optimizer.param_groups())
    {
      static_cast<torch::optim::AdamOptions &>(group.options()).lr(rate);
    }
    std::vector<torch::Tensor> crops;
    for (std::int64_t b = 0; b < options.batchSize; ++b)
    {
      const auto gene = genes[RandomBelow(static_cast<std::int64_t>(genes.size()), generator)];
      const auto origin = domain.origins[RandomBelow(static_cast<std::int64_t>(domain.origins.size()), generator)];
      crops.push_back(domain.known[gene].slice(1, origin[0], origin[0] + crop).slice(2, origin[1], origin[1] + crop));
    }
    const Batch batch = MakeBatch(crops, domain.lattice, domain.rate, generator).To(device);
    auto        loss = DeepSupervisionLoss(network->forward(batch.input, batch.inputMask), batch);
    if (!naturalImages.empty() && options.naturalBatchSize > 0 && options.naturalImageWeight > 0.0)
    {
      std::vector<torch::Tensor> natural;
      for (std::int64_t b = 0; b < options.naturalBatchSize; ++b)
      {
        const auto & image = naturalImages[RandomBelow(static_cast<std::int64_t>(naturalImages.size()), generator)];
        natural.push_back(NaturalCrop(image, crop, generator));
      }
      const Batch naturalBatch = MakeBatch(natural, domain.lattice, domain.rate, generator).To(device);
      loss = loss + options.naturalImageWeight *
                      DeepSupervisionLoss(network->forward(naturalBatch.input, naturalBatch.inputMask), naturalBatch);
    }
    optimizer.zero_grad();
    AutogradBackward(loss);
    optimizer.step();
    const double value = loss.item<double>();
    if (step >= options.steps - std::max<std::int64_t>(1, options.steps / 10))
    {
      lossSum += value;
      ++lossCount;
    }
    if (progress && !progress(progressOffset + step + 1, progressTotal, value))
    {
      result.aborted = true;
      return {};
    }
  }
  result.finalLoss = lossCount > 0 ? lossSum / static_cast<double>(lossCount) : 0.0;

  // Impute the whole grid: the measured positions as input, every gene of this network.
  network->eval();
  torch::InferenceMode   inference;
  const auto             positions = section.rows * section.columns;
  std::vector<float>     imputed(static_cast<std::size_t>(genes.size() * positions));
  constexpr std::int64_t genesPerBatch = 32;
  for (std::size_t first = 0; first < genes.size(); first += genesPerBatch)
  {
    const auto last = std::min(genes.size(), first + genesPerBatch);
    auto       indices = torch::tensor(std::vector<std::int64_t>(genes.begin() + first, genes.begin() + last));
    auto       known = prepared.known.index_select(0, indices).to(device);
    auto       value = known.slice(1, 0, 1);
    auto       mask = known.slice(1, 1, 2);
    auto       output = network->forward(value, mask).back().to(torch::kCPU).contiguous();
    auto       accessor = output.accessor<float, 4>();
    for (std::size_t g = first; g < last; ++g)
    {
      const auto gene = genes[g];
      for (std::int64_t row = 0; row < section.rows; ++row)
      {
        for (std::int64_t column = 0; column < section.columns; ++column)
        {
          const auto p = row * section.columns + column;
          imputed[g * positions + p] =
            section.measured[p] != 0
              ? section.values[gene * positions + p]
              : static_cast<float>(accessor[g - first][0][row][column] * prepared.scale[gene] + prepared.mean[gene]);
        }
      }
    }
  }
  return imputed;
}
} // namespace

ImputationResult
TrainAndImpute(const GridSection & section, const std::vector<NaturalImage> & naturalImages,
               const SparseImputationOptions & options, const ImputationProgress & progress)
{
  const auto positions = section.rows * section.columns;
  if (section.genes <= 0 || section.rows <= 0 || section.columns <= 0 ||
      section.values.size() != static_cast<std::size_t>(section.genes * positions) ||
      section.measured.size() != static_cast<std::size_t>(positions) ||
      (!section.target.empty() && section.target.size() != static_cast<std::size_t>(positions)))
  {
    throw std::invalid_argument("The grid section's values, measured mask and target mask do not match its size");
  }
  if (options.steps <= 0 || options.batchSize <= 0 || options.cropSize < 0 || !(options.learningRate > 0.0) ||
      options.network.stages <= 0 || options.network.width <= 0 || options.network.attentionWindow <= 0 ||
      options.network.attentionHeads <= 0 || options.network.width % options.network.attentionHeads != 0)
  {
    throw std::invalid_argument("Steps, batch size, crop size, learning rate, stages and width must be positive, "
                                "and the width a multiple of the attention heads");
  }
  for (const auto & image : naturalImages)
  {
    if (image.rows < std::max<std::int64_t>(options.cropSize, DefaultCropSize) ||
        image.columns < std::max<std::int64_t>(options.cropSize, DefaultCropSize) ||
        image.values.size() != static_cast<std::size_t>(image.rows * image.columns))
    {
      throw std::invalid_argument("A natural image is smaller than one crop of " +
                                  std::to_string(std::max<std::int64_t>(options.cropSize, DefaultCropSize)) +
                                  " pixels or its size does not match its values");
    }
  }
  std::int64_t measuredCount = 0;
  std::int64_t targetCount = 0;
  int          parity[2] = { -1, -1 };
  bool         lattice = true;
  for (std::int64_t row = 0; row < section.rows; ++row)
  {
    for (std::int64_t column = 0; column < section.columns; ++column)
    {
      const auto p = row * section.columns + column;
      targetCount += section.target.empty() || section.target[p] != 0 || section.measured[p] != 0;
      if (section.measured[p] == 0)
      {
        continue;
      }
      ++measuredCount;
      if (parity[0] < 0)
      {
        parity[0] = static_cast<int>(column % 2);
        parity[1] = static_cast<int>(row % 2);
      }
      lattice = lattice && parity[0] == column % 2 && parity[1] == row % 2;
    }
  }
  if (measuredCount == 0)
  {
    throw std::invalid_argument("The mask marks no measured position: S2S-ST learns from the measured spots alone");
  }
  const PreparedSection prepared = Prepare(section);
  // A given subsampling rate asks for random decimation whatever the mask.
  lattice = lattice && !(options.subsamplingRate > 0.0);

  TrainingDomain domain;
  domain.lattice = lattice;
  if (lattice)
  {
    // The measured phase's own sub-lattice: its stride-2 phases are to it what it is to the grid.
    domain.known = prepared.known.slice(2, parity[1], section.rows, 2).slice(3, parity[0], section.columns, 2);
  }
  else
  {
    domain.known = prepared.known;
    domain.rate = options.subsamplingRate > 0.0
                    ? options.subsamplingRate
                    : static_cast<double>(measuredCount) / static_cast<double>(std::max<std::int64_t>(1, targetCount));
  }
  const auto smallerSide = std::min(domain.known.size(2), domain.known.size(3));
  const auto crop = options.cropSize > 0 ? options.cropSize : std::min(DefaultCropSize, smallerSide);
  if (smallerSide < crop || crop < MinimumCropSize)
  {
    std::ostringstream message;
    message << "The section's " << (lattice ? "measured sub-lattice" : "grid") << " is " << domain.known.size(3)
            << " x " << domain.known.size(2) << " positions, smaller than one training crop of "
            << std::max(crop, MinimumCropSize) << ": "
            << (crop < MinimumCropSize ? "the section is too small to learn from" : "use a smaller crop size");
    throw std::invalid_argument(message.str());
  }
  SparseImputationOptions resolved = options;
  resolved.cropSize = crop;
  domain.origins = CropOrigins(domain.known[0][1], crop);
  // The default crop grows over sparse measurements (a few training spots on a large grid) until
  // crops hold enough of them; a crop size the caller chose stays as chosen.
  while (domain.origins.empty() && options.cropSize == 0 && resolved.cropSize < smallerSide)
  {
    resolved.cropSize = std::min(smallerSide, resolved.cropSize + DefaultCropSize / 4);
    domain.origins = CropOrigins(domain.known[0][1], resolved.cropSize);
  }
  if (domain.origins.empty())
  {
    throw std::invalid_argument("No training crop holds 4 measured positions: the measured spots are too sparse "
                                "for crops of " +
                                std::to_string(resolved.cropSize));
  }
  for (const auto & image : naturalImages)
  {
    if (image.rows < resolved.cropSize || image.columns < resolved.cropSize)
    {
      throw std::invalid_argument("A natural image is smaller than one training crop of " +
                                  std::to_string(resolved.cropSize) +
                                  " pixels (crops grow when the measured spots are sparse)");
    }
  }

  ImputationResult result;
  result.latticeMode = lattice;
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const auto device = torch::Device(options.device);
  result.values.resize(section.values.size());
  std::vector<std::vector<std::int64_t>> groups;
  if (options.modelPerGene)
  {
    for (std::int64_t gene = 0; gene < section.genes; ++gene)
    {
      groups.push_back({ gene });
    }
  }
  else
  {
    groups.emplace_back();
    for (std::int64_t gene = 0; gene < section.genes; ++gene)
    {
      groups.back().push_back(gene);
    }
  }
  const auto total = options.steps * static_cast<std::int64_t>(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g)
  {
    const auto imputed = TrainOne(domain,
                                  groups[g],
                                  prepared,
                                  section,
                                  naturalImages,
                                  resolved,
                                  generator,
                                  device,
                                  progress,
                                  static_cast<std::int64_t>(g) * options.steps,
                                  total,
                                  result);
    if (result.aborted)
    {
      return result;
    }
    for (std::size_t k = 0; k < groups[g].size(); ++k)
    {
      std::copy_n(imputed.begin() + static_cast<std::ptrdiff_t>(k * positions),
                  positions,
                  result.values.begin() + static_cast<std::ptrdiff_t>(groups[g][k] * positions));
    }
  }
  return result;
}

} // namespace imputation
} // namespace itk
