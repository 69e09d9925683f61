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
#include "itkRegressorTrainer.h"
#include "itkAutogradBackward.h"

#include "itkTorchErrors.h"
#include "itkOptimization.h"
#include "itkTorchDevice.h"
#include "itkRegressorModelFile.h"
#include "itkSafeTensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <locale>
#include <sstream>

namespace itk
{
namespace regression
{
namespace
{
using torchcore::ConfigurationError;
using torchcore::ModelFileError;

constexpr const char * CheckpointFormat = "c2l-gene-regressor-checkpoint";

/** The settings that decide the run's trajectory: a resumed run must share them. The architecture
 * is checked against the checkpoint's ResNet config, and the backbone's weights are in it. */
nlohmann::json
TrajectorySettings(const RegressorTrainingSettings & settings)
{
  auto json = nlohmann::json::parse(settings.ToJSON());
  for (const char * key : { "checkpoint_file", "checkpoint_interval", "resume", "device", "depth", "backbone" })
  {
    json.erase(key);
  }
  return json;
}

std::int64_t
PoolSize(const torch::Tensor & images)
{
  return images.defined() ? images.size(0) : 0;
}

/** Checks one pool (images uint8 [N, H, W, 3], targets float [N, G]); returns the targets as float32. */
torch::Tensor
ValidatePool(const torch::Tensor & images, const torch::Tensor & targets, std::int64_t genes, const std::string & pool)
{
  const auto fail = [&pool](const std::string & what) {
    throw torchcore::ConfigurationError("The " + pool + " " + what);
  };
  if (!images.defined() || !targets.defined())
  {
    fail("pool needs both images and targets");
  }
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8 || images.size(3) != 3)
  {
    fail("images must be uint8 [N, H, W, 3]; they are " + c10::str(images.sizes()) + " of " +
         c10::toString(images.scalar_type()));
  }
  if (images.size(1) != images.size(2) || images.size(1) < 16)
  {
    fail("patches must be square and at least 16 pixels wide; they are " + std::to_string(images.size(1)) + "x" +
         std::to_string(images.size(2)));
  }
  if (targets.dim() != 2 || !targets.is_floating_point() || targets.size(0) != images.size(0))
  {
    fail("targets must be float [N, genes] with one row per image (" + std::to_string(images.size(0)) +
         " images); they are " + c10::str(targets.sizes()));
  }
  if (targets.size(1) != genes)
  {
    fail("targets have " + std::to_string(targets.size(1)) + " genes; the regressor predicts " + std::to_string(genes));
  }
  if (targets.numel() > 0 && !torch::isfinite(targets).all().item<bool>())
  {
    fail("targets hold NaN or infinite values (at row " +
         std::to_string(torch::logical_not(torch::isfinite(targets)).any(1).nonzero()[0][0].item<std::int64_t>()) +
         "); drop or impute those spots");
  }
  return targets.to(torch::kCPU, torch::kFloat32).contiguous();
}

/** Checks the settings, moves \p net to their device and returns it. */
torch::Device
PrepareDevice(ResNet & net, const RegressorTrainingSettings & settings)
{
  if (const auto problem = settings.Problem(); !problem.empty())
  {
    throw torchcore::ConfigurationError("Invalid regressor training settings: " + problem);
  }
  const auto device = torchcore::ResolveDevice(settings.Device);
  net->to(device);
  return device;
}
} // namespace

std::vector<std::int64_t>
DrawRegressionBatch(std::int64_t realCount, std::int64_t syntheticCount, std::int64_t batchSize,
                    double syntheticFraction, at::Generator & generator)
{
  if (syntheticFraction < 0.0)
  {
    if (realCount + syntheticCount < 1)
    {
      throw torchcore::ConfigurationError("No training pairs: the real and synthetic pools are both empty");
    }
    return torchcore::DrawBatchIndices(realCount + syntheticCount, batchSize, generator);
  }
  if (syntheticFraction > 0.0 && syntheticCount < 1)
  {
    throw torchcore::ConfigurationError("A synthetic fraction of " + std::to_string(syntheticFraction) +
                                        " needs synthetic pairs, and there are none");
  }
  if (syntheticFraction < 1.0 && realCount < 1)
  {
    throw torchcore::ConfigurationError("A synthetic fraction of " + std::to_string(syntheticFraction) +
                                        " needs real pairs, and there are none");
  }
  const auto synthetic = torch::rand({ batchSize }, generator, torch::kFloat64).lt(syntheticFraction);
  const auto real = realCount > 0 ? torch::randint(0, realCount, { batchSize }, generator, torch::kLong)
                                  : torch::zeros({ batchSize }, torch::kLong);
  const auto fake = syntheticCount > 0 ? torch::randint(0, syntheticCount, { batchSize }, generator, torch::kLong)
                                       : torch::zeros({ batchSize }, torch::kLong);
  const auto drawn = torch::where(synthetic, fake + realCount, real);
  return { drawn.data_ptr<std::int64_t>(), drawn.data_ptr<std::int64_t>() + batchSize };
}

torch::Tensor
RegressionLoss(const torch::Tensor & output, const torch::Tensor & target, const std::string & loss)
{
  const auto difference = output - target;
  if (loss == "mae")
  {
    return difference.abs().mean();
  }
  if (loss == "mse")
  {
    return difference.square().mean();
  }
  throw torchcore::ConfigurationError("The loss \"" + loss + "\" is not mae or mse");
}

RegressorTrainer::RegressorTrainer(ResNet net, RegressorTrainingSettings settings, torch::Tensor realImages,
                                   torch::Tensor realTargets, torch::Tensor syntheticImages,
                                   torch::Tensor syntheticTargets)
  : m_Net(std::move(net))
  , m_Settings(std::move(settings))
  , m_Device(PrepareDevice(m_Net, m_Settings))
  , m_RealImages(std::move(realImages))
  , m_RealTargets(std::move(realTargets))
  , m_SyntheticImages(std::move(syntheticImages))
  , m_SyntheticTargets(std::move(syntheticTargets))
  , m_Generator(at::make_generator<at::CPUGeneratorImpl>(m_Settings.Seed))
  , m_Optimizer(m_Net->parameters(), torchcore::AdamWOptions{ 0.9, 0.999, 1e-8, m_Settings.WeightDecay })
{
  const auto genes = m_Net->Config().numberOfOutputs;
  m_RealTargets = ValidatePool(m_RealImages, m_RealTargets, genes, "real");
  if (m_SyntheticImages.defined() || m_SyntheticTargets.defined())
  {
    m_SyntheticTargets = ValidatePool(m_SyntheticImages, m_SyntheticTargets, genes, "synthetic");
    if (m_SyntheticImages.size(1) != m_RealImages.size(1))
    {
      throw torchcore::ConfigurationError("The synthetic patches are " + std::to_string(m_SyntheticImages.size(1)) +
                                          " pixels wide and the real ones " + std::to_string(m_RealImages.size(1)) +
                                          ": the regressor needs one patch size");
    }
  }
  m_RealImages = m_RealImages.contiguous();
  if (m_SyntheticImages.defined())
  {
    m_SyntheticImages = m_SyntheticImages.contiguous();
  }
  // An empty pool that would be drawn from is an error now, not at the first step.
  at::Generator probe = at::make_generator<at::CPUGeneratorImpl>(0);
  DrawRegressionBatch(PoolSize(m_RealImages), PoolSize(m_SyntheticImages), 1, m_Settings.SyntheticFraction, probe);
  m_Net->train();
  if (m_Settings.Resume && std::filesystem::exists(m_Settings.CheckpointFileName))
  {
    LoadCheckpoint(m_Settings.CheckpointFileName);
  }
}

double
RegressorTrainer::LearningRate(std::int64_t step) const
{
  const auto warmup = static_cast<std::int64_t>(std::llround(m_Settings.WarmupFraction * m_Settings.NumberOfSteps));
  return torchcore::WarmupLearningRate(
    step, m_Settings.LearningRate, warmup, m_Settings.NumberOfSteps, m_Settings.Schedule);
}

std::vector<std::string>
RegressorTrainer::ParameterNames() const
{
  std::vector<std::string> names;
  for (const auto & named : m_Net->named_parameters())
  {
    names.push_back(named.key());
  }
  return names;
}

double
RegressorTrainer::Step()
{
  const auto realCount = PoolSize(m_RealImages);
  const auto indices = DrawRegressionBatch(
    realCount, PoolSize(m_SyntheticImages), m_Settings.BatchSize, m_Settings.SyntheticFraction, m_Generator);
  std::vector<std::int64_t> real;
  std::vector<std::int64_t> synthetic;
  for (const auto index : indices)
  {
    (index < realCount ? real : synthetic).push_back(index < realCount ? index : index - realCount);
  }
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> targets;
  for (const auto & pool : { std::make_tuple(&real, &m_RealImages, &m_RealTargets),
                             std::make_tuple(&synthetic, &m_SyntheticImages, &m_SyntheticTargets) })
  {
    if (!std::get<0>(pool)->empty())
    {
      const auto rows = torch::tensor(*std::get<0>(pool), torch::kLong);
      images.push_back(std::get<1>(pool)->index_select(0, rows));
      targets.push_back(std::get<2>(pool)->index_select(0, rows));
    }
  }
  auto batch = images.size() == 1 ? images.front() : torch::cat(images);
  if (m_Settings.Augment)
  {
    // Turned as [B, 3, H, W] (uint8, so the copy is small), handed back as [B, H, W, 3] views.
    batch = torchcore::AugmentDihedral(batch.permute({ 0, 3, 1, 2 }), m_Generator).permute({ 0, 2, 3, 1 });
  }
  const auto input = PatchesToResNetInput(batch.to(m_Device));
  const auto target = (targets.size() == 1 ? targets.front() : torch::cat(targets)).to(m_Device);

  m_Net->train();
  for (auto & parameter : m_Net->parameters())
  {
    parameter.mutable_grad() = torch::Tensor();
  }
  const auto loss = RegressionLoss(m_Net->forward(input), target, m_Settings.Loss);
  AutogradBackward(loss);
  m_Optimizer.Step(LearningRate(m_Optimizer.StepCount()));
  m_LastLoss = loss.item<double>();
  return m_LastLoss;
}

void
RegressorTrainer::Run(const std::function<void(std::int64_t step, std::int64_t total, double loss)> & progress)
{
  while (CurrentStep() < m_Settings.NumberOfSteps)
  {
    const double loss = Step();
    const auto   step = CurrentStep();
    if (!m_Settings.CheckpointFileName.empty() && m_Settings.CheckpointInterval > 0 &&
        step % m_Settings.CheckpointInterval == 0 && step < m_Settings.NumberOfSteps)
    {
      SaveCheckpoint(m_Settings.CheckpointFileName);
    }
    if (progress)
    {
      progress(step, m_Settings.NumberOfSteps, loss);
    }
  }
  if (!m_Settings.CheckpointFileName.empty())
  {
    SaveCheckpoint(m_Settings.CheckpointFileName);
  }
  m_Net->eval();
}

void
RegressorTrainer::SaveCheckpoint(const std::string & fileName) const
{
  torchcore::SafeTensors contents;
  contents.tensors = m_Net->NamedState("model.");
  m_Optimizer.Save(contents, ParameterNames(), "adam.");
  contents.tensors.emplace_back("rng.state", m_Generator.get_state());
  contents.metadata["format"] = CheckpointFormat;
  contents.metadata["resnet_config"] = m_Net->Config().ToJson().dump();
  contents.metadata["training_options"] = m_Settings.ToJSON();
  contents.metadata["real_count"] = std::to_string(PoolSize(m_RealImages));
  contents.metadata["synthetic_count"] = std::to_string(PoolSize(m_SyntheticImages));
  contents.metadata["step"] = std::to_string(CurrentStep());
  // All 17 digits: a run resumed after its last step records the same final loss, to the bit.
  // The classic locale, whatever the application's: the checkpoint reads the same anywhere.
  std::ostringstream lastLoss;
  lastLoss.imbue(std::locale::classic());
  lastLoss << std::setprecision(17) << m_LastLoss;
  contents.metadata["last_loss"] = lastLoss.str();
  torchcore::WriteSafeTensors(fileName, contents);
}

void
RegressorTrainer::LoadCheckpoint(const std::string & fileName)
{
  const auto contents = torchcore::ReadSafeTensors(fileName);
  const auto field = [&](const char * key) {
    const auto found = contents.metadata.find(key);
    if (found == contents.metadata.end())
    {
      throw torchcore::ModelFileError("The file " + fileName + " is not a gene-regressor training checkpoint (no \"" +
                                      key + "\")");
    }
    return found->second;
  };
  if (field("format") != CheckpointFormat || !contents.Find("rng.state").defined())
  {
    throw torchcore::ModelFileError("The file " + fileName +
                                    " is not a gene-regressor training checkpoint (its format is \"" + field("format") +
                                    "\")");
  }
  nlohmann::json config;
  nlohmann::json options;
  try
  {
    config = nlohmann::json::parse(field("resnet_config"));
    options = nlohmann::json::parse(field("training_options"));
  }
  catch (const nlohmann::json::exception & e)
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " has unreadable metadata: " + e.what());
  }
  if (config != m_Net->Config().ToJson())
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " trains another ResNet (" + config.dump() +
                                    ") than this run (" + m_Net->Config().ToJson().dump() + ")");
  }
  const auto trajectory = TrajectorySettings(m_Settings);
  for (const auto & item : trajectory.items())
  {
    if (!options.contains(item.key()) || options[item.key()] != item.value())
    {
      throw torchcore::ModelFileError("The checkpoint " + fileName + " was written with " + item.key() + " = " +
                                      (options.contains(item.key()) ? options[item.key()].dump() : "nothing") +
                                      "; this run has " + item.value().dump() +
                                      ": resuming would not continue the same run");
    }
  }
  if (field("real_count") != std::to_string(PoolSize(m_RealImages)) ||
      field("synthetic_count") != std::to_string(PoolSize(m_SyntheticImages)))
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " was trained on " + field("real_count") +
                                    " real and " + field("synthetic_count") + " synthetic pairs; this run has " +
                                    std::to_string(PoolSize(m_RealImages)) + " and " +
                                    std::to_string(PoolSize(m_SyntheticImages)));
  }
  LoadResNetState(m_Net, contents, "model.", fileName);
  m_Optimizer.Load(contents, ParameterNames(), "adam.", fileName);
  // Unknown (NaN) when no step was taken ("nan") or the checkpoint predates the field.
  m_LastLoss = std::numeric_limits<double>::quiet_NaN();
  if (const auto lastLoss = contents.metadata.find("last_loss"); lastLoss != contents.metadata.end())
  {
    std::istringstream text(lastLoss->second);
    text.imbue(std::locale::classic());
    double value = 0.0;
    if (text >> value)
    {
      m_LastLoss = value;
    }
  }
  try
  {
    m_Generator.set_state(contents.Find("rng.state"));
  }
  catch (const std::exception & e)
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " has an unusable RNG state: " + e.what());
  }
}

} // namespace regression
} // namespace itk
