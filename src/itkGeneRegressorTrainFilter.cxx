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
#include "itkGeneRegressorTrainFilter.h"

#include "itkTorchDevice.h"
#include "itkGeneRegressorModelInternals.h"
#include "itkGlobalGeneratorSeed.h"
#include "itkRegressorTrainer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <limits>

namespace itk
{
namespace
{
/** A dataset's patches (patch, y, x, rgb; uint8) and preprocessed expression (spots x genes) at \p rows. */
std::pair<torch::Tensor, torch::Tensor>
PairsOf(const SpotPatchDataset & dataset, const std::vector<std::size_t> & rows)
{
  const auto   size = dataset.GetPatches()->GetLargestPossibleRegion().GetSize();
  const auto * bytes = reinterpret_cast<const std::uint8_t *>(dataset.GetPatches()->GetBufferPointer());
  const auto & spots = *dataset.GetSpots();
  const auto   genes = static_cast<std::int64_t>(spots.GetPreprocessing().Genes.size());
  auto         patches = torch::from_blob(
    const_cast<std::uint8_t *>(bytes),
    { static_cast<std::int64_t>(size[2]), static_cast<std::int64_t>(size[1]), static_cast<std::int64_t>(size[0]), 3 },
    torch::kUInt8);
  auto       expression = torch::from_blob(const_cast<float *>(spots.GetExpression().data()),
                                     { static_cast<std::int64_t>(spots.GetNumberOfSpots()), genes },
                                     torch::kFloat32);
  const auto index = torch::tensor(std::vector<std::int64_t>(rows.begin(), rows.end()), torch::kLong);
  return { patches.index_select(0, index), expression.index_select(0, index) };
}

} // namespace

GeneRegressorTrainFilter::GeneRegressorTrainFilter()
{
  this->SetNumberOfRequiredInputs(1);
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

DataObject::Pointer
GeneRegressorTrainFilter::MakeOutput(DataObjectPointerArraySizeType)
{
  return GeneRegressorModel::New().GetPointer();
}

void
GeneRegressorTrainFilter::SetRealDataset(const SpotPatchDataset * dataset)
{
  this->SetNthInput(0, const_cast<SpotPatchDataset *>(dataset));
}

const SpotPatchDataset *
GeneRegressorTrainFilter::GetRealDataset() const
{
  return dynamic_cast<const SpotPatchDataset *>(this->ProcessObject::GetInput(0));
}

void
GeneRegressorTrainFilter::SetSyntheticDataset(const SpotPatchDataset * dataset)
{
  this->SetNthInput(1, const_cast<SpotPatchDataset *>(dataset));
}

const SpotPatchDataset *
GeneRegressorTrainFilter::GetSyntheticDataset() const
{
  return this->GetNumberOfIndexedInputs() > 1 ? dynamic_cast<const SpotPatchDataset *>(this->ProcessObject::GetInput(1))
                                              : nullptr;
}

void
GeneRegressorTrainFilter::SetTrainingSettings(const RegressorTrainingSettings & settings)
{
  if (m_TrainingSettings != settings)
  {
    m_TrainingSettings = settings;
    this->Modified();
  }
}

GeneRegressorModel *
GeneRegressorTrainFilter::GetOutput()
{
  return dynamic_cast<GeneRegressorModel *>(this->ProcessObject::GetOutput(0));
}

void
GeneRegressorTrainFilter::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  const SpotPatchDataset * real = this->GetRealDataset();
  if (real == nullptr || real->GetNumberOfPatches() == 0 || real->GetSpots() == nullptr)
  {
    itkExceptionMacro(<< "No real dataset (or an empty one): set a SpotPatchDataset with SetRealDataset");
  }
  if (!real->GetSpots()->HasExpression())
  {
    itkExceptionMacro(<< "The real dataset has no preprocessed expression to learn; extract it with c2l extract "
                         "(which preprocesses the genes)");
  }
  const auto size = real->GetPatches()->GetLargestPossibleRegion().GetSize();
  if (size[0] != size[1] || size[0] < 16)
  {
    itkExceptionMacro(<< "The real patches are " << size[0] << " x " << size[1]
                      << " pixels; the regressor needs square patches of at least 16 pixels");
  }
  if (const SpotPatchDataset * synthetic = this->GetSyntheticDataset())
  {
    if (synthetic->GetNumberOfPatches() == 0 || synthetic->GetSpots() == nullptr ||
        !synthetic->GetSpots()->HasExpression())
    {
      itkExceptionMacro(<< "The synthetic dataset is empty or has no expression; make it with "
                           "MethodStepRunner::Sample from a local model (c2l sample --expression)");
    }
    const auto syntheticSize = synthetic->GetPatches()->GetLargestPossibleRegion().GetSize();
    if (syntheticSize[0] != size[0] || syntheticSize[1] != size[1])
    {
      itkExceptionMacro(<< "The synthetic patches are " << syntheticSize[0] << " x " << syntheticSize[1]
                        << " pixels but the real ones " << size[0] << " x " << size[1]
                        << "; sample with a local model adapted on patches of this size");
    }
    if (!(synthetic->GetSpots()->GetPreprocessing() == real->GetSpots()->GetPreprocessing()))
    {
      itkExceptionMacro(<< "The synthetic pairs' genes or gene preprocessing differ from the real dataset's; "
                           "sample them from a local model adapted on this dataset");
    }
  }
  const auto & settings = m_TrainingSettings;
  if (const auto problem = settings.Problem(); !problem.empty())
  {
    itkExceptionMacro(<< "Invalid training settings: " << problem);
  }
  if (!settings.BackboneFileName.empty() && !std::filesystem::is_regular_file(settings.BackboneFileName))
  {
    itkExceptionMacro(<< "The backbone weights " << settings.BackboneFileName << " do not exist");
  }
  if (settings.Resume && !std::filesystem::is_regular_file(settings.CheckpointFileName))
  {
    itkExceptionMacro(<< "Resume: the checkpoint \"" << settings.CheckpointFileName
                      << "\" does not exist (a run writes one with CheckpointInterval > 0)");
  }
  try
  {
    torchcore::ResolveDevice(settings.Device);
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< e.what());
  }
  if (settings.SyntheticFraction > 0.0 && this->GetSyntheticDataset() == nullptr)
  {
    itkExceptionMacro(<< "SyntheticFraction is " << settings.SyntheticFraction
                      << " but no synthetic dataset is set: set one with SetSyntheticDataset, or a negative "
                         "fraction (in proportion to the pairs) or 0 to train on the real pairs only");
  }
}

void
GeneRegressorTrainFilter::GenerateData()
{
  const SpotPatchDataset * real = this->GetRealDataset();
  const SpotPatchDataset * synthetic = this->GetSyntheticDataset();
  const auto               rows = real->GetSpots()->GetSpotIndices(true);
  if (rows.empty())
  {
    itkExceptionMacro(<< "The real dataset has no training spot");
  }
  const auto & preprocessing = real->GetSpots()->GetPreprocessing();
  const auto   side = real->GetPatches()->GetLargestPossibleRegion().GetSize()[0];
  try
  {
    torchcore::SetTorchThreads(static_cast<int>(m_NumberOfTorchThreads));
    auto [realImages, realTargets] = PairsOf(*real, rows);
    torch::Tensor syntheticImages;
    torch::Tensor syntheticTargets;
    if (synthetic != nullptr)
    {
      std::tie(syntheticImages, syntheticTargets) = PairsOf(*synthetic, synthetic->GetSpots()->GetSpotIndices(true));
    }
    m_NumberOfRealPairs = static_cast<SizeValueType>(realImages.size(0));
    m_NumberOfSyntheticPairs = synthetic ? static_cast<SizeValueType>(syntheticImages.size(0)) : 0;

    regression::ResNetConfig config;
    config.depth = static_cast<int>(m_TrainingSettings.Depth);
    config.numberOfOutputs = static_cast<std::int64_t>(preprocessing.Genes.size());
    // torch::nn initialises from LibTorch's global generator: seeded for the construction, then put
    // back as it was, so that the application's own random stream is not changed by a filter.
    regression::ResNet network = [&] {
      const torchcore::GlobalGeneratorSeed seeded(m_TrainingSettings.Seed);
      return regression::ResNet(config);
    }();
    if (!m_TrainingSettings.BackboneFileName.empty())
    {
      regression::LoadTorchvisionBackbone(network, m_TrainingSettings.BackboneFileName);
    }

    regression::RegressorTrainer trainer(network,
                                         m_TrainingSettings,
                                         realImages.contiguous(),
                                         realTargets.contiguous(),
                                         syntheticImages,
                                         syntheticTargets);
    m_FinalLoss = std::numeric_limits<double>::quiet_NaN();
    m_StepsTrained = 0;
    m_CurrentStep = 0;
    trainer.Run([this](std::int64_t step, std::int64_t total, double loss) {
      m_FinalLoss = loss;
      ++m_StepsTrained;
      m_CurrentStep = static_cast<unsigned int>(step);
      this->UpdateProgress(static_cast<float>(step) / static_cast<float>(total));
      if (this->GetAbortGenerateData())
      {
        ProcessAborted aborted(__FILE__, __LINE__);
        aborted.SetDescription("Regressor training aborted");
        throw aborted;
      }
    });

    // How the model was made, without where and how often the run saved itself: a run resumed from
    // its checkpoint makes the same model, and writes the same file.
    auto summary = nlohmann::json::parse(m_TrainingSettings.ToJSON());
    for (const char * operational : { "checkpoint_file", "checkpoint_interval", "resume" })
    {
      summary.erase(operational);
    }
    // The loss of the model's last step, also when a resumed run found every step done.
    summary.update({ { "real_pairs", m_NumberOfRealPairs },
                     { "synthetic_pairs", m_NumberOfSyntheticPairs },
                     { "final_loss", trainer.LastLoss() } });
    auto output = this->GetOutput();
    auto internals = std::make_unique<GeneRegressorModel::Internals>();
    network->to(torch::kCPU);
    internals->network = network;
    internals->metadata.config = config;
    internals->metadata.genes = preprocessing.Genes;
    internals->metadata.preprocessing = preprocessing.ToJSON();
    internals->metadata.imageSize = static_cast<std::int64_t>(side);
    internals->metadata.training = summary.dump();
    output->m_Internals = std::move(internals);
    output->m_Path.clear();
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Training the gene regressor failed: " << e.what());
  }
  if (!m_OutputFileName.empty())
  {
    this->GetOutput()->Save(m_OutputFileName);
    this->GetOutput()->m_Path = m_OutputFileName;
  }
}

void
GeneRegressorTrainFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "OutputFileName: " << m_OutputFileName << std::endl;
  std::ostringstream prefix; // the settings print one line per field, at this filter's indent
  prefix << indent;
  m_TrainingSettings.Print(os, prefix.str());
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
  os << indent << "FinalLoss: " << m_FinalLoss << std::endl;
  os << indent << "StepsTrained: " << m_StepsTrained << std::endl;
  os << indent << "CurrentStep: " << m_CurrentStep << std::endl;
  os << indent << "NumberOfRealPairs: " << m_NumberOfRealPairs << std::endl;
  os << indent << "NumberOfSyntheticPairs: " << m_NumberOfSyntheticPairs << std::endl;
}

} // end namespace itk
