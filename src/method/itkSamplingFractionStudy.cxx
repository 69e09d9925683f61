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
#include "itkSamplingFractionStudy.h"
#include "itkResultsFolderLock.h"

#include "itkAtomicFile.h"
#include "itkJsonNumbers.h"
#include "itkPipelineEvaluation.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace itk
{
namespace fs = std::filesystem;
using nlohmann::json;

namespace
{
/** A predictor's row of study_results.json: its label, ratio and summary metrics. */
json
SummaryEntry(const RegressorEvaluation & r)
{
  json entry{ { "label", r.Label },
              { "ratio", r.Ratio },
              { "mae", JsonNumber(r.MeanAbsoluteError) },
              { "rmse", JsonNumber(r.RootMeanSquaredError) },
              { "mean_pearson", JsonNumber(r.MeanPearson) },
              { "mean_spearman", JsonNumber(r.MeanSpearman) } };
  if (r.GenesImproved >= 0)
  {
    entry["genes_improved"] = static_cast<std::size_t>(r.GenesImproved);
  }
  return entry;
}
} // namespace

SamplingFractionStudy::SamplingFractionStudy()
  : m_Pipeline(SpatialTranscriptomicsPipeline::New())
{}

void
SamplingFractionStudy::SetSettings(const PipelineSettings & settings)
{
  m_Settings = settings;
  this->Modified();
}

void
SamplingFractionStudy::SetFractions(const std::vector<double> & fractions)
{
  if (fractions != m_Fractions)
  {
    m_Fractions = fractions;
    this->Modified();
  }
}

std::string
SamplingFractionStudy::FolderName(double fraction)
{
  return "fraction-" + PipelineEvaluation::FormatRatio(100.0 * fraction);
}

void
SamplingFractionStudy::Update()
{
  if (m_Fractions.empty())
  {
    itkExceptionMacro(<< "The study needs at least one sampling fraction (SetFractions; c2l: --fractions "
                         "0.05,0.1,0.25,0.5)");
  }
  std::set<std::string> names;
  for (const double fraction : m_Fractions)
  {
    if (!(fraction > 0.0 && fraction < 1.0))
    {
      itkExceptionMacro(<< "A sampling fraction must be in (0, 1), the share of the spots used for adaptation and "
                           "training; got "
                        << fraction);
    }
    if (!names.insert(FolderName(fraction)).second)
    {
      itkExceptionMacro(<< "The sampling fraction " << fraction << " is given twice");
    }
  }
  m_Settings.Validate();
  this->InvokeEvent(StartEvent());
  this->UpdateProgress(0.0f);
  const fs::path          folder(m_Settings.Output);
  const json              settings{ { "pipeline", json::parse(m_Settings.ToJSON()) }, { "fractions", m_Fractions } };
  const ResultsFolderLock lock(folder.string(), "study");
  SpatialTranscriptomicsPipeline::PrepareResultsFolder(
    folder.string(), "study_settings.json", settings.dump(2), "study", m_Force);

  m_Runs.clear();
  for (std::size_t i = 0; i < m_Fractions.size(); ++i)
  {
    if (this->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription("The sampling-fraction study was aborted");
      throw aborted;
    }
    const double     fraction = m_Fractions[i];
    PipelineSettings run = m_Settings;
    run.Output = (folder / FolderName(fraction)).string();
    run.Extraction.Fraction = fraction;
    if (m_Settings.CentralModel.empty() && i > 0)
    {
      // Pretraining sees the slide's unlabeled tiles, never the split: one central model serves all.
      run.CentralModel = (folder / FolderName(m_Fractions.front()) / "central.safetensors").string();
      run.Pretraining.InitialModel.clear(); // that model was continued from it already
    }
    m_Pipeline->SetSettings(run);
    m_Pipeline->SetForce(m_Force);
    m_Pipeline->Update();

    FractionStudyRun finished;
    finished.Fraction = fraction;
    finished.Folder = FolderName(fraction);
    finished.Results = m_Pipeline->GetEvaluationResults();
    for (const auto & stage : SpatialTranscriptomicsPipeline::ReadStageTimings(run.Output))
    {
      finished.Seconds += stage.Seconds;
    }
    m_Runs.push_back(finished);
    this->UpdateProgress(static_cast<float>(i + 1) / static_cast<float>(m_Fractions.size()));
    this->InvokeEvent(IterationEvent());
  }
  AtomicFile::Write((folder / "study_results.json").string(), RunsToJSON(m_Runs), "the study's results");
  this->InvokeEvent(EndEvent());
}

std::string
SamplingFractionStudy::RunsToJSON(const std::vector<FractionStudyRun> & runs)
{
  json all = json::array();
  for (const auto & run : runs)
  {
    json regressors = json::array();
    for (const auto & r : run.Results.Regressors)
    {
      regressors.push_back(SummaryEntry(r));
    }
    json imputation = json::array();
    for (const auto & r : run.Results.Imputation)
    {
      imputation.push_back(SummaryEntry(r));
    }
    all.push_back({ { "fraction", run.Fraction },
                    { "folder", run.Folder },
                    { "training_spots", run.Results.TrainingSpots },
                    { "test_spots", run.Results.TestSpots },
                    { "genes", run.Results.GeneNames.size() },
                    { "regressors", regressors },
                    { "imputation", imputation },
                    { "mean_baseline",
                      { { "mae", JsonNumber(run.Results.MeanBaselineAbsoluteError) },
                        { "rmse", JsonNumber(run.Results.MeanBaselineRootMeanSquaredError) } } },
                    { "seconds", run.Seconds } });
  }
  return all.dump(1);
}

void
SamplingFractionStudy::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Settings: " << m_Settings.ToJSON() << std::endl;
  os << indent << "Fractions:";
  for (const double fraction : m_Fractions)
  {
    os << ' ' << fraction;
  }
  os << std::endl;
  os << indent << "Force: " << m_Force << std::endl;
  os << indent << "Pipeline: " << m_Pipeline.GetPointer() << std::endl;
  os << indent << "Runs: " << m_Runs.size() << std::endl;
}

} // end namespace itk
