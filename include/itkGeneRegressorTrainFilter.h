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
#include "itkSpotPatchDataset.h"

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
  /** ResNet depth: 18, 34 or 50 (default, the paper's). */
  itkSetMacro(Depth, unsigned int);
  itkGetConstMacro(Depth, unsigned int);
  /** torchvision ResNet weights of that depth, converted to safetensors, for the backbone ("" = random). */
  itkSetStringMacro(BackboneFileName);
  itkGetStringMacro(BackboneFileName);
  itkSetMacro(NumberOfSteps, SizeValueType);
  itkGetConstMacro(NumberOfSteps, SizeValueType);
  itkSetMacro(BatchSize, SizeValueType);
  itkGetConstMacro(BatchSize, SizeValueType);
  itkSetMacro(LearningRate, double);
  itkGetConstMacro(LearningRate, double);
  itkSetMacro(WeightDecay, double);
  itkGetConstMacro(WeightDecay, double);
  itkSetMacro(WarmupFraction, double);
  itkGetConstMacro(WarmupFraction, double);
  /** "mae" (default) or "mse". */
  itkSetStringMacro(Loss);
  itkGetStringMacro(Loss);
  /** Probability that a batch element is synthetic, in [0, 1] (1: synthetic pairs only; above 0 needs a
   * synthetic dataset); negative (default) = proportional to the pools. */
  itkSetMacro(SyntheticFraction, double);
  itkGetConstMacro(SyntheticFraction, double);
  /** Random flips and 90-degree turns (default on). */
  itkSetMacro(Augment, bool);
  itkGetConstMacro(Augment, bool);
  itkBooleanMacro(Augment);
  itkSetMacro(Seed, uint64_t);
  itkGetConstMacro(Seed, uint64_t);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkSetStringMacro(Device);
  itkGetStringMacro(Device);
  /** LibTorch threads; 0 (default) leaves the application's setting (LibTorchThreads) as it is. */
  itkSetMacro(NumberOfTorchThreads, unsigned int);
  itkGetConstMacro(NumberOfTorchThreads, unsigned int);
  itkSetStringMacro(CheckpointFileName);
  itkGetStringMacro(CheckpointFileName);
  /** Steps between checkpoints (0: none). */
  itkSetMacro(CheckpointInterval, SizeValueType);
  itkGetConstMacro(CheckpointInterval, SizeValueType);
  /** Continue from CheckpointFileName when it exists. */
  itkSetMacro(Resume, bool);
  itkGetConstMacro(Resume, bool);
  itkBooleanMacro(Resume);

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
  std::string   m_OutputFileName;
  unsigned int  m_Depth{ 50 };
  std::string   m_BackboneFileName;
  SizeValueType m_NumberOfSteps{ 1000 };
  SizeValueType m_BatchSize{ 32 };
  double        m_LearningRate{ 1e-4 };
  double        m_WeightDecay{ 1e-2 };
  double        m_WarmupFraction{ 0.05 };
  std::string   m_Loss{ "mae" };
  double        m_SyntheticFraction{ -1.0 };
  bool          m_Augment{ true };
  uint64_t      m_Seed{ 0 };
  std::string   m_Device{ "cpu" };
  unsigned int  m_NumberOfTorchThreads{ 0 };
  std::string   m_CheckpointFileName;
  SizeValueType m_CheckpointInterval{ 0 };
  bool          m_Resume{ false };
  double        m_FinalLoss{ 0.0 };
  unsigned int  m_StepsTrained{ 0 };
  unsigned int  m_CurrentStep{ 0 };
  SizeValueType m_NumberOfRealPairs{ 0 };
  SizeValueType m_NumberOfSyntheticPairs{ 0 };
};

} // end namespace itk

#endif
