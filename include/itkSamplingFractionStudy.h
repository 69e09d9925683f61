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
#ifndef itkSamplingFractionStudy_h
#define itkSamplingFractionStudy_h

#include "itkPipelineEvaluationResults.h"
#include "itkPipelineSettings.h"
#include "itkProcessObject.h"
#include "itkSpatialTranscriptomicsPipeline.h"

#include <string>
#include <vector>

namespace itk
{

/** \brief One sampling fraction's run of a SamplingFractionStudy.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT FractionStudyRun
{
  /** The share of the spots used for adaptation and training. */
  double Fraction{ 0.0 };
  /** Its pipeline's folder, inside the study's ("fraction-25"). */
  std::string Folder;
  /** What its evaluation found on its own test spots. */
  PipelineEvaluationResults Results;
  /** Wall time of its stages (a stage kept from an earlier run counts the time it took then). */
  double Seconds{ 0.0 };
};

/** \class SamplingFractionStudy
 * \brief The paper's sampling-fraction study (its Fig. 7): the whole pipeline once per fraction of
 * the spots sampled for adaptation and training, each in its own folder inside the settings'
 * output folder, so that the real-only regressor can be set against the co-trained ones, fraction
 * by fraction.
 *
 * A central model given in the settings serves every run; otherwise the first run pretrains one
 * (on unlabeled tissue tiles, which see no split) and the others adapt it. Each run resumes as
 * SpatialTranscriptomicsPipeline does. The study's folder records its settings
 * (study_settings.json; a folder of other settings is refused unless Force) and, after the last
 * run, every run's test-spot metrics (study_results.json).
 *
 * Events: IterationEvent after each fraction's run (GetRuns().back() is that run), ProgressEvent
 * over the fractions; observe GetPipeline() for the running stage and its progress.
 * AbortGenerateDataOn() stops the study between runs (abort the pipeline to stop inside one).
 *
 * \sa SpatialTranscriptomicsPipeline, PipelineEvaluationResults
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SamplingFractionStudy : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SamplingFractionStudy);

  using Self = SamplingFractionStudy;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(SamplingFractionStudy, ProcessObject);

  /** The pipeline's settings; their output folder is the study's, their fraction is replaced. */
  void
  SetSettings(const PipelineSettings & settings);
  const PipelineSettings &
  GetSettings() const
  {
    return m_Settings;
  }
  /** Shares of the spots in (0, 1), each once (default the paper's 0.05, 0.1, 0.25 and 0.5). */
  void
  SetFractions(const std::vector<double> & fractions);
  const std::vector<double> &
  GetFractions() const
  {
    return m_Fractions;
  }
  /** Replace the results of other settings in the study's folder (unchanged stages are kept). */
  itkSetMacro(Force, bool);
  itkGetConstMacro(Force, bool);
  itkBooleanMacro(Force);

  /** The pipeline each fraction runs in. */
  itkGetModifiableObjectMacro(Pipeline, SpatialTranscriptomicsPipeline);
  /** The runs finished so far, in the fractions' order. */
  const std::vector<FractionStudyRun> &
  GetRuns() const
  {
    return m_Runs;
  }

  /** Runs the pipeline at every fraction, then writes study_results.json. */
  void
  Update() override;

  /** "fraction-5", "fraction-12.5": the folder of one fraction's run inside the study. */
  static std::string
  FolderName(double fraction);
  /** study_results.json's text: per run its fraction, folder, spots, genes, each regressor's and
   * each imputation predictor's test-spot metrics, the training-mean baseline and the wall time. */
  static std::string
  RunsToJSON(const std::vector<FractionStudyRun> & runs);

protected:
  SamplingFractionStudy();
  ~SamplingFractionStudy() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  PipelineSettings                        m_Settings;
  std::vector<double>                     m_Fractions{ 0.05, 0.1, 0.25, 0.5 };
  bool                                    m_Force{ false };
  SpatialTranscriptomicsPipeline::Pointer m_Pipeline;
  std::vector<FractionStudyRun>           m_Runs;
};

} // end namespace itk

#endif
