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
#include "itkDiffusionPretrainFilter.h"

#include "itkDataParallelGroup.h"
#include "itkDiffusionModelFile.h"
#include "itkDiffusionModelInternals.h"
#include "itkSHA256.h"
#include "itkDiffusionTrainer.h"
#include "itkGlobalGeneratorSeed.h"

#include "itkImageRegionConstIterator.h"
#include "itkTorchDevice.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace itk
{
namespace
{
/** The training curve: a tab-separated line per step, flushed as it is written, so that a killed run
 * leaves every finished step in it. Training seconds count this run's steps on top of those of the
 * kept lines, so that a resumed run's clock goes on from its checkpoint. */
class LossLog
{
public:
  /** Opens \p fileName (nothing when empty) after the lines of steps up to \p firstStep: a fresh run
   * (firstStep 0) starts a new log; a resumed run keeps the lines up to its checkpoint's step. */
  LossLog(const std::string & fileName, std::int64_t firstStep)
  {
    if (fileName.empty())
    {
      return;
    }
    std::ostringstream kept;
    kept << "step\tloss\tlearning_rate\tseconds\n";
    if (firstStep > 0)
    {
      std::ifstream in(fileName);
      std::string   line;
      std::getline(in, line); // the header
      while (std::getline(in, line))
      {
        std::istringstream fields(line);
        std::int64_t       step = 0;
        double             loss = 0.0, rate = 0.0, seconds = 0.0;
        if (fields >> step >> loss >> rate >> seconds && step <= firstStep)
        {
          kept << line << '\n';
          m_Offset = seconds;
        }
      }
    }
    m_File.open(fileName, std::ios::trunc);
    m_File << kept.str() << std::flush;
    if (!m_File)
    {
      throw std::runtime_error("Cannot write the loss log " + fileName);
    }
    m_Start = std::chrono::steady_clock::now();
  }

  void
  Append(std::int64_t step, double loss, double learningRate)
  {
    if (!m_File.is_open())
    {
      return;
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - m_Start;
    m_File << step << '\t' << loss << '\t' << learningRate << '\t' << m_Offset + elapsed.count() << std::endl;
  }

private:
  std::ofstream                         m_File;
  double                                m_Offset{ 0.0 };
  std::chrono::steady_clock::time_point m_Start;
};

constexpr const char * InitialModelInputName = "InitialModel";

/** A U-Net of the same config as \p source holding a copy of its weights (the source stays untouched). */
diffusion::UNet2D
CopyOfUNet(const diffusion::UNet2D & source)
{
  // Built inside a generator scope: its discarded initial weights leave the global generator as it was.
  diffusion::UNet2D  copy = torchcore::BuildModuleToOverwrite([&] { return diffusion::UNet2D(source->Config()); });
  torch::NoGradGuard noGrad;
  const auto         from = source->named_parameters(true);
  for (auto & parameter : copy->named_parameters(true))
  {
    parameter.value().copy_(from[parameter.key()]);
  }
  const auto buffers = source->named_buffers(true);
  for (auto & buffer : copy->named_buffers(true))
  {
    buffer.value().copy_(buffers[buffer.key()]);
  }
  return copy;
}

/** diffusers' UNet2DModel config of a fresh U-Net for \p settings: widths BaseChannels * (1, 2, 4, 4, ...),
 * attention at the two coarsest scales. */
diffusion::UNet2DConfig
UNetConfigFor(const PretrainingSettings & settings, unsigned int imageSize)
{
  diffusion::UNet2DConfig config;
  config.sampleSize = imageSize;
  config.blockOutChannels.clear();
  config.downBlockTypes.clear();
  config.upBlockTypes.clear();
  for (unsigned int s = 0; s < settings.NumberOfScales; ++s)
  {
    config.blockOutChannels.push_back(settings.BaseChannels * (std::int64_t{ 1 } << std::min(s, 2u)));
    const bool attention = s + 2 >= settings.NumberOfScales && settings.NumberOfScales > 1;
    config.downBlockTypes.push_back(attention ? "AttnDownBlock2D" : "DownBlock2D");
  }
  config.upBlockTypes.assign(config.downBlockTypes.rbegin(), config.downBlockTypes.rend());
  for (auto & type : config.upBlockTypes)
  {
    type = type == "AttnDownBlock2D" ? "AttnUpBlock2D" : "UpBlock2D";
  }
  config.layersPerBlock = settings.LayersPerBlock;
  config.normNumGroups = std::min<std::int64_t>(32, settings.BaseChannels / 2);
  return config;
}

/** What every rank of a run must share: the settings that shape the training (not the checkpoint's
 * path, Resume or the device, which are a rank's own), the training patches' shape and SHA-256, and the initial
 * weights' SHA-256. */
std::string
WhatEveryRankShares(const PretrainingSettings & settings, const torch::Tensor & patches, const diffusion::UNet2D & unet)
{
  auto shared = nlohmann::json::parse(settings.ToJSON());
  for (const char * own : { "checkpoint_file", "resume", "device" })
  {
    shared.erase(own);
  }
  const auto bytes = patches.contiguous();
  shared["patches_shape"] = bytes.sizes().vec();
  shared["patches_sha256"] =
    torchcore::SHA256Hex(bytes.data_ptr(), static_cast<std::size_t>(bytes.numel()) * bytes.element_size());
  // The initial weights (a fresh U-Net from the seed, or an initial model that each rank loaded).
  std::vector<torch::Tensor> flat;
  for (const auto & parameter : unet->parameters())
  {
    flat.push_back(parameter.detach().to(torch::kCPU, torch::kFloat32).reshape({ -1 }));
  }
  const auto weights = torch::cat(flat).contiguous();
  shared["initial_weights_sha256"] =
    torchcore::SHA256Hex(weights.data_ptr(), static_cast<std::size_t>(weights.numel()) * weights.element_size());
  return shared.dump();
}
} // namespace

DiffusionPretrainFilter::DiffusionPretrainFilter()
{
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
  // A named input, apart from the indexed patch stacks.
  this->AddOptionalInputName(InitialModelInputName);
}

DiffusionPretrainFilter::~DiffusionPretrainFilter() = default;

DataObject::Pointer
DiffusionPretrainFilter::MakeOutput(DataObjectPointerArraySizeType)
{
  return DiffusionModel::New().GetPointer();
}

void
DiffusionPretrainFilter::AddPatches(const PatchStackType * patches)
{
  this->PushBackInput(patches);
}

void
DiffusionPretrainFilter::SetInitialModel(const DiffusionModel * model)
{
  this->ProcessObject::SetInput(InitialModelInputName, const_cast<DiffusionModel *>(model));
}

const DiffusionModel *
DiffusionPretrainFilter::GetInitialModel() const
{
  return dynamic_cast<const DiffusionModel *>(this->ProcessObject::GetInput(InitialModelInputName));
}

void
DiffusionPretrainFilter::SetDataParallel(const DataParallelSettings & settings)
{
  if (m_DataParallel != settings)
  {
    m_DataParallel = settings;
    this->Modified();
  }
}

void
DiffusionPretrainFilter::SetTrainingSettings(const PretrainingSettings & settings)
{
  if (m_TrainingSettings != settings)
  {
    m_TrainingSettings = settings;
    this->Modified();
  }
}

unsigned int
DiffusionPretrainFilter::ResolvedImageSize() const
{
  if (m_TrainingSettings.ImageSize > 0 || this->GetNumberOfIndexedInputs() == 0)
  {
    return m_TrainingSettings.ImageSize;
  }
  const auto * first = dynamic_cast<const PatchStackType *>(this->GetInput(0));
  return first == nullptr ? 0 : static_cast<unsigned int>(first->GetLargestPossibleRegion().GetSize()[0]);
}

DiffusionModel *
DiffusionPretrainFilter::GetOutput()
{
  return static_cast<DiffusionModel *>(this->ProcessObject::GetOutput(0));
}

void
DiffusionPretrainFilter::VerifyPreconditions() ITKv5_CONST
{
  // The base class's check would demand every indexed input; the patch stacks are checked here.
  if (this->GetNumberOfIndexedInputs() == 0)
  {
    itkExceptionMacro(<< "No training patches: add at least one patch stack");
  }
  if (m_OutputFileName.empty())
  {
    itkExceptionMacro(<< "No OutputFileName: set where the trained model is written");
  }
  const auto & settings = m_TrainingSettings;
  if (const auto problem = settings.Problem(); !problem.empty())
  {
    itkExceptionMacro(<< "Invalid pretraining settings: " << problem);
  }
  const unsigned int imageSize = this->ResolvedImageSize();
  const unsigned int factor = 1u << (settings.NumberOfScales - 1);
  const auto *       initial = this->GetInitialModel();
  if (initial != nullptr)
  {
    this->VerifyInitialModel(*initial, imageSize);
  }
  else if (imageSize == 0 || imageSize % factor != 0)
  {
    itkExceptionMacro(<< "The patches are " << imageSize << " pixels wide; the U-Net's " << settings.NumberOfScales
                      << " scales need a multiple of " << factor << " (2^(scales - 1))");
  }
  if (const auto problem = m_DataParallel.Problem(); !problem.empty())
  {
    itkExceptionMacro(<< "Invalid data-parallel settings: " << problem);
  }
  if (settings.BatchSize % m_DataParallel.WorldSize != 0)
  {
    itkExceptionMacro(<< "The batch of " << settings.BatchSize << " patches does not split evenly over "
                      << m_DataParallel.WorldSize
                      << " ranks: BatchSize is the global batch; choose a multiple of the number of ranks");
  }
  // Only rank 0 reads the checkpoint (the other ranks take its state), so only its file must exist.
  if (settings.Resume && m_DataParallel.Rank == 0 && !std::filesystem::exists(settings.CheckpointFileName))
  {
    itkExceptionMacro(<< "Resume is on but the checkpoint \"" << settings.CheckpointFileName << "\" does not exist");
  }
  DiffusionModel::VerifyDevice(settings.Device);
  for (unsigned int i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    const auto * patches = dynamic_cast<const PatchStackType *>(this->GetInput(i));
    if (patches == nullptr)
    {
      itkExceptionMacro(<< "Input " << i << " is not an RGB patch stack");
    }
    const auto size = patches->GetLargestPossibleRegion().GetSize();
    if (size[0] != imageSize || size[1] != imageSize)
    {
      itkExceptionMacro(<< "Patch stack " << i << " has " << size[0] << "x" << size[1] << " patches but the model's "
                        << "image size is " << imageSize << ": extract patches of that size or set ImageSize");
    }
  }
}

void
DiffusionPretrainFilter::VerifyInitialModel(const DiffusionModel & initial, unsigned int imageSize) const
{
  if (!initial.IsLoaded())
  {
    itkExceptionMacro(<< "The initial model holds no model: Load it (or train it) before pretraining from it");
  }
  const std::string name = initial.GetPath().empty() ? std::string("The initial model") : initial.GetPath();
  if (initial.IsConditional())
  {
    itkExceptionMacro(<< name << " is a locally adapted (gene-conditioned) model; pretraining continues a central "
                      << "model: give the central model it was adapted from");
  }
  if (initial.GetNumberOfChannels() != 3)
  {
    itkExceptionMacro(<< name << " draws " << initial.GetNumberOfChannels() << "-channel images; the patches are RGB");
  }
  if (imageSize != initial.GetImageSize())
  {
    itkExceptionMacro(<< "The patches are " << imageSize << " pixels wide but " << name << " draws "
                      << initial.GetImageSize() << "-pixel patches: extract patches of its size");
  }
  const std::string & modelPrediction = initial.m_Internals->model.schedule->Config().predictionType;
  if (m_TrainingSettings.PredictionType != modelPrediction)
  {
    itkExceptionMacro(<< "PredictionType is " << m_TrainingSettings.PredictionType << " but " << name << " predicts "
                      << modelPrediction << ": set PredictionType to the model's (c2l: --prediction " << modelPrediction
                      << " or leave it out; a pipeline config: leave pretraining.prediction out)");
  }
  const auto * patches = dynamic_cast<const PatchStackType *>(this->GetInput(0)); // other inputs are refused below
  const double patchPixelSize = patches == nullptr ? 0.0 : patches->GetSpacing()[0];
  const double modelPixelSize = initial.GetPixelSize();
  if (modelPixelSize > 0.0 && patchPixelSize > 0.0 && patchPixelSize != 1.0 &&
      std::abs(patchPixelSize / modelPixelSize - 1.0) > 0.01)
  {
    itkExceptionMacro(<< "The patches are at " << patchPixelSize << " um per pixel but " << name << " was trained at "
                      << modelPixelSize << ": extract patches at its pixel size (patch_um / patch_px)");
  }
}

void
DiffusionPretrainFilter::GenerateData()
{
  // All patches in one uint8 tensor [N, 3, H, W] (ITK's x, y, patch reversed to patch, row, column).
  std::vector<torch::Tensor> stacks;
  for (unsigned int i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    const auto * patches = static_cast<const PatchStackType *>(this->GetInput(i));
    const auto   size = patches->GetBufferedRegion().GetSize();
    const auto   buffer = torch::from_blob(
      const_cast<RGBPixel<unsigned char> *>(patches->GetBufferPointer()),
      { static_cast<std::int64_t>(size[2]), static_cast<std::int64_t>(size[1]), static_cast<std::int64_t>(size[0]), 3 },
      torch::kUInt8);
    stacks.push_back(buffer.permute({ 0, 3, 1, 2 }).contiguous());
  }
  const auto                   allPatches = torch::cat(stacks);
  diffusion::TensorPatchSource source(allPatches);

  try
  {
    torchcore::SetTorchThreads(static_cast<int>(m_NumberOfTorchThreads));
    const auto &       settings = m_TrainingSettings;
    const unsigned int imageSize = this->ResolvedImageSize();
    // A data-parallel rank on "cuda" takes the GPU of its local rank (torchrun's convention).
    const bool perRankGpu = m_DataParallel.IsDataParallel() && settings.Device == "cuda";
    const auto device =
      torchcore::ResolveDevice(perRankGpu ? "cuda:" + std::to_string(m_DataParallel.LocalRank) : settings.Device);
    const auto options = diffusion::TrainerOptionsFor(settings);

    const auto *               initial = this->GetInitialModel();
    diffusion::UNet2D          unet{ nullptr };
    diffusion::SchedulerConfig scheduler;
    if (initial != nullptr)
    {
      // A copy of the initial model's U-Net, with its schedule (the input stays untouched).
      unet = CopyOfUNet(initial->m_Internals->model.unet);
      scheduler = initial->m_Internals->model.schedule->Config();
    }
    else
    {
      // The initial weights come from the global generator (LibTorch's initialisers use it): seed it
      // for this construction only and give it back its state, so the filter leaves no side effect.
      const torchcore::GlobalGeneratorSeed seeded(settings.Seed);
      unet = diffusion::UNet2D(UNetConfigFor(settings, imageSize));
      scheduler.predictionType = settings.PredictionType;
    }
    unet->to(device);
    diffusion::DiffusionTrainer                   trainer(unet, diffusion::NoiseSchedule(scheduler), options);
    std::shared_ptr<torchcore::DataParallelGroup> group;
    if (m_DataParallel.IsDataParallel())
    {
      group = std::make_shared<torchcore::DataParallelGroup>(m_DataParallel, device);
      group->RequireSameOnEveryRank("pretraining settings or patches", WhatEveryRankShares(settings, allPatches, unet));
    }
    // Rank 0 (or the one process) reads and writes every file; the other ranks take its state.
    const bool writer = !group || group->Rank() == 0;
    if (settings.Resume && writer)
    {
      trainer.LoadCheckpoint(settings.CheckpointFileName);
    }
    if (group)
    {
      trainer.SetDataParallelGroup(group);
    }
    // What the model file records besides its weights, at the trainer's current step: the physical
    // size the model draws at, from the patches' spacing (micrometres per pixel), so that adaptation
    // and sampling can cut patches of the same size, and the patches' mean colour, which tells how
    // they were normalised (adaptation checks it).
    const auto colourMean = diffusion::PatchColourMeanText(diffusion::PatchColourMean(allPatches));
    const auto metadataNow = [&]() {
      std::map<std::string, std::string> metadata{ { "trainer_options", diffusion::TrainerOptionsToJson(options) },
                                                   { "steps", std::to_string(trainer.StepCount()) },
                                                   { diffusion::PatchColourMeanKey, colourMean } };
      const double pixelSize = static_cast<const PatchStackType *>(this->GetInput(0))->GetSpacing()[0];
      if (pixelSize > 0.0 && pixelSize != 1.0)
      {
        metadata["pixel_size_um"] = std::to_string(pixelSize);
        metadata["patch_um"] = std::to_string(pixelSize * imageSize);
      }
      if (initial != nullptr)
      {
        metadata["initial_model"] =
          initial->GetPath().empty() ? std::string("(in memory)") : diffusion::ModelName(initial->GetPath());
        if (!initial->GetPath().empty())
        {
          metadata["initial_model_sha256"] = diffusion::SHA256OfModel(initial->GetPath());
        }
      }
      return metadata;
    };
    LossLog log(writer ? m_LossLogFileName : std::string(), trainer.StepCount());
    // A resumed run that had already finished trains no step: there is no loss to report.
    m_FinalLoss = std::numeric_limits<double>::quiet_NaN();
    m_StepsTrained = 0;
    m_CurrentStep = static_cast<unsigned int>(trainer.StepCount());
    while (trainer.StepCount() < static_cast<std::int64_t>(settings.NumberOfSteps))
    {
      if (this->GetAbortGenerateData())
      {
        ProcessAborted aborted(__FILE__, __LINE__);
        aborted.SetDescription("DiffusionPretrainFilter was aborted");
        throw aborted;
      }
      m_FinalLoss = trainer.Step(source);
      ++m_StepsTrained;
      m_CurrentStep = static_cast<unsigned int>(trainer.StepCount());
      log.Append(trainer.StepCount(), m_FinalLoss, trainer.LearningRate(trainer.StepCount() - 1));
      // Every rank takes the same branch (CheckpointInterval was compared): the barrier is collective.
      if (settings.CheckpointInterval > 0 && trainer.StepCount() % settings.CheckpointInterval == 0)
      {
        if (writer && !settings.CheckpointFileName.empty())
        {
          trainer.SaveCheckpoint(settings.CheckpointFileName);
        }
        if (group)
        {
          group->Barrier(); // no rank goes on before the checkpoint of this step is complete
        }
      }
      if (writer && m_SnapshotInterval > 0 && trainer.StepCount() % m_SnapshotInterval == 0)
      {
        diffusion::SaveDiffusionModel(SnapshotFileName(m_OutputFileName, m_CurrentStep),
                                      trainer.EmaModel(),
                                      diffusion::NoiseSchedule(scheduler),
                                      metadataNow(),
                                      m_HalfPrecisionOutput);
      }
      this->UpdateProgress(static_cast<float>(trainer.StepCount()) / static_cast<float>(settings.NumberOfSteps));
    }
    const auto metadata = metadataNow();
    if (writer)
    {
      diffusion::SaveDiffusionModel(
        m_OutputFileName, trainer.EmaModel(), diffusion::NoiseSchedule(scheduler), metadata, m_HalfPrecisionOutput);
    }
    if (group)
    {
      group->Barrier();
    }
    if (!writer)
    {
      // The same model as rank 0's file, without reading it (it may be on another machine).
      auto internals = std::make_unique<DiffusionModel::Internals>();
      internals->model.unet = trainer.EmaModel();
      internals->model.unet->to(torch::kCPU);
      if (m_HalfPrecisionOutput)
      {
        torch::NoGradGuard noGrad;
        for (auto & parameter : internals->model.unet->parameters())
        {
          parameter.copy_(parameter.to(torch::kHalf));
        }
      }
      internals->model.schedule = diffusion::NoiseSchedule(scheduler);
      internals->model.metadata = metadata;
      this->GetOutput()->m_Internals = std::move(internals);
      this->GetOutput()->Modified();
    }
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Pretraining failed: " << e.what());
  }
  if (!m_DataParallel.IsDataParallel() || m_DataParallel.Rank == 0)
  {
    this->GetOutput()->Load(m_OutputFileName);
  }
}

std::string
DiffusionPretrainFilter::SnapshotFileName(const std::string & outputFileName, unsigned int step)
{
  const std::filesystem::path output(outputFileName);
  return (output.parent_path() /
          (output.stem().string() + "-step-" + std::to_string(step) + output.extension().string()))
    .string();
}

void
DiffusionPretrainFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "OutputFileName: " << m_OutputFileName << std::endl;
  os << indent << "LossLogFileName: " << m_LossLogFileName << std::endl;
  os << indent << "HalfPrecisionOutput: " << m_HalfPrecisionOutput << std::endl;
  os << indent << "SnapshotInterval: " << m_SnapshotInterval << std::endl;
  const auto * initial = this->GetInitialModel();
  os << indent << "InitialModel: " << (initial == nullptr ? std::string("(none: a fresh U-Net)") : initial->GetPath())
     << std::endl;
  std::ostringstream prefix; // the settings print one line per field, at this filter's indent
  prefix << indent;
  m_TrainingSettings.Print(os, prefix.str());
  os << indent << "DataParallel:" << std::endl;
  m_DataParallel.Print(os, prefix.str() + "  ");
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
  os << indent << "FinalLoss: " << m_FinalLoss << std::endl;
  os << indent << "StepsTrained: " << m_StepsTrained << std::endl;
  os << indent << "CurrentStep: " << m_CurrentStep << std::endl;
}

} // namespace itk
