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

#include "itkDiffusionModelFile.h"
#include "itkDiffusionTrainer.h"
#include "itkGlobalGeneratorSeed.h"

#include "itkImageRegionConstIterator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

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
} // namespace

DiffusionPretrainFilter::DiffusionPretrainFilter()
{
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
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
  if (m_NumberOfSteps == 0 || m_BatchSize == 0 || m_GradientAccumulation == 0 || m_ImageSize == 0 ||
      m_BaseChannels == 0 || m_NumberOfScales == 0 || m_LayersPerBlock == 0)
  {
    itkExceptionMacro(<< "Steps, batch size, gradient accumulation, image size, base channels, scales and layers "
                         "per block must be positive");
  }
  const unsigned int factor = 1u << (m_NumberOfScales - 1);
  if (m_ImageSize % factor != 0 || m_BaseChannels % 8 != 0)
  {
    itkExceptionMacro(<< "The image size must be a multiple of " << factor << " (2^(scales - 1)) and the base "
                      << "channels a multiple of 8");
  }
  if (m_Resume && (m_CheckpointFileName.empty() || !std::filesystem::exists(m_CheckpointFileName)))
  {
    itkExceptionMacro(<< "Resume is on but the checkpoint \"" << m_CheckpointFileName << "\" does not exist");
  }
  if (m_PredictionType != "epsilon" && m_PredictionType != "v_prediction")
  {
    itkExceptionMacro(<< "Unknown prediction type \"" << m_PredictionType << "\": use epsilon or v_prediction");
  }
  DiffusionModel::VerifyDevice(m_Device);
  for (unsigned int i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    const auto * patches = dynamic_cast<const PatchStackType *>(this->GetInput(i));
    if (patches == nullptr)
    {
      itkExceptionMacro(<< "Input " << i << " is not an RGB patch stack");
    }
    const auto size = patches->GetLargestPossibleRegion().GetSize();
    if (size[0] != m_ImageSize || size[1] != m_ImageSize)
    {
      itkExceptionMacro(<< "Patch stack " << i << " has " << size[0] << "x" << size[1] << " patches but the model's "
                        << "image size is " << m_ImageSize << ": extract patches of that size or set ImageSize");
    }
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
  diffusion::TensorPatchSource source(torch::cat(stacks));

  try
  {
    diffusion::SetTorchThreads(static_cast<int>(m_NumberOfTorchThreads));
    const auto              device = diffusion::ResolveDevice(m_Device);
    diffusion::UNet2DConfig config;
    config.sampleSize = m_ImageSize;
    config.blockOutChannels.clear();
    config.downBlockTypes.clear();
    config.upBlockTypes.clear();
    for (unsigned int s = 0; s < m_NumberOfScales; ++s)
    {
      config.blockOutChannels.push_back(m_BaseChannels * (std::int64_t{ 1 } << std::min(s, 2u)));
      const bool attention = s + 2 >= m_NumberOfScales && m_NumberOfScales > 1;
      config.downBlockTypes.push_back(attention ? "AttnDownBlock2D" : "DownBlock2D");
    }
    config.upBlockTypes.assign(config.downBlockTypes.rbegin(), config.downBlockTypes.rend());
    for (auto & type : config.upBlockTypes)
    {
      type = type == "AttnDownBlock2D" ? "AttnUpBlock2D" : "UpBlock2D";
    }
    config.layersPerBlock = m_LayersPerBlock;
    config.normNumGroups = std::min<std::int64_t>(32, m_BaseChannels / 2);
    diffusion::SchedulerConfig scheduler;
    scheduler.predictionType = m_PredictionType;

    diffusion::TrainerOptions options;
    options.batchSize = m_BatchSize;
    options.gradientAccumulation = m_GradientAccumulation;
    options.learningRate = m_LearningRate;
    options.totalSteps = m_NumberOfSteps;
    options.warmupSteps = static_cast<std::int64_t>(std::round(m_WarmupFraction * m_NumberOfSteps));
    options.learningRateSchedule = "cosine";
    options.emaDecay = m_EmaDecay;
    options.snrGamma = m_SnrGamma;
    options.gradientClip = m_GradientClip;
    options.seed = m_Seed;

    // The initial weights come from the global generator (LibTorch's initialisers use it): seed it
    // for this construction only and give it back its state, so the filter leaves no side effect.
    diffusion::UNet2D unet = [&] {
      const diffusion::GlobalGeneratorSeed seeded(m_Seed);
      return diffusion::UNet2D(config);
    }();
    unet->to(device);
    diffusion::DiffusionTrainer trainer(unet, diffusion::NoiseSchedule(scheduler), options);
    if (m_Resume)
    {
      trainer.LoadCheckpoint(m_CheckpointFileName);
    }
    LossLog log(m_LossLogFileName, trainer.StepCount());
    // A resumed run that had already finished trains no step: there is no loss to report.
    m_FinalLoss = std::numeric_limits<double>::quiet_NaN();
    m_StepsTrained = 0;
    m_CurrentStep = static_cast<unsigned int>(trainer.StepCount());
    while (trainer.StepCount() < static_cast<std::int64_t>(m_NumberOfSteps))
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
      if (m_CheckpointInterval > 0 && !m_CheckpointFileName.empty() && trainer.StepCount() % m_CheckpointInterval == 0)
      {
        trainer.SaveCheckpoint(m_CheckpointFileName);
      }
      this->UpdateProgress(static_cast<float>(trainer.StepCount()) / static_cast<float>(m_NumberOfSteps));
    }
    // The physical size the model draws at, from the patches' spacing (micrometres per pixel), so
    // that adaptation and sampling can cut patches of the same size.
    std::map<std::string, std::string> metadata{ { "trainer_options", diffusion::TrainerOptionsToJson(options) },
                                                 { "steps", std::to_string(trainer.StepCount()) } };
    const double pixelSize = static_cast<const PatchStackType *>(this->GetInput(0))->GetSpacing()[0];
    if (pixelSize > 0.0 && pixelSize != 1.0)
    {
      metadata["pixel_size_um"] = std::to_string(pixelSize);
      metadata["patch_um"] = std::to_string(pixelSize * m_ImageSize);
    }
    diffusion::SaveDiffusionModel(
      m_OutputFileName, trainer.EmaModel(), diffusion::NoiseSchedule(scheduler), metadata, m_HalfPrecisionOutput);
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Pretraining failed: " << e.what());
  }
  this->GetOutput()->Load(m_OutputFileName);
}

void
DiffusionPretrainFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "OutputFileName: " << m_OutputFileName << std::endl;
  os << indent << "CheckpointFileName: " << m_CheckpointFileName << std::endl;
  os << indent << "LossLogFileName: " << m_LossLogFileName << std::endl;
  os << indent << "HalfPrecisionOutput: " << m_HalfPrecisionOutput << std::endl;
  os << indent << "CheckpointInterval: " << m_CheckpointInterval << std::endl;
  os << indent << "Resume: " << m_Resume << std::endl;
  os << indent << "ImageSize: " << m_ImageSize << std::endl;
  os << indent << "BaseChannels: " << m_BaseChannels << std::endl;
  os << indent << "NumberOfScales: " << m_NumberOfScales << std::endl;
  os << indent << "LayersPerBlock: " << m_LayersPerBlock << std::endl;
  os << indent << "PredictionType: " << m_PredictionType << std::endl;
  os << indent << "NumberOfSteps: " << m_NumberOfSteps << std::endl;
  os << indent << "BatchSize: " << m_BatchSize << std::endl;
  os << indent << "GradientAccumulation: " << m_GradientAccumulation << std::endl;
  os << indent << "LearningRate: " << m_LearningRate << std::endl;
  os << indent << "WarmupFraction: " << m_WarmupFraction << std::endl;
  os << indent << "EmaDecay: " << m_EmaDecay << std::endl;
  os << indent << "SnrGamma: " << m_SnrGamma << std::endl;
  os << indent << "GradientClip: " << m_GradientClip << std::endl;
  os << indent << "Seed: " << m_Seed << std::endl;
  os << indent << "Device: " << m_Device << std::endl;
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
  os << indent << "FinalLoss: " << m_FinalLoss << std::endl;
  os << indent << "StepsTrained: " << m_StepsTrained << std::endl;
  os << indent << "CurrentStep: " << m_CurrentStep << std::endl;
}

} // namespace itk
