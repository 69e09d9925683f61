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
#ifndef itkDiffusionPretrainFilter_h
#define itkDiffusionPretrainFilter_h

#include "SpatialTranscriptomicsExport.h"

#include "itkDataParallelSettings.h"
#include "itkDiffusionModel.h"
#include "itkImage.h"
#include "itkPretrainingSettings.h"
#include "itkProcessObject.h"
#include "itkTrainingSettingMacro.h"
#include "itkRGBPixel.h"

#include <memory>
#include <string>

namespace itk
{

/** \class DiffusionPretrainFilter
 * \brief Pretrains the central, unconditional diffusion U-Net on stacks of histology patches.
 *
 * Inputs are stacks of square RGB patches (x, y, patch), all of ImageSize pixels. The U-Net is
 * diffusers' UNet2DModel with NumberOfScales scales of widths BaseChannels * (1, 2, 4, 4, ...),
 * LayersPerBlock ResNets per scale and attention at the two coarsest scales. Training minimises
 * noise- (or v-) prediction error with min-SNR-gamma weights (Hang et al., "Efficient diffusion
 * training via min-SNR weighting strategy", ICCV 2023), AdamW, warm-up then cosine learning rate,
 * gradient accumulation and clipping, and keeps an EMA of the weights; flips and 90-degree rotations
 * augment the patches. Every CheckpointInterval steps a checkpoint (weights, EMA, optimizer state,
 * step, random state) is written atomically to CheckpointFileName; with Resume on, training
 * continues from it and ends exactly where an uninterrupted run would have.
 *
 * The output is the EMA model, also written to OutputFileName, whose metadata records the patches'
 * mean colour ("patch_rgb_mean", DiffusionModel::GetPatchColourMean), and their pixel size and physical
 * size ("pixel_size_um", "patch_um") when their spacing states it. ProgressEvent follows the
 * steps and AbortGenerateData stops at the next step (the last checkpoint stays valid). With a LossLogFileName, every
 * step appends a line "step, loss, learning rate, training seconds" (tab separated, under a header) and flushes it; a
 * resumed run first drops the lines after its checkpoint's step, so the log of an interrupted and resumed run reads as
 * one run's.
 *
 * Data parallel (SetDataParallel, e.g. DataParallelSettings::FromEnvironment() under `c2l launch` or
 * torchrun): WorldSize processes each run this filter with the same settings and patches; BatchSize
 * is the global batch (a multiple of WorldSize), each rank trains on its slice, and the gradients
 * are averaged across ranks on LibTorch's c10d (Gloo on CPU, NCCL on CUDA), so the model equals one
 * process's. Rank 0 alone writes OutputFileName, the checkpoints and the loss log (each followed by a
 * barrier); with Resume only rank 0 reads the checkpoint and the others take its state. Every rank's
 * output is the trained model. With Device "cuda", a rank uses the GPU of its LocalRank.
 *
 * \sa DiffusionModel, DiffusionSampleFilter
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT DiffusionPretrainFilter : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(DiffusionPretrainFilter);

  using Self = DiffusionPretrainFilter;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using PatchStackType = Image<RGBPixel<unsigned char>, 3>;

  itkNewMacro(Self);
  itkTypeMacro(DiffusionPretrainFilter, ProcessObject);

  /** Adds a stack of training patches. */
  void
  AddPatches(const PatchStackType * patches);
  /** The trained (EMA) model. */
  DiffusionModel *
  GetOutput();

  /** Optional: a central model whose weights the training starts from instead of a fresh U-Net, to
   * continue pretraining it on other tiles (e.g. a model trained elsewhere, fine-tuned on this lab's
   * slides). Its U-Net and noise schedule are kept: BaseChannels, NumberOfScales and LayersPerBlock
   * are not used, and PredictionType must be the model's. The patches must be of the model's size
   * and, when both state it, of its pixel size. The optimizer and the EMA start afresh (the EMA from
   * the model's weights); the output's metadata names the initial model and its SHA-256. With Resume,
   * the checkpoint's weights replace the initial model's. */
  void
  SetInitialModel(const DiffusionModel * model);
  const DiffusionModel *
  GetInitialModel() const;

  itkSetStringMacro(OutputFileName);
  itkGetStringMacro(OutputFileName);
  /** A tab-separated training curve, one line per step; empty (the default) for none. */
  itkSetStringMacro(LossLogFileName);
  itkGetStringMacro(LossLogFileName);
  /** Every SnapshotInterval steps (0, the default: never) the model as it stands (its EMA weights,
   * with the output's metadata at that step) is written to SnapshotFileName(OutputFileName, step):
   * to measure samples along a long run, or to keep an earlier model. */
  itkSetMacro(SnapshotInterval, unsigned int);
  itkGetConstMacro(SnapshotInterval, unsigned int);
  /** Where the snapshot of \p step goes: "central.safetensors" gives "central-step-500.safetensors". */
  static std::string
  SnapshotFileName(const std::string & outputFileName, unsigned int step);
  /** Write OutputFileName's weights as float16 (half the size; they load back as float32). */
  itkSetMacro(HalfPrecisionOutput, bool);
  itkGetConstMacro(HalfPrecisionOutput, bool);
  itkBooleanMacro(HalfPrecisionOutput);

  /** All settings of the pretraining at once (the type MethodStepRunner and PipelineSettings use
   * too); each also has its own Set/Get below. */
  void
  SetTrainingSettings(const PretrainingSettings & settings);
  itkGetConstReferenceMacro(TrainingSettings, PretrainingSettings);
  /** Side of the patches in pixels; 0 (default): the training patches' size. */
  itkTrainingSettingMacro(ImageSize, unsigned int);
  itkTrainingSettingMacro(BaseChannels, unsigned int);
  itkTrainingSettingMacro(NumberOfScales, unsigned int);
  itkTrainingSettingMacro(LayersPerBlock, unsigned int);
  /** "epsilon" or "v_prediction". */
  itkTrainingSettingMacro(PredictionType, std::string);
  itkTrainingSettingMacro(NumberOfSteps, unsigned int);
  itkTrainingSettingMacro(BatchSize, unsigned int);
  itkTrainingSettingMacro(GradientAccumulation, unsigned int);
  itkTrainingSettingMacro(LearningRate, double);
  itkTrainingSettingMacro(WeightDecay, double);
  /** Warm-up as a fraction of the steps (the paper's 3%). */
  itkTrainingSettingMacro(WarmupFraction, double);
  /** "cosine" (default) or "constant" after the warm-up. */
  itkTrainingSettingMacro(Schedule, std::string);
  itkTrainingSettingMacro(EmaDecay, double);
  itkTrainingSettingMacro(SnrGamma, double);
  itkTrainingSettingMacro(GradientClip, double);
  itkTrainingSettingMacro(Seed, std::uint64_t);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkTrainingSettingMacro(Device, std::string);
  itkTrainingSettingMacro(CheckpointFileName, std::string);
  /** Steps between checkpoints (0: none). */
  itkTrainingSettingMacro(CheckpointInterval, unsigned int);
  /** Continue from CheckpointFileName (which must exist). */
  itkTrainingSettingMacro(Resume, bool);
  itkBooleanMacro(Resume);
  /** This process's place in a data-parallel run; the default is one process. */
  void
  SetDataParallel(const DataParallelSettings & settings);
  itkGetConstReferenceMacro(DataParallel, DataParallelSettings);
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

protected:
  /** ImageSize, or the first patch stack's width when ImageSize is 0. */
  unsigned int
  ResolvedImageSize() const;

  DiffusionPretrainFilter();
  ~DiffusionPretrainFilter() override;

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
  /** Throws unless \p initial can start a training on patches of \p imageSize pixels. */
  void
  VerifyInitialModel(const DiffusionModel & initial, unsigned int imageSize) const;

  std::string          m_OutputFileName;
  std::string          m_LossLogFileName;
  bool                 m_HalfPrecisionOutput{ false };
  unsigned int         m_SnapshotInterval{ 0 };
  PretrainingSettings  m_TrainingSettings;
  DataParallelSettings m_DataParallel;
  unsigned int         m_NumberOfTorchThreads{ 0 };
  double               m_FinalLoss{ 0.0 };
  unsigned int         m_StepsTrained{ 0 };
  unsigned int         m_CurrentStep{ 0 };
};

} // namespace itk

#endif
