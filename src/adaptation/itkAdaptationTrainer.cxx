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
#include "itkAdaptationTrainer.h"
#include "itkAutogradBackward.h"
#include "itkDiffusionLoss.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

namespace itk
{
namespace adaptation
{
namespace
{
std::vector<torch::Tensor>
ParametersOf(const GeneFiLMAdapter & adapter)
{
  std::vector<torch::Tensor> parameters;
  for (const auto & named : adapter->NamedWeights())
  {
    parameters.push_back(named.second);
  }
  return parameters;
}
} // namespace

TensorPairedSource::TensorPairedSource(torch::Tensor patches, torch::Tensor conditions)
  : m_Patches(std::move(patches))
  , m_Conditions(std::move(conditions))
{
  if (m_Patches.dim() != 4 || m_Conditions.dim() != 2 || m_Patches.size(0) != m_Conditions.size(0) ||
      m_Patches.size(0) == 0)
  {
    throw torchcore::ConfigurationError(
      "Paired data must be N patches [N, C, H, W] and N conditions [N, G] with N > 0");
  }
}

void
TensorPairedSource::Get(const std::vector<std::int64_t> & indices, torch::Tensor & patches,
                        torch::Tensor & conditions) const
{
  const auto index = torch::tensor(indices, torch::kLong);
  patches = m_Patches.index_select(0, index);
  conditions = m_Conditions.index_select(0, index);
}

AdaptationTrainer::AdaptationTrainer(diffusion::UNet2D central, diffusion::NoiseSchedule schedule,
                                     GeneFiLMAdapter adapter, const AdaptationSettings & settings)
  : m_Central(std::move(central))
  , m_Schedule(std::move(schedule))
  , m_Adapter(std::move(adapter))
  , m_Settings(settings)
  , m_Parameters(ParametersOf(m_Adapter))
  , m_Optimizer(m_Parameters, torchcore::AdamWOptions{ 0.9, 0.999, 1e-8, settings.WeightDecay })
  , m_Ema(m_Parameters, settings.EmaDecay)
  , m_Generator(at::make_generator<at::CPUGeneratorImpl>(settings.Seed))
{
  if (const auto problem = m_Settings.Problem(); !problem.empty())
  {
    throw torchcore::ConfigurationError("Adaptation: " + problem);
  }
  Freeze(m_Central);
  m_Central->eval(); // frozen: dropout (if any) stays off
}

double
AdaptationTrainer::LearningRate(std::int64_t step) const
{
  const auto warmup = static_cast<std::int64_t>(m_Settings.WarmupFraction * m_Settings.NumberOfSteps);
  return torchcore::WarmupLearningRate(
    step, m_Settings.LearningRate, warmup, m_Settings.NumberOfSteps, m_Settings.Schedule);
}

double
AdaptationTrainer::Step(const PairedSource & pairs)
{
  const auto device = m_Central->parameters().front().device();
  const auto genes = m_Adapter->ConditionSize();
  for (auto & parameter : m_Parameters)
  {
    parameter.mutable_grad() = torch::Tensor();
  }
  m_Adapter->train();
  double total = 0.0;
  for (std::int64_t micro = 0; micro < m_Settings.GradientAccumulation; ++micro)
  {
    torch::Tensor images, conditions;
    pairs.Get(torchcore::DrawBatchIndices(pairs.Size(), m_Settings.BatchSize, m_Generator), images, conditions);
    if (conditions.dim() != 2 || conditions.size(1) != genes)
    {
      throw torchcore::ConfigurationError("The expression has " + std::to_string(conditions.size(-1)) +
                                          " genes per spot; the adapter was built for " + std::to_string(genes));
    }
    if (images.dim() != 4 || images.size(1) != m_Central->Config().inChannels)
    {
      throw torchcore::ConfigurationError("Training patches must have " +
                                          std::to_string(m_Central->Config().inChannels) + " channels");
    }
    images = diffusion::PatchesToModelRange(images.to(torch::kCPU));
    if (m_Settings.Augment)
    {
      images = torchcore::AugmentDihedral(images, m_Generator);
    }
    conditions = conditions.to(torch::kCPU, torch::kFloat32);
    const auto isNull =
      torch::rand({ static_cast<std::int64_t>(m_Settings.BatchSize) }, m_Generator) < m_Settings.ConditionDropout;
    if (m_Settings.GeneDropout > 0.0)
    {
      conditions = conditions * (torch::rand(conditions.sizes(), m_Generator) >= m_Settings.GeneDropout);
    }
    const auto noise = torch::randn(images.sizes(), m_Generator, torch::kFloat32);
    const auto timesteps = torch::randint(0,
                                          m_Schedule->NumTrainTimesteps(),
                                          { static_cast<std::int64_t>(m_Settings.BatchSize) },
                                          m_Generator,
                                          torch::kLong);

    const auto original = images.to(device);
    const auto noiseOnDevice = noise.to(device);
    const auto t = timesteps.to(device);
    const auto modulator = m_Adapter->Bind(conditions.to(device), isNull.to(device));
    const auto output = m_Central->forward(m_Schedule->AddNoise(original, noiseOnDevice, t), t, modulator.get());
    const auto target = m_Schedule->Target(original, noiseOnDevice, t);
    const auto loss = diffusion::MinSnrLoss(*m_Schedule, output, target, t, m_Settings.SnrGamma) /
                      static_cast<double>(m_Settings.GradientAccumulation);
    AutogradBackward(loss);
    total += loss.item<double>();
  }
  if (m_Settings.GradientClip > 0.0)
  {
    torch::nn::utils::clip_grad_norm_(m_Parameters, m_Settings.GradientClip);
  }
  m_Optimizer.Step(LearningRate(m_Optimizer.StepCount()));
  m_Ema.Update(m_Parameters, m_Optimizer.StepCount());
  return total;
}

GeneFiLMAdapter
AdaptationTrainer::EmaAdapter() const
{
  GeneFiLMAdapter            copy(m_Adapter->Options(), m_Adapter->Blocks());
  std::vector<torch::Tensor> parameters = ParametersOf(copy);
  m_Ema.CopyTo(parameters);
  copy->to(m_Parameters.front().device());
  return copy;
}

std::vector<std::string>
AdaptationTrainer::ParameterNames() const
{
  std::vector<std::string> names;
  for (const auto & named : m_Adapter->NamedWeights())
  {
    names.push_back(named.first);
  }
  return names;
}

void
AdaptationTrainer::SaveCheckpoint(const std::string & fileName) const
{
  torchcore::SafeTensors checkpoint;
  const auto             names = ParameterNames();
  for (std::size_t i = 0; i < names.size(); ++i)
  {
    checkpoint.tensors.emplace_back("adapter." + names[i], m_Parameters[i]);
    checkpoint.tensors.emplace_back("ema." + names[i], m_Ema.Averages()[i]);
  }
  m_Optimizer.Save(checkpoint, names, "adam.");
  checkpoint.tensors.emplace_back("rng.state", m_Generator.get_state());
  checkpoint.metadata["format"] = "c2l-adaptation-checkpoint";
  checkpoint.metadata["adaptation_options"] = m_Settings.ToJSON();
  torchcore::WriteSafeTensors(fileName, checkpoint);
}

void
AdaptationTrainer::LoadCheckpoint(const std::string & fileName)
{
  const auto checkpoint = torchcore::ReadSafeTensors(fileName);
  const auto format = checkpoint.metadata.find("format");
  if (format == checkpoint.metadata.end() || format->second != "c2l-adaptation-checkpoint")
  {
    throw torchcore::ModelFileError("The file " + fileName + " is not an adaptation checkpoint");
  }
  const auto                 names = ParameterNames();
  std::vector<torch::Tensor> averages;
  torch::NoGradGuard         noGrad;
  for (std::size_t i = 0; i < names.size(); ++i)
  {
    const auto weight = checkpoint.Find("adapter." + names[i]);
    const auto average = checkpoint.Find("ema." + names[i]);
    if (!weight.defined() || !average.defined() || weight.sizes() != m_Parameters[i].sizes())
    {
      throw torchcore::ModelFileError("The checkpoint " + fileName + " has no adapter tensor \"" + names[i] +
                                      "\" of this adapter's shape (other genes, blocks or embedding size?)");
    }
    m_Parameters[i].copy_(weight);
    averages.push_back(average);
  }
  m_Ema.Assign(averages, fileName);
  m_Optimizer.Load(checkpoint, names, "adam.", fileName);
  const auto state = checkpoint.Find("rng.state");
  if (!state.defined())
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " has no random generator state");
  }
  m_Generator.set_state(state);
}

} // namespace adaptation
} // namespace itk
