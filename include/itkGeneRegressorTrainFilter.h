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
#ifndef itkGeneRegressorTrainFilter_h
#define itkGeneRegressorTrainFilter_h

#include "itkGeneRegressorModel.h"
#include "itkProcessObject.h"
#include "itkRegressorTrainingSettings.h"
#include "itkTrainingSettingMacro.h"
#include "itkSpotPatchDataset.h"

#include <cstdint>
#include <string>

namespace itk
{

/** \class GeneRegressorTrainFilter
 * \brief Trains a GeneRegressorModel on real (patch, expression) pairs, optionally mixed with
 * synthetic pairs from DiffusionSampleFilter.
 *
 * Inputs: the real dataset (its training spots; all spots when it has no split) and, optionally, a
 * synthetic dataset with the same genes and preprocessing. A ResNet (18, 34 or 50, torchvision's
 * parameter names; its backbone optionally initialised from converted torchvision weights) with a
 * regression head over the genes learns with MAE loss (default; MSE on request), AdamW and a cosine
 * schedule after a linear warm-up over 5 % of the steps, with random flips and 90-degree turns.
 * Each batch element comes from the union of real and synthetic pairs (so the synthetic share
 * follows the synthetic-to-real ratio of the datasets) unless SyntheticFraction in [0, 1] fixes it.
 *
 * The output is the trained model, also written to OutputFileName when set. Checkpoints (every
 * CheckpointInterval steps to CheckpointFileName, atomically) let a killed run resume (Resume on)
 * exactly where it stopped. ProgressEvent after every step; abortable.
 *
 * \sa GeneRegressorModel, GeneRegressorFilter, SpotPatchDataset
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT GeneRegressorTrainFilter : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(GeneRegressorTrainFilter);

  using Self = GeneRegressorTrainFilter;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(GeneRegressorTrainFilter, ProcessObject);

  /** The real pairs (required). */
  void
  SetRealDataset(const SpotPatchDataset * dataset);
  const SpotPatchDataset *
  GetRealDataset() const;
  /** Synthetic pairs (optional; nullptr trains on real pairs only). */
  void
  SetSyntheticDataset(const SpotPatchDataset * dataset);
  const SpotPatchDataset *
  GetSyntheticDataset() const;
  /** The trained model. */
  GeneRegressorModel *
  GetOutput();

  /** Where the model file is written ("" = not written). */
  itkSetStringMacro(OutputFileName);
  itkGetStringMacro(OutputFileName);
  /** All settings of the training at once (the type MethodStepRunner and PipelineSettings use too);
   * each also has its own Set/Get below. */
  void
  SetTrainingSettings(const RegressorTrainingSettings & settings);
  itkGetConstReferenceMacro(TrainingSettings, RegressorTrainingSettings);
  /** ResNet depth: 18, 34 or 50 (default, the paper's). */
  itkTrainingSettingMacro(Depth, unsigned int);
  /** torchvision ResNet weights of that depth, converted to safetensors, for the backbone ("" = random). */
  itkTrainingSettingMacro(BackboneFileName, std::string);
  itkTrainingSettingMacro(NumberOfSteps, unsigned int);
  itkTrainingSettingMacro(BatchSize, unsigned int);
  itkTrainingSettingMacro(LearningRate, double);
  itkTrainingSettingMacro(WeightDecay, double);
  itkTrainingSettingMacro(WarmupFraction, double);
  /** "cosine" (default) or "constant" after the warm-up. */
  itkTrainingSettingMacro(Schedule, std::string);
  /** "mae" (default) or "mse". */
  itkTrainingSettingMacro(Loss, std::string);
  /** Probability that a batch element is synthetic, in [0, 1] (1: synthetic pairs only; above 0 needs a
   * synthetic dataset); negative (default) = proportional to the pools. */
  itkTrainingSettingMacro(SyntheticFraction, double);
  /** Random flips and 90-degree turns (default on). */
  itkTrainingSettingMacro(Augment, bool);
  itkBooleanMacro(Augment);
  itkTrainingSettingMacro(Seed, std::uint64_t);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkTrainingSettingMacro(Device, std::string);
  itkTrainingSettingMacro(CheckpointFileName, std::string);
  /** Steps between checkpoints (0: none). */
  itkTrainingSettingMacro(CheckpointInterval, unsigned int);
  /** Continue from CheckpointFileName when it exists. */
  itkTrainingSettingMacro(Resume, bool);
  itkBooleanMacro(Resume);
  /** LibTorch threads; 0 (default) leaves the application's setting (LibTorchThreads) as it is. */
  itkSetMacro(NumberOfTorchThreads, unsigned int);
  itkGetConstMacro(NumberOfTorchThreads, unsigned int);

  /** After (and during) an update: the loss of its last step (NaN when it trained none: a resumed
   * checkpoint already held NumberOfSteps steps), how many steps it trained, and the optimizer step
   * reached (a resumed run counts from its checkpoint; read it from a ProgressEvent observer). The
   * three training filters share these names. */
  itkGetConstMacro(FinalLoss, double);
  itkGetConstMacro(StepsTrained, unsigned int);
  itkGetConstMacro(CurrentStep, unsigned int);
  /** After an update: the pairs trained on. */
  itkGetConstMacro(NumberOfRealPairs, SizeValueType);
  itkGetConstMacro(NumberOfSyntheticPairs, SizeValueType);

protected:
  GeneRegressorTrainFilter();
  ~GeneRegressorTrainFilter() override = default;

  using Superclass::MakeOutput;
  DataObject::Pointer
  MakeOutput(DataObjectPointerArraySizeType index) override;
  void
  VerifyPreconditions() ITKv5_CONST override;
  void
  GenerateData() override;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  std::string               m_OutputFileName;
  RegressorTrainingSettings m_TrainingSettings;
  unsigned int              m_NumberOfTorchThreads{ 0 };
  double                    m_FinalLoss{ 0.0 };
  unsigned int              m_StepsTrained{ 0 };
  unsigned int              m_CurrentStep{ 0 };
  SizeValueType             m_NumberOfRealPairs{ 0 };
  SizeValueType             m_NumberOfSyntheticPairs{ 0 };
};

} // end namespace itk

#endif
