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
#include "itkGeneConditionedAdaptFilter.h"

#include "itkAdaptationTrainer.h"
#include "itkDiffusionModelFile.h"
#include "itkDiffusionModelInternals.h"
#include "itkLocalModelFile.h"
#include "itkTorchDevice.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <limits>

namespace itk
{

GeneConditionedAdaptFilter::GeneConditionedAdaptFilter()
{
  this->SetNumberOfRequiredInputs(2);
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

DataObject::Pointer
GeneConditionedAdaptFilter::MakeOutput(DataObjectPointerArraySizeType)
{
  return DiffusionModel::New().GetPointer();
}

void
GeneConditionedAdaptFilter::SetCentralModel(const DiffusionModel * central)
{
  this->SetNthInput(0, const_cast<DiffusionModel *>(central));
}

const DiffusionModel *
GeneConditionedAdaptFilter::GetCentralModel() const
{
  return dynamic_cast<const DiffusionModel *>(this->ProcessObject::GetInput(0));
}

void
GeneConditionedAdaptFilter::SetDataset(const SpotPatchDataset * dataset)
{
  this->SetNthInput(1, const_cast<SpotPatchDataset *>(dataset));
}

const SpotPatchDataset *
GeneConditionedAdaptFilter::GetDataset() const
{
  return dynamic_cast<const SpotPatchDataset *>(this->ProcessObject::GetInput(1));
}

DiffusionModel *
GeneConditionedAdaptFilter::GetOutput()
{
  return dynamic_cast<DiffusionModel *>(this->ProcessObject::GetOutput(0));
}

void
GeneConditionedAdaptFilter::SetTrainingSettings(const AdaptationSettings & settings)
{
  if (m_TrainingSettings != settings)
  {
    m_TrainingSettings = settings;
    this->Modified();
  }
}

void
GeneConditionedAdaptFilter::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  const DiffusionModel *   central = this->GetCentralModel();
  const SpotPatchDataset * dataset = this->GetDataset();
  if (central == nullptr || !central->IsLoaded())
  {
    itkExceptionMacro(<< "No central model: set a loaded DiffusionModel with SetCentralModel");
  }
  if (central->IsConditional())
  {
    itkExceptionMacro(<< central->GetPath() << " is already a local model; adapt a central model");
  }
  // The local model records the central model's identity (SHA-256 of its file, or of a diffusers
  // folder's model files), so the central model must be one on disk.
  if (central->GetPath().empty() ||
      !(std::filesystem::is_regular_file(central->GetPath()) || std::filesystem::is_directory(central->GetPath())))
  {
    itkExceptionMacro(<< "The central model must come from a model file or a diffusers folder (its SHA-256 "
                         "identifies it); save it with DiffusionModel::Save first");
  }
  if (dataset == nullptr || dataset->GetNumberOfPatches() == 0 || dataset->GetSpots() == nullptr)
  {
    itkExceptionMacro(<< "No paired dataset (or an empty one): set a SpotPatchDataset with SetDataset");
  }
  if (!dataset->GetSpots()->HasExpression())
  {
    itkExceptionMacro(<< "The dataset has no preprocessed expression to condition on; extract it with "
                         "MethodStepRunner::Extract (c2l extract), which preprocesses the genes");
  }
  const auto size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
  if (size[0] != central->GetImageSize() || size[1] != central->GetImageSize())
  {
    itkExceptionMacro(<< "The dataset's patches are " << size[0] << " x " << size[1] << " pixels but the central model "
                      << "works on " << central->GetImageSize() << " x " << central->GetImageSize()
                      << "; extract patches of the model's size");
  }
  // Spacing 1 is ITK's default: patches whose pixel size nobody stated.
  const double patchPixelSize = dataset->GetPatches()->GetSpacing()[0];
  const double modelPixelSize = central->GetPixelSize();
  if (modelPixelSize > 0.0 && patchPixelSize > 0.0 && patchPixelSize != 1.0 &&
      std::abs(patchPixelSize / modelPixelSize - 1.0) > 0.01)
  {
    itkExceptionMacro(<< "The dataset's patches are at " << patchPixelSize << " um per pixel but the central model "
                      << central->GetPath() << " was trained at " << modelPixelSize
                      << ": extract patches at its pixel size (patch_um / patch_px)");
  }
  if (m_OutputFileName.empty())
  {
    itkExceptionMacro(<< "Set OutputFileName: where to write the local model");
  }
  if (std::filesystem::exists(m_OutputFileName) && std::filesystem::exists(central->GetPath()) &&
      std::filesystem::equivalent(m_OutputFileName, central->GetPath()))
  {
    itkExceptionMacro(<< "OutputFileName is the central model file; choose another name");
  }
  const auto & settings = m_TrainingSettings;
  if (const auto problem = settings.Problem(); !problem.empty())
  {
    itkExceptionMacro(<< "Invalid adaptation settings: " << problem);
  }
  // As the other training filters: Resume continues a checkpoint, and a missing one is an error, not
  // a silent fresh start.
  if (settings.Resume && !std::filesystem::is_regular_file(settings.CheckpointFileName))
  {
    itkExceptionMacro(<< "Resume: the checkpoint \"" << settings.CheckpointFileName
                      << "\" does not exist (a run writes one with CheckpointInterval > 0)");
  }
  DiffusionModel::VerifyDevice(settings.Device);
  // Patches normalised otherwise than the central model's tiles differ in colour from everything the
  // model draws: the synthetic pairs then carry the model's colours, not the lab's (a central model
  // and tiles of two extractor versions, about 20 levels apart, failed silently that way once). The
  // tissue's composition moves the mean too (two synthetic slides of one generator: 29 levels), so
  // the refusal is the user's choice; GenerateData warns.
  if (settings.MaximumColourDifference > 0.0)
  {
    std::string description;
    if (this->ColourDifference(description) > settings.MaximumColourDifference)
    {
      itkExceptionMacro(<< description << ", more than MaximumColourDifference (" << settings.MaximumColourDifference
                        << "). Extract the patches with the model's stain normalisation and target (c2l extract "
                           "--normalize macenko --target ...), or raise MaximumColourDifference (0: no refusal; c2l "
                           "adapt --max-colour-difference)");
    }
  }
}

double
GeneConditionedAdaptFilter::ColourDifference(std::string & description) const
{
  const DiffusionModel *    central = this->GetCentralModel();
  const SpotPatchDataset *  dataset = this->GetDataset();
  const auto                stated = central->GetPatchColourMean();
  std::vector<std::int64_t> rows;
  for (const auto spot : dataset->GetSpots()->GetSpotIndices(true))
  {
    rows.push_back(static_cast<std::int64_t>(spot));
  }
  if (stated.empty() || rows.empty()) // GenerateData refuses a dataset without training spots
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto   size = dataset->GetPatches()->GetBufferedRegion().GetSize();
  const auto * bytes = reinterpret_cast<const std::uint8_t *>(dataset->GetPatches()->GetBufferPointer());
  const auto   all = torch::from_blob(
    const_cast<std::uint8_t *>(bytes),
    { static_cast<std::int64_t>(size[2]), static_cast<std::int64_t>(size[1]), static_cast<std::int64_t>(size[0]), 3 },
    torch::kUInt8);
  const auto mean =
    diffusion::PatchColourMean(all.index_select(0, torch::tensor(rows, torch::kLong)).permute({ 0, 3, 1, 2 }));
  const char * channels[] = { "R", "G", "B" };
  unsigned int largest = 0;
  for (unsigned int c = 1; c < 3; ++c)
  {
    largest = std::abs(mean[c] - stated[c]) > std::abs(mean[largest] - stated[largest]) ? c : largest;
  }
  const double       difference = std::abs(mean[largest] - stated[largest]);
  std::ostringstream text;
  text << "The training patches' mean colour (R, G, B) is " << mean[0] << ", " << mean[1] << ", " << mean[2]
       << " and the central model " << central->GetPath() << " was trained on patches of mean " << stated[0] << ", "
       << stated[1] << ", " << stated[2] << ": " << channels[largest] << " differs by " << difference << " grey levels";
  description = text.str();
  return difference;
}

void
GeneConditionedAdaptFilter::GenerateData()
{
  const DiffusionModel *   central = this->GetCentralModel();
  const SpotPatchDataset * dataset = this->GetDataset();
  const auto &             spots = *dataset->GetSpots();
  const auto               training = spots.GetSpotIndices(true);
  if (training.empty())
  {
    itkExceptionMacro(<< "The dataset has no training spot to adapt on");
  }
  m_NumberOfTrainingSpots = training.size();
  const auto size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
  const auto side = static_cast<std::int64_t>(size[0]);
  const auto genes = static_cast<std::int64_t>(spots.GetPreprocessing().Genes.size());
  try
  {
    std::string description;
    m_ColourDifference = this->ColourDifference(description);
    if (m_ColourDifference > ColourDifferenceWarningLevel)
    {
      itkWarningMacro(<< description
                      << ". If the patches were normalised otherwise than the model's tiles, the synthetic "
                         "pairs will carry the model's colours: extract them with its stain normalisation and target. "
                         "A different tissue composition alone also moves the mean.");
    }
    torchcore::SetTorchThreads(static_cast<int>(m_NumberOfTorchThreads));
    const auto & settings = m_TrainingSettings;
    const auto   device = torchcore::ResolveDevice(settings.Device);
    // The training pairs: the stack is patch-major (patch, y, x, rgb); the U-Net wants [N, 3, H, W].
    const auto * bytes = reinterpret_cast<const std::uint8_t *>(dataset->GetPatches()->GetBufferPointer());
    auto         all = torch::from_blob(
      const_cast<std::uint8_t *>(bytes), { static_cast<std::int64_t>(size[2]), side, side, 3 }, torch::kUInt8);
    auto                           expression = torch::from_blob(const_cast<float *>(spots.GetExpression().data()),
                                       { static_cast<std::int64_t>(spots.GetNumberOfSpots()), genes },
                                       torch::kFloat32);
    std::vector<std::int64_t>      rows(training.begin(), training.end());
    const auto                     index = torch::tensor(rows, torch::kLong);
    adaptation::TensorPairedSource pairs(all.index_select(0, index).permute({ 0, 3, 1, 2 }).contiguous(),
                                         expression.index_select(0, index).clone());

    // A private copy of the central U-Net to freeze and train around (the input stays untouched).
    auto centralCopy = diffusion::LoadDiffusionModel(central->GetPath());
    centralCopy.unet->to(device);
    centralCopy.schedule->to(device);
    adaptation::GeneFiLMOptions adapterOptions;
    adapterOptions.numberOfGenes = genes;
    adapterOptions.embeddingSize = static_cast<std::int64_t>(settings.EmbeddingSize);
    adapterOptions.blocks = settings.Blocks;
    adaptation::GeneFiLMAdapter adapter(adapterOptions, adaptation::ResnetBlockChannels(centralCopy.unet));
    auto                        initialization = at::make_generator<at::CPUGeneratorImpl>(settings.Seed);
    adapter->ResetParameters(initialization); // same Seed, same adapter: no global generator involved
    adapter->to(device);

    adaptation::AdaptationTrainer trainer(centralCopy.unet, centralCopy.schedule, adapter, settings);
    if (settings.Resume)
    {
      trainer.LoadCheckpoint(settings.CheckpointFileName);
    }
    m_FinalLoss = std::numeric_limits<double>::quiet_NaN();
    m_StepsTrained = 0;
    m_CurrentStep = static_cast<unsigned int>(trainer.StepCount());
    while (trainer.StepCount() < settings.NumberOfSteps)
    {
      if (this->GetAbortGenerateData())
      {
        ProcessAborted aborted(__FILE__, __LINE__);
        aborted.SetDescription("Adaptation aborted");
        throw aborted;
      }
      m_FinalLoss = trainer.Step(pairs);
      ++m_StepsTrained;
      m_CurrentStep = static_cast<unsigned int>(trainer.StepCount());
      if (settings.CheckpointInterval > 0 && !settings.CheckpointFileName.empty() &&
          trainer.StepCount() % static_cast<std::int64_t>(settings.CheckpointInterval) == 0)
      {
        trainer.SaveCheckpoint(settings.CheckpointFileName);
      }
      this->UpdateProgress(static_cast<float>(trainer.StepCount()) / settings.NumberOfSteps);
    }
    adaptation::SaveLocalModel(m_OutputFileName,
                               trainer.EmaAdapter(),
                               spots.GetPreprocessing().ToJSON(),
                               central->GetPath(),
                               m_EmbedCentralModel);
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Adapting " << central->GetPath() << " failed: " << e.what());
  }
  this->GetOutput()->Load(m_OutputFileName, central->GetPath());
}

void
GeneConditionedAdaptFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "OutputFileName: " << m_OutputFileName << std::endl;
  os << indent << "EmbedCentralModel: " << m_EmbedCentralModel << std::endl;
  std::ostringstream prefix; // the settings print one line per field, at this filter's indent
  prefix << indent;
  m_TrainingSettings.Print(os, prefix.str());
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
  os << indent << "FinalLoss: " << m_FinalLoss << std::endl;
  os << indent << "StepsTrained: " << m_StepsTrained << std::endl;
  os << indent << "CurrentStep: " << m_CurrentStep << std::endl;
  os << indent << "NumberOfTrainingSpots: " << m_NumberOfTrainingSpots << std::endl;
  os << indent << "ColourDifference: " << m_ColourDifference << std::endl;
}

} // end namespace itk
