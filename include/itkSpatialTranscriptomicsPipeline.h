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
#ifndef itkSpatialTranscriptomicsPipeline_h
#define itkSpatialTranscriptomicsPipeline_h

#include "itkMethodStepRunner.h"
#include "itkPipelineEvaluationResults.h"
#include "itkPipelineSettings.h"

#include <memory>
#include <string>
#include <vector>

namespace itk
{

/** A stage as recorded in a pipeline's output folder, for a timing table.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PipelineStageTiming
{
  std::string Name;
  double      Seconds{ 0.0 };
};

/** \class SpatialTranscriptomicsPipeline
 * \brief The whole method on one slide: extraction (with stain normalisation) and the split, a
 * central model (given, or pretrained on the slide's unlabeled tissue tiles), its adaptation to
 * the training spots, synthesis at the largest synthetic-to-real ratio, a colour-noise control,
 * the gene regressor trained on real pairs alone and co-trained at each ratio (and on the
 * control), and the evaluation on the held-out spots.
 *
 * Every stage writes into the settings' output folder and is recorded in its stages/ folder with
 * its settings, so an Update after an interruption (or with more ratios) resumes after the last
 * stage that finished with the same settings, and a training stage continues from the checkpoint
 * a killed run left. A folder that holds the results of other settings, or files that are not a
 * pipeline's, is refused unless Force is on; then stages whose settings are unchanged are kept and
 * the rest run again. Nothing else in the folder is removed.
 *
 * Events: IterationEvent for each message (GetMessage: a stage starting, kept or finished, and
 * what its step wrote), ProgressEvent over the whole run; the step runner (GetStepRunner) reports
 * the running stage's own progress. AbortGenerateDataOn() stops the run at the running stage's
 * next progress report; a later Update resumes it.
 *
 * \sa MethodStepRunner, PipelineSettings, PipelineEvaluation
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SpatialTranscriptomicsPipeline : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpatialTranscriptomicsPipeline);

  using Self = SpatialTranscriptomicsPipeline;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(SpatialTranscriptomicsPipeline, ProcessObject);

  /** What to run (PipelineSettings::Read reads a pipeline JSON file). */
  void
  SetSettings(const PipelineSettings & settings);
  const PipelineSettings &
  GetSettings() const
  {
    return m_Settings;
  }

  /** Write into an output folder that holds other settings' results or other files. Off. */
  itkSetMacro(Force, bool);
  itkGetConstMacro(Force, bool);
  itkBooleanMacro(Force);

  /** The stage running, or the last one run ("extract", "tiles", "pretrain", "adapt",
   * "synthesize", "control", "regress-real", "regress-r2", ..., "evaluate"). */
  itkGetStringMacro(CurrentStage);
  /** The last message (see IterationEvent). */
  itkGetStringMacro(Message);
  /** How many stages the last Update ran (0: every stage was kept from an earlier run). */
  itkGetConstMacro(NumberOfStagesRun, unsigned int);
  /** After an Update: what the evaluation found (this run's, or the finished one it kept). */
  const PipelineEvaluationResults &
  GetEvaluationResults() const
  {
    return m_EvaluationResults;
  }
  /** Runs the stages' steps; observe it for the running stage's progress. */
  itkGetModifiableObjectMacro(StepRunner, MethodStepRunner);

  /** Runs every stage not yet finished with these settings. */
  void
  Update() override;

  /** Refuses \p folder when it holds the results of other settings (its \p recordName differs from
   * \p settings) or files that are not \p what ("pipeline run", "study"), unless \p force; then
   * creates it and records \p settings in \p recordName. Nothing a user wrote there is removed. A
   * run locks the folder first (ResultsFolderLock), so that no other run writes there meanwhile. */
  static void
  PrepareResultsFolder(const std::string & folder, const std::string & recordName, const std::string & settings,
                       const std::string & what, bool force);

  /** The stages recorded in a pipeline's output \p folder, in pipeline order. */
  static std::vector<PipelineStageTiming>
  ReadStageTimings(const std::string & folder);

protected:
  SpatialTranscriptomicsPipeline();
  ~SpatialTranscriptomicsPipeline() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  /** Sets the message and invokes IterationEvent. */
  void
  Say(const std::string & message);
  /** The step runner's progress as the pipeline's, and the pipeline's abort passed on to it. */
  void
  FollowStep(Object * caller, const EventObject & event);
  /** ProgressEvent at \p stagesDone of the run's stages (a fraction of one for the running stage). */
  void
  ReportProgress(float stagesDone);

  PipelineSettings          m_Settings;
  bool                      m_Force{ false };
  std::string               m_CurrentStage;
  std::string               m_Message;
  unsigned int              m_NumberOfStagesRun{ 0 };
  unsigned int              m_NumberOfStages{ 0 };
  unsigned int              m_StagesEnded{ 0 };
  float                     m_LastProgress{ 0.0f };
  MethodStepRunner::Pointer m_StepRunner;
  PipelineEvaluationResults m_EvaluationResults;
};

} // end namespace itk

#endif
