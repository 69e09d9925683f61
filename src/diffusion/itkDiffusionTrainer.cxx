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
#include "itkDiffusionTrainer.h"
#include "itkAutogradBackward.h"
#include "itkDiffusionLoss.h"

#include "itkOptimization.h"
#include "itkTorchErrors.h"
#include "itkDiffusionModelFile.h"
#include "itkGlobalGeneratorSeed.h"
#include "itkSafeTensors.h"
#include "itkTorchDevice.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <nlohmann/json.hpp>

#include <cmath>

namespace itk
{
namespace diffusion
{
namespace
{
/** bfloat16 autocast on CUDA for one scope (the autocast API changed in LibTorch 2.4). */
class CudaBf16Autocast
{
public:
  explicit CudaBf16Autocast(bool enable)
    : m_Enabled(enable)
  {
    if (!m_Enabled)
    {
      return;
    }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
    at::autocast::increment_nesting();
  }
  ~CudaBf16Autocast()
  {
    if (!m_Enabled)
    {
      return;
    }
    if (at::autocast::decrement_nesting() == 0)
    {
      at::autocast::clear_cache();
    }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
  }
  CudaBf16Autocast(const CudaBf16Autocast &) = delete;
  CudaBf16Autocast &
  operator=(const CudaBf16Autocast &) = delete;

private:
  bool m_Enabled;
};

void
Validate(const TrainerOptions & options)
{
  const auto fail = [](const std::string & what) {
    throw torchcore::ConfigurationError("Invalid training options: " + what);
  };
  if (options.batchSize < 1 || options.gradientAccumulation < 1 || options.totalSteps < 1)
  {
    fail("the batch size, gradient accumulation and total steps must be positive");
  }
  if (!(options.learningRate > 0.0) || options.weightDecay < 0.0 || options.warmupSteps < 0)
  {
    fail("the learning rate must be positive, weight decay and warm-up steps non-negative");
  }
  if (options.learningRateSchedule != "constant" && options.learningRateSchedule != "cosine")
  {
    fail("the learning-rate schedule \"" + options.learningRateSchedule + "\" is not constant or cosine");
  }
  if (options.snrGamma < 0.0 || options.gradientClip < 0.0 || !(options.emaDecay >= 0.0 && options.emaDecay < 1.0))
  {
    fail("SNR gamma and gradient clip must be >= 0 and the EMA decay in [0, 1)");
  }
  if (!(options.adamBeta1 >= 0.0 && options.adamBeta1 < 1.0 && options.adamBeta2 >= 0.0 && options.adamBeta2 < 1.0))
  {
    fail("the Adam betas must be in [0, 1)");
  }
}

UNet2D
CopyOf(const UNet2D & unet)
{
  UNet2D             copy = torchcore::BuildModuleToOverwrite([&] { return UNet2D(unet->Config()); });
  torch::NoGradGuard noGrad;
  copy->to(unet->parameters().front().device());
  const auto source = unet->parameters();
  auto       target = copy->parameters();
  for (std::size_t i = 0; i < source.size(); ++i)
  {
    target[i].copy_(source[i]);
    target[i].set_requires_grad(false);
  }
  return copy;
}
} // namespace

TensorPatchSource::TensorPatchSource(torch::Tensor patches)
  : m_Patches(std::move(patches))
{
  if (m_Patches.dim() != 4 || m_Patches.size(0) < 1)
  {
    throw torchcore::ConfigurationError("Training patches must be a non-empty [N, C, H, W] tensor");
  }
}

std::int64_t
TensorPatchSource::Size() const
{
  return m_Patches.size(0);
}

torch::Tensor
TensorPatchSource::Get(const std::vector<std::int64_t> & indices) const
{
  return m_Patches.index_select(0, torch::tensor(indices, torch::kLong).to(m_Patches.device()));
}

std::string
TrainerOptionsToJson(const TrainerOptions & o)
{
  return nlohmann::json{
    { "batch_size", o.batchSize },
    { "gradient_accumulation", o.gradientAccumulation },
    { "learning_rate", o.learningRate },
    { "weight_decay", o.weightDecay },
    { "adam_beta1", o.adamBeta1 },
    { "adam_beta2", o.adamBeta2 },
    { "adam_epsilon", o.adamEpsilon },
    { "warmup_steps", o.warmupSteps },
    { "lr_schedule", o.learningRateSchedule },
    { "total_steps", o.totalSteps },
    { "snr_gamma", o.snrGamma },
    { "gradient_clip", o.gradientClip },
    { "ema_decay", o.emaDecay },
    { "augment", o.augment },
    { "seed", o.seed },
    { "bf16", o.bf16 }
  }.dump();
}

TrainerOptions
TrainerOptionsFromJson(const std::string & text)
{
  TrainerOptions o;
  try
  {
    const auto json = nlohmann::json::parse(text);
    o.batchSize = json.at("batch_size");
    o.gradientAccumulation = json.at("gradient_accumulation");
    o.learningRate = json.at("learning_rate");
    o.weightDecay = json.at("weight_decay");
    o.adamBeta1 = json.at("adam_beta1");
    o.adamBeta2 = json.at("adam_beta2");
    o.adamEpsilon = json.at("adam_epsilon");
    o.warmupSteps = json.at("warmup_steps");
    o.learningRateSchedule = json.at("lr_schedule");
    o.totalSteps = json.at("total_steps");
    o.snrGamma = json.at("snr_gamma");
    o.gradientClip = json.at("gradient_clip");
    o.emaDecay = json.at("ema_decay");
    o.augment = json.at("augment");
    o.seed = json.at("seed");
    o.bf16 = json.at("bf16");
  }
  catch (const nlohmann::json::exception & e)
  {
    throw torchcore::ModelFileError(std::string("The checkpoint's trainer options are unreadable: ") + e.what());
  }
  return o;
}

TrainerOptions
TrainerOptionsFor(const PretrainingSettings & settings)
{
  TrainerOptions options;
  options.batchSize = settings.BatchSize;
  options.gradientAccumulation = settings.GradientAccumulation;
  options.learningRate = settings.LearningRate;
  options.weightDecay = settings.WeightDecay;
  options.totalSteps = settings.NumberOfSteps;
  options.warmupSteps = static_cast<std::int64_t>(std::round(settings.WarmupFraction * settings.NumberOfSteps));
  options.learningRateSchedule = settings.Schedule;
  options.emaDecay = settings.EmaDecay;
  options.snrGamma = settings.SnrGamma;
  options.gradientClip = settings.GradientClip;
  options.seed = settings.Seed;
  return options;
}

DiffusionTrainer::DiffusionTrainer(UNet2D unet, NoiseSchedule schedule, TrainerOptions options)
  : m_UNet(std::move(unet))
  , m_Schedule(std::move(schedule))
  , m_Options(std::move(options))
  , m_Generator(at::make_generator<at::CPUGeneratorImpl>(m_Options.seed))
  , m_Optimizer(
      m_UNet->parameters(),
      torchcore::AdamWOptions{ m_Options.adamBeta1, m_Options.adamBeta2, m_Options.adamEpsilon, m_Options.weightDecay })
{
  Validate(m_Options);
  const auto device = m_UNet->parameters().front().device();
  m_Schedule->to(device);
  m_Ema = CopyOf(m_UNet);
  m_Ema->eval();
  m_UNet->train();
}

double
DiffusionTrainer::LearningRate(std::int64_t step) const
{
  return torchcore::WarmupLearningRate(
    step, m_Options.learningRate, m_Options.warmupSteps, m_Options.totalSteps, m_Options.learningRateSchedule);
}

std::vector<std::string>
DiffusionTrainer::ParameterNames() const
{
  std::vector<std::string> names;
  for (const auto & named : m_UNet->NamedWeights())
  {
    names.push_back(named.first);
  }
  return names;
}

void
DiffusionTrainer::SetDataParallelGroup(std::shared_ptr<torchcore::DataParallelGroup> group)
{
  if (group && m_Options.batchSize % group->WorldSize() != 0)
  {
    throw torchcore::ConfigurationError("The batch of " + std::to_string(m_Options.batchSize) +
                                        " patches does not split evenly over " + std::to_string(group->WorldSize()) +
                                        " ranks: choose a batch that is a multiple of the number of ranks");
  }
  m_Group = std::move(group);
  if (!m_Group)
  {
    return;
  }
  m_Group->RequireSameOnEveryRank(
    "training options or U-Net",
    nlohmann::json{ { "trainer_options", nlohmann::json::parse(TrainerOptionsToJson(m_Options)) },
                    { "unet_config", nlohmann::json::parse(m_UNet->Config().ToJson()) },
                    { "scheduler_config", nlohmann::json::parse(m_Schedule->Config().ToJson()) } }
      .dump());
  // Rank 0's whole state, as one list of tensors: weights, EMA, moments, generator, step.
  std::vector<torch::Tensor> state = m_UNet->parameters();
  for (const auto & average : m_Ema->parameters())
  {
    state.push_back(average);
  }
  for (const auto & moment : m_Optimizer.Moments())
  {
    state.push_back(moment);
  }
  auto       generatorState = m_Generator.get_state();
  auto       step = torch::full({ 1 }, m_Optimizer.StepCount(), torch::kLong);
  const auto device = m_UNet->parameters().front().device();
  state.push_back(generatorState.to(device));
  state.push_back(step.to(device));
  m_Group->BroadcastFromRankZero(state);
  m_Generator.set_state(state[state.size() - 2].to(torch::kCPU));
  m_Optimizer.SetStepCount(state.back().to(torch::kCPU).item<std::int64_t>());
}

TrainingBatch
DiffusionTrainer::DrawBatch(const PatchSource & patches)
{
  const auto         config = m_UNet->Config();
  const std::int64_t ranks = m_Group ? m_Group->WorldSize() : 1;
  const std::int64_t global = m_Options.batchSize;
  const std::int64_t local = global / ranks;
  const std::int64_t first = (m_Group ? m_Group->Rank() : 0) * local;
  // The whole batch is drawn, in one process's order; this rank keeps draws first .. first + local - 1.
  const auto                      indices = torchcore::DrawBatchIndices(patches.Size(), global, m_Generator);
  const std::vector<std::int64_t> mine(indices.begin() + first, indices.begin() + first + local);
  auto                            images = patches.Get(mine).to(torch::kCPU);
  if (images.dim() != 4 || images.size(1) != config.inChannels || images.size(2) != images.size(3))
  {
    throw torchcore::ConfigurationError("Training patches must be square with " + std::to_string(config.inChannels) +
                                        " channels");
  }
  TrainingBatch batch;
  batch.images = PatchesToModelRange(images);
  if (m_Options.augment)
  {
    batch.images = torchcore::ApplyDihedral(batch.images, torchcore::DrawDihedral(global, m_Generator), first);
  }
  // A rank keeps its own rows only (a copy, so the rest of the batch is freed).
  const auto mySlice = [&](const torch::Tensor & whole) {
    return ranks > 1 ? whole.narrow(0, first, local).clone() : whole;
  };
  batch.noise =
    mySlice(torch::randn({ global, images.size(1), images.size(2), images.size(3) }, m_Generator, torch::kFloat32));
  batch.timesteps = mySlice(torch::randint(0, m_Schedule->NumTrainTimesteps(), { global }, m_Generator, torch::kLong));
  return batch;
}

double
DiffusionTrainer::Step(const PatchSource & patches)
{
  std::vector<TrainingBatch> microBatches;
  for (std::int64_t micro = 0; micro < m_Options.gradientAccumulation; ++micro)
  {
    microBatches.push_back(DrawBatch(patches));
  }
  return Step(microBatches);
}

double
DiffusionTrainer::Step(const std::vector<TrainingBatch> & microBatches)
{
  if (microBatches.empty())
  {
    throw torchcore::ConfigurationError("A training step needs at least one micro-batch");
  }
  const auto device = m_UNet->parameters().front().device();
  const bool autocast = m_Options.bf16 && device.is_cuda();
  auto       parameters = m_UNet->parameters();
  for (auto & parameter : parameters)
  {
    parameter.mutable_grad() = torch::Tensor();
  }
  m_UNet->train();
  double total = 0.0;
  for (const auto & batch : microBatches)
  {
    const auto    original = batch.images.to(device);
    const auto    noise = batch.noise.to(device);
    const auto    t = batch.timesteps.to(device);
    const auto    noisy = m_Schedule->AddNoise(original, noise, t);
    const auto    target = m_Schedule->Target(original, noise, t);
    torch::Tensor output;
    {
      CudaBf16Autocast guard(autocast);
      output = m_UNet(noisy, t);
    }
    const auto loss =
      MinSnrLoss(*m_Schedule, output, target, t, m_Options.snrGamma) / static_cast<double>(microBatches.size());
    AutogradBackward(loss);
    total += loss.item<double>();
  }
  if (m_Group)
  {
    // Each rank's loss is the mean over its slice: their mean is the whole batch's.
    m_Group->AverageGradients(parameters);
    total = m_Group->Average(total);
  }
  if (m_Options.gradientClip > 0.0)
  {
    torch::nn::utils::clip_grad_norm_(parameters, m_Options.gradientClip);
  }
  m_Optimizer.Step(LearningRate(m_Optimizer.StepCount()));
  torchcore::UpdateMovingAverages(m_Ema->parameters(), parameters, m_Options.emaDecay, m_Optimizer.StepCount());
  return total;
}

void
DiffusionTrainer::SaveCheckpoint(const std::string & fileName) const
{
  torchcore::SafeTensors contents;
  contents.tensors = m_UNet->NamedWeights("model.");
  for (auto & named : m_Ema->NamedWeights("ema."))
  {
    contents.tensors.push_back(std::move(named));
  }
  m_Optimizer.Save(contents, ParameterNames(), "adam.");
  contents.tensors.emplace_back("rng.state", m_Generator.get_state());
  contents.metadata["format"] = "c2l-diffusion-checkpoint";
  contents.metadata["unet_config"] = m_UNet->Config().ToJson();
  contents.metadata["scheduler_config"] = m_Schedule->Config().ToJson();
  contents.metadata["trainer_options"] = TrainerOptionsToJson(m_Options);
  contents.metadata["step"] = std::to_string(StepCount());
  torchcore::WriteSafeTensors(fileName, contents);
}

void
DiffusionTrainer::LoadCheckpoint(const std::string & fileName)
{
  const auto contents = torchcore::ReadSafeTensors(fileName);
  const auto step = contents.metadata.find("step");
  const auto unet = contents.metadata.find("unet_config");
  if (step == contents.metadata.end() || unet == contents.metadata.end() || !contents.Find("rng.state").defined())
  {
    throw torchcore::ModelFileError("The file " + fileName +
                                    " is not a training checkpoint (no step, U-Net config or RNG state)");
  }
  if (UNet2DConfig::FromJson(unet->second).ToJson() != m_UNet->Config().ToJson())
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName +
                                    " has another U-Net architecture than this training run");
  }
  m_UNet->LoadWeights(contents, fileName, "model.");
  m_Ema->LoadWeights(contents, fileName, "ema.");
  m_Optimizer.Load(contents, ParameterNames(), "adam.", fileName);
  try
  {
    m_Generator.set_state(contents.Find("rng.state"));
  }
  catch (const std::exception & e)
  {
    throw torchcore::ModelFileError("The checkpoint " + fileName + " has an unusable RNG state: " + e.what());
  }
}

DiffusionTrainer
DiffusionTrainer::FromCheckpoint(const std::string & fileName, const std::string & device)
{
  const auto contents = torchcore::ReadSafeTensors(fileName);
  const auto unet = contents.metadata.find("unet_config");
  const auto scheduler = contents.metadata.find("scheduler_config");
  const auto options = contents.metadata.find("trainer_options");
  if (unet == contents.metadata.end() || scheduler == contents.metadata.end() || options == contents.metadata.end())
  {
    throw torchcore::ModelFileError("The file " + fileName +
                                    " is not a training checkpoint (no configs or trainer options)");
  }
  UNet2D model = torchcore::BuildModuleToOverwrite([&] { return UNet2D(UNet2DConfig::FromJson(unet->second)); });
  model->to(torchcore::ResolveDevice(device));
  DiffusionTrainer trainer(
    model, NoiseSchedule(SchedulerConfig::FromJson(scheduler->second)), TrainerOptionsFromJson(options->second));
  trainer.LoadCheckpoint(fileName);
  return trainer;
}

} // namespace diffusion
} // namespace itk
