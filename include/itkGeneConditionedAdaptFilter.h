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
#ifndef itkGeneConditionedAdaptFilter_h
#define itkGeneConditionedAdaptFilter_h

#include "itkAdaptationSettings.h"
#include "itkDiffusionModel.h"
#include "itkProcessObject.h"
#include "itkTrainingSettingMacro.h"
#include "itkSpotPatchDataset.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace itk
{

/** \class GeneConditionedAdaptFilter
 * \brief Adapts a central diffusion model to a lab's paired spots: the local, gene-conditioned model.
 *
 * Inputs: the central model (a DiffusionModel loaded from a model file or a diffusers folder, whose
 * SHA-256 the local model records) and a SpotPatchDataset with preprocessed expression (its training spots are used,
 * all spots when it has no split). The central U-Net stays frozen; only a light FiLM adapter trains
 * (a projection of the expression vector to an embedding, and per chosen ResNet block a linear map
 * to per-channel scale and shift of the normalised features, zero-initialised), with conditional
 * dropout so that classifier-free guidance works. Defaults follow the paper (10,000 steps, batch 32,
 * gradient accumulation 8, warm-up over 3 %, EMA 0.999, min-SNR 5).
 *
 * The patches must be those the central model draws: of its size, and at its pixel size when both state
 * one. Their colours are compared with its training patches' where the model records them
 * (DiffusionModel::GetPatchColourMean): the largest difference of the mean R, G or B is measured
 * (GetColourDifference); above ColourDifferenceWarningLevel (20 grey levels)
 * the filter warns (patches stain-normalised otherwise than the model's tiles, or tissue of another
 * composition), and above MaximumColourDifference, when set, it refuses.
 *
 * The output is the local model, also written to OutputFileName: the adapter's EMA weights, the
 * dataset's gene preprocessing, and the central model embedded or referenced by its SHA-256.
 * Checkpoints (every CheckpointInterval steps to CheckpointFileName, atomically) let a killed run
 * resume (Resume on) exactly where it stopped. ProgressEvent after every step; abortable.
 *
 * \sa DiffusionModel, DiffusionSampleFilter, SpotPatchDataset
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT GeneConditionedAdaptFilter : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(GeneConditionedAdaptFilter);

  using Self = GeneConditionedAdaptFilter;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(GeneConditionedAdaptFilter, ProcessObject);

  void
  SetCentralModel(const DiffusionModel * central);
  const DiffusionModel *
  GetCentralModel() const;
  void
  SetDataset(const SpotPatchDataset * dataset);
  const SpotPatchDataset *
  GetDataset() const;
  /** The local model. */
  DiffusionModel *
  GetOutput();

  /** Where the local model file is written (required; never replaces the central model file). */
  itkSetStringMacro(OutputFileName);
  itkGetStringMacro(OutputFileName);
  /** Carry the central model inside the local file (default: reference it by SHA-256). */
  itkSetMacro(EmbedCentralModel, bool);
  itkGetConstMacro(EmbedCentralModel, bool);
  itkBooleanMacro(EmbedCentralModel);

  /** All settings of the adaptation at once (the type MethodStepRunner and PipelineSettings use
   * too); each also has its own Set/Get below. */
  void
  SetTrainingSettings(const AdaptationSettings & settings);
  itkGetConstReferenceMacro(TrainingSettings, AdaptationSettings);
  itkTrainingSettingMacro(NumberOfSteps, unsigned int);
  itkTrainingSettingMacro(BatchSize, unsigned int);
  itkTrainingSettingMacro(GradientAccumulation, unsigned int);
  itkTrainingSettingMacro(LearningRate, double);
  itkTrainingSettingMacro(WeightDecay, double);
  itkTrainingSettingMacro(WarmupFraction, double);
  /** "constant" (default) or "cosine" after the warm-up. */
  itkTrainingSettingMacro(Schedule, std::string);
  itkTrainingSettingMacro(SnrGamma, double);
  itkTrainingSettingMacro(GradientClip, double);
  itkTrainingSettingMacro(EmaDecay, double);
  /** Probability of replacing a spot's condition by the null condition (classifier-free guidance). */
  itkTrainingSettingMacro(ConditionDropout, double);
  /** Probability of zeroing each gene of a condition (augmentation). */
  itkTrainingSettingMacro(GeneDropout, double);
  itkTrainingSettingMacro(Augment, bool);
  /** Refuse training patches whose mean colour differs from the central model's by more grey levels (0: never). */
  itkTrainingSettingMacro(MaximumColourDifference, double);
  itkBooleanMacro(Augment);
  itkTrainingSettingMacro(EmbeddingSize, unsigned int);
  /** ResNet blocks to modulate by parameter prefix ("mid_block.resnets.0", ...); empty = all. */
  itkTrainingSettingMacro(Blocks, std::vector<std::string>);
  itkTrainingSettingMacro(Seed, std::uint64_t);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkTrainingSettingMacro(Device, std::string);
  itkTrainingSettingMacro(CheckpointFileName, std::string);
  /** Steps between checkpoints (0: none). */
  itkTrainingSettingMacro(CheckpointInterval, unsigned int);
  /** Continue from CheckpointFileName (which must exist). */
  itkTrainingSettingMacro(Resume, bool);
  itkBooleanMacro(Resume);
  /** LibTorch threads; 0 (default) leaves the application's setting (LibTorchThreads) as it is. */
  itkSetMacro(NumberOfTorchThreads, unsigned int);
  itkGetConstMacro(NumberOfTorchThreads, unsigned int);

  /** After (and during) an update: the mean weighted loss of its last step (NaN when it trained none: a resumed
   * checkpoint already held NumberOfSteps steps), how many steps it trained, and the optimizer step
   * reached (a resumed run counts from its checkpoint; read it from a ProgressEvent observer). The
   * three training filters share these names. */
  itkGetConstMacro(FinalLoss, double);
  itkGetConstMacro(StepsTrained, unsigned int);
  itkGetConstMacro(CurrentStep, unsigned int);
  /** After an update: the training spots used. */
  itkGetConstMacro(NumberOfTrainingSpots, SizeValueType);
  /** After Update: the largest difference in grey levels between the mean R, G or B of the training
   * patches and of the central model's training patches (NaN when the model does not record them).
   * Above ColourDifferenceWarningLevel the filter warns. */
  itkGetConstMacro(ColourDifference, double);
  static constexpr double ColourDifferenceWarningLevel = 20.0;

protected:
  GeneConditionedAdaptFilter();
  ~GeneConditionedAdaptFilter() override = default;

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
  /** The largest difference, over R, G and B, between the training patches' mean and the central
   * model's training patches' mean, with both means described in \p description; NaN when the model
   * states no mean or the dataset has no training spot. */
  double
  ColourDifference(std::string & description) const;

  std::string        m_OutputFileName;
  bool               m_EmbedCentralModel{ false };
  AdaptationSettings m_TrainingSettings;
  unsigned int       m_NumberOfTorchThreads{ 0 };
  double             m_FinalLoss{ 0.0 };
  unsigned int       m_StepsTrained{ 0 };
  unsigned int       m_CurrentStep{ 0 };
  SizeValueType      m_NumberOfTrainingSpots{ 0 };
  double             m_ColourDifference{ std::numeric_limits<double>::quiet_NaN() };
};

} // end namespace itk

#endif
