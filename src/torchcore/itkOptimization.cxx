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
#include "itkOptimization.h"
#include "itkTorchErrors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace itk
{
namespace torchcore
{

AdamW::AdamW(std::vector<torch::Tensor> parameters, AdamWOptions options)
  : m_Parameters(std::move(parameters))
  , m_Options(options)
{
  for (const auto & parameter : m_Parameters)
  {
    m_ExpAvg.push_back(torch::zeros_like(parameter));
    m_ExpAvgSq.push_back(torch::zeros_like(parameter));
  }
}

std::vector<torch::Tensor>
AdamW::Moments() const
{
  std::vector<torch::Tensor> moments(m_ExpAvg);
  moments.insert(moments.end(), m_ExpAvgSq.begin(), m_ExpAvgSq.end());
  return moments;
}

void
AdamW::Step(double rate)
{
  ++m_Step;
  const double       correction1 = 1.0 - std::pow(m_Options.beta1, static_cast<double>(m_Step));
  const double       correction2 = 1.0 - std::pow(m_Options.beta2, static_cast<double>(m_Step));
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < m_Parameters.size(); ++i)
  {
    auto &     parameter = m_Parameters[i];
    const auto gradient = parameter.grad();
    if (!gradient.defined())
    {
      continue;
    }
    parameter.mul_(1.0 - rate * m_Options.weightDecay);
    m_ExpAvg[i].mul_(m_Options.beta1).add_(gradient, 1.0 - m_Options.beta1);
    m_ExpAvgSq[i].mul_(m_Options.beta2).addcmul_(gradient, gradient, 1.0 - m_Options.beta2);
    const auto denominator = (m_ExpAvgSq[i].sqrt() / std::sqrt(correction2)).add_(m_Options.epsilon);
    parameter.addcdiv_(m_ExpAvg[i], denominator, -rate / correction1);
  }
}

void
AdamW::Save(SafeTensors & checkpoint, const std::vector<std::string> & names, const std::string & prefix) const
{
  for (std::size_t i = 0; i < names.size(); ++i)
  {
    checkpoint.tensors.emplace_back(prefix + "exp_avg." + names[i], m_ExpAvg[i]);
    checkpoint.tensors.emplace_back(prefix + "exp_avg_sq." + names[i], m_ExpAvgSq[i]);
  }
  checkpoint.metadata[prefix + "step"] = std::to_string(m_Step);
}

void
AdamW::Load(const SafeTensors & checkpoint, const std::vector<std::string> & names, const std::string & prefix,
            const std::string & source)
{
  const auto step = checkpoint.metadata.find(prefix + "step");
  if (step == checkpoint.metadata.end() || names.size() != m_Parameters.size())
  {
    throw ModelFileError("The checkpoint " + source + " holds no optimizer state for these parameters");
  }
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < names.size(); ++i)
  {
    for (auto * moment : { &m_ExpAvg[i], &m_ExpAvgSq[i] })
    {
      const std::string name = prefix + (moment == &m_ExpAvg[i] ? "exp_avg." : "exp_avg_sq.") + names[i];
      const auto        saved = checkpoint.Find(name);
      if (!saved.defined() || saved.sizes() != moment->sizes())
      {
        throw ModelFileError("The checkpoint " + source + " lacks the optimizer state \"" + name + "\"");
      }
      moment->copy_(saved);
    }
  }
  try
  {
    m_Step = std::stoll(step->second);
  }
  catch (const std::exception &)
  {
    throw ModelFileError("The checkpoint " + source + " has an unreadable optimizer step \"" + step->second + "\"");
  }
}

ExponentialMovingAverage::ExponentialMovingAverage(const std::vector<torch::Tensor> & parameters, double decay)
  : m_Decay(decay)
{
  for (const auto & parameter : parameters)
  {
    m_Averages.push_back(parameter.detach().clone());
  }
}

double
EmaDecayAt(double decay, std::int64_t update)
{
  const double step = static_cast<double>(update - 1);
  return step <= 0.0 ? 0.0 : std::min(decay, (1.0 + step) / (10.0 + step));
}

void
UpdateMovingAverages(const std::vector<torch::Tensor> & averages, const std::vector<torch::Tensor> & parameters,
                     double decay, std::int64_t update)
{
  torch::NoGradGuard noGrad;
  const double       d = EmaDecayAt(decay, update);
  for (std::size_t i = 0; i < parameters.size(); ++i)
  {
    averages[i].mul_(d).add_(parameters[i], 1.0 - d);
  }
}

void
ExponentialMovingAverage::Update(const std::vector<torch::Tensor> & parameters, std::int64_t update)
{
  UpdateMovingAverages(m_Averages, parameters, m_Decay, update);
}

void
ExponentialMovingAverage::CopyTo(const std::vector<torch::Tensor> & parameters) const
{
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < parameters.size(); ++i)
  {
    parameters[i].copy_(m_Averages[i]);
  }
}

void
ExponentialMovingAverage::Assign(const std::vector<torch::Tensor> & averages, const std::string & source)
{
  if (averages.size() != m_Averages.size())
  {
    throw ModelFileError("The checkpoint " + source + " has " + std::to_string(averages.size()) +
                         " averaged tensors; this model has " + std::to_string(m_Averages.size()));
  }
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < averages.size(); ++i)
  {
    if (averages[i].sizes() != m_Averages[i].sizes())
    {
      throw ModelFileError("The checkpoint " + source + " has an averaged tensor of another shape");
    }
    m_Averages[i].copy_(averages[i]);
  }
}

double
WarmupLearningRate(std::int64_t step, double peak, std::int64_t warmup, std::int64_t total,
                   const std::string & schedule)
{
  if (step < warmup)
  {
    return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  }
  if (schedule == "constant")
  {
    return peak;
  }
  const double span = static_cast<double>(std::max<std::int64_t>(1, total - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  return peak * 0.5 * (1.0 + std::cos(std::acos(-1.0) * progress));
}

std::vector<std::int64_t>
DrawBatchIndices(std::int64_t size, std::int64_t count, at::Generator & generator)
{
  const auto drawn = torch::randint(0, size, { count }, generator, torch::kLong);
  return { drawn.data_ptr<std::int64_t>(), drawn.data_ptr<std::int64_t>() + drawn.numel() };
}

DihedralDraw
DrawDihedral(std::int64_t batch, at::Generator & generator)
{
  DihedralDraw draw;
  draw.flips = torch::randint(0, 2, { batch }, generator, torch::kLong);
  draw.turns = torch::randint(0, 4, { batch }, generator, torch::kLong);
  return draw;
}

torch::Tensor
ApplyDihedral(const torch::Tensor & images, const DihedralDraw & draw, std::int64_t first)
{
  const auto batch = images.size(0);
  if (first < 0 || first + batch > draw.flips.size(0))
  {
    throw ConfigurationError("Dihedral draws " + std::to_string(first) + " .. " + std::to_string(first + batch - 1) +
                             " do not exist: " + std::to_string(draw.flips.size(0)) + " were drawn");
  }
  std::vector<torch::Tensor> augmented;
  for (std::int64_t i = 0; i < batch; ++i)
  {
    auto image = images[i];
    if (draw.flips[first + i].item<std::int64_t>() == 1)
    {
      image = image.flip({ 2 });
    }
    const auto k = draw.turns[first + i].item<std::int64_t>();
    if (k != 0)
    {
      image = torch::rot90(image, k, { 1, 2 });
    }
    augmented.push_back(image);
  }
  return torch::stack(augmented);
}

torch::Tensor
AugmentDihedral(const torch::Tensor & images, at::Generator & generator)
{
  return ApplyDihedral(images, DrawDihedral(images.size(0), generator));
}

} // namespace torchcore
} // namespace itk
