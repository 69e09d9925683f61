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
#ifndef itkMethodStepRunner_h
#define itkMethodStepRunner_h

#include "itkMethodStepSettings.h"
#include "itkCommand.h"
#include "itkProcessObject.h"

#include <string>

namespace itk
{

/** \class MethodStepRunner
 * \brief Runs one step of the method on files: extraction of a paired dataset (or tissue tiles)
 * from a slide, pretraining of a central model, its adaptation to paired spots, sampling of
 * patches or synthetic pairs, training of the gene regressor, and prediction at spots.
 *
 * Each step reads and writes the files its settings name, refuses an output that exists unless
 * the settings' Force is set (or a resumed training's own file), and returns what it did as text
 * ("wrote dataset.h5: 293 patches of 224 px ..."), one line per fact. While a step runs, this
 * object's ProgressEvent follows the step's filter (GetProgress; GetStepName, also set as its
 * ObjectName), and AbortGenerateDataOn() stops it at the filter's next progress report.
 * Extraction is PatchDatasetExtractor's, which needs no LibTorch.
 *
 * The pipeline (SpatialTranscriptomicsPipeline) runs its stages through this class, and the c2l
 * model commands are this class with command-line parsing.
 *
 * \sa SpatialTranscriptomicsPipeline
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT MethodStepRunner : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(MethodStepRunner);

  using Self = MethodStepRunner;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(MethodStepRunner, ProcessObject);

  /** The step running, or the last one run: "extract", "pretrain", "adapt", "sample",
   * "train-regressor", "predict". */
  itkGetStringMacro(StepName);

  /** A slide and its spots to a paired dataset (.h5), or with tiles > 0 unlabeled tissue tiles. */
  std::string
  Extract(const ExtractionStepSettings & settings);

  /** Patch datasets to a central diffusion model (.safetensors), with checkpoints and resumption. */
  std::string
  Pretrain(const PretrainingStepSettings & settings);

  /** A central model and a paired dataset to a local (gene-conditioned) model. */
  std::string
  Adapt(const AdaptationStepSettings & settings);

  /** A model to patches (a folder of PNG files or one image stack), or a local model and a
   * dataset's training profiles to synthetic (patch, expression) pairs (.h5). */
  std::string
  Sample(const SamplingStepSettings & settings);

  /** Real (+ synthetic) pairs to a gene regressor (.safetensors). */
  std::string
  TrainRegressor(const RegressorTrainingStepSettings & settings);

  /** A regressor and a dataset to predictions at its spots (TSV), and metrics against the
   * dataset's expression (JSON) when asked for. */
  std::string
  Predict(const PredictionStepSettings & settings);

protected:
  MethodStepRunner() = default;
  ~MethodStepRunner() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  /** Forwards \p filter's progress and end as this object's, and this object's abort to it. */
  void
  Follow(ProcessObject * filter, const std::string & step);
  void
  ForwardEvent(Object * caller, const EventObject & event);

  std::string m_StepName;
};

} // end namespace itk

#endif
