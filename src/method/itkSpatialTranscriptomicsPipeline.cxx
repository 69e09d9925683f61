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
#include "itkSpatialTranscriptomicsPipeline.h"
#include "itkResultsFolderLock.h"

#include "itkAtomicFile.h"
#include "itkColourNoisePatches.h"
#include "itkConditioningProfiles.h"
#include "itkFileChecks.h"
#include "itkMacro.h"
#include "itkPipelineEvaluation.h"
#include "itkPipelineImputation.h"
#include "itkSpotPatchDataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <functional>
#include <sstream>

namespace itk
{
namespace
{
namespace fs = std::filesystem;
using nlohmann::json;

/** Runs the stages in order, each unless it finished before with the same settings and no stage
 * before it had to run again; records each finished stage (settings, seconds, order) in stages/. */
class StageRunner
{
public:
  StageRunner(fs::path folder, std::function<void(const std::string &)> say,
              std::function<void(const std::string &)> stageStarted, std::function<void()> stageEnded)
    : m_Stages(std::move(folder) / "stages")
    , m_Say(std::move(say))
    , m_StageStarted(std::move(stageStarted))
    , m_StageEnded(std::move(stageEnded))
  {
    fs::create_directories(m_Stages);
  }

  void
  Run(const std::string & name, const json & settings, const std::function<void()> & work)
  {
    const fs::path marker = m_Stages / (name + ".json");
    ++m_Order;
    m_StageStarted(name);
    if (!m_Rerunning && fs::exists(marker))
    {
      const auto recorded = json::parse(FileChecks::ReadText(marker.string()), nullptr, false);
      if (!recorded.is_discarded() && recorded.value("settings", json()) == settings)
      {
        m_Say("[" + name + "] finished in an earlier run: kept");
        m_StageEnded();
        return;
      }
    }
    // Everything after a stage that runs again is stale: its inputs change.
    m_Rerunning = true;
    fs::remove(marker);
    m_Say("[" + name + "]");
    ++m_NumberRun;
    const auto start = std::chrono::steady_clock::now();
    work();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    AtomicFile::Write(
      marker.string(),
      json{ { "stage", name }, { "settings", settings }, { "seconds", seconds }, { "order", m_Order } }.dump(2),
      "the stage record");
    std::ostringstream line;
    line << "[" << name << "] " << std::fixed << std::setprecision(1) << seconds << " s";
    m_Say(line.str());
    m_StageEnded();
  }

  /** Stages run (not kept) so far. */
  unsigned int
  NumberRun() const
  {
    return m_NumberRun;
  }

private:
  fs::path                                 m_Stages;
  std::function<void(const std::string &)> m_Say;
  std::function<void(const std::string &)> m_StageStarted;
  std::function<void()>                    m_StageEnded;
  int                                      m_Order{ 0 };
  unsigned int                             m_NumberRun{ 0 };
  bool                                     m_Rerunning{ false };
};

json
Fingerprint(const PipelineSettings & c, const char * section)
{
  return json::parse(c.ToJSON())[section];
}

/** A training stage writes \p output with checkpoints (every tenth of its steps unless the config
 * says otherwise), continues from the checkpoint a killed run left, and runs where the config says.
 * Works for the pretraining, adaptation and regressor step settings alike. */
template <typename TStepSettings>
void
PrepareTrainingStage(TStepSettings & o, const std::string & output, const PipelineSettings & c)
{
  auto & t = o.Training;
  o.Output = output;
  t.CheckpointFileName = output + ".checkpoint";
  t.CheckpointInterval = t.CheckpointInterval > 0 ? t.CheckpointInterval : std::max(1u, t.NumberOfSteps / 10);
  t.Resume = fs::exists(t.CheckpointFileName);
  o.Force = true; // the pipeline's own file, from a run that did not finish
  t.Device = c.Device;
  o.Threads = c.Threads;
}
} // namespace

void
SpatialTranscriptomicsPipeline::PrepareResultsFolder(const std::string & folderName, const std::string & recordName,
                                                     const std::string & settings, const std::string & what, bool force)
{
  const fs::path folder(folderName);
  const fs::path recorded = folder / recordName;
  if (fs::exists(folder) && !fs::is_directory(folder))
  {
    itkGenericExceptionMacro(<< "The output " << folderName << " is a file, not a folder");
  }
  // What the folder holds besides the lock file (which the run's lock made, or an earlier run left).
  const auto heldOnlyTheLock = [&folder] {
    for (const auto & entry : fs::directory_iterator(folder))
    {
      if (entry.path().filename() != ResultsFolderLock::FileName())
      {
        return false;
      }
    }
    return true;
  };
  const bool empty = !fs::exists(folder) || heldOnlyTheLock();
  if (fs::exists(recorded))
  {
    if (FileChecks::ReadText(recorded.string()) != settings && !force)
    {
      itkGenericExceptionMacro(<< folderName << " holds the results of other settings (its " << recordName
                               << "); choose another output folder, or set Force (c2l: --force) to replace them "
                               << "(stages whose settings are unchanged are kept)");
    }
  }
  else if (!empty && !force)
  {
    itkGenericExceptionMacro(<< folderName << " is not empty and holds no " << what
                             << "; choose a new folder, or set Force (c2l: --force) to write into it");
  }
  fs::create_directories(folder);
  AtomicFile::Write(recorded.string(), settings, "the settings");
}

SpatialTranscriptomicsPipeline::SpatialTranscriptomicsPipeline()
  : m_StepRunner(MethodStepRunner::New())
{
  // The running stage's progress is the step runner's; an abort reaches it at its next report.
  auto forward = MemberCommand<Self>::New();
  forward->SetCallbackFunction(this, &Self::FollowStep);
  m_StepRunner->AddObserver(ProgressEvent(), forward);
}

void
SpatialTranscriptomicsPipeline::SetSettings(const PipelineSettings & settings)
{
  m_Settings = settings;
  this->Modified();
}

void
SpatialTranscriptomicsPipeline::Say(const std::string & message)
{
  m_Message = message;
  while (!m_Message.empty() && m_Message.back() == '\n')
  {
    m_Message.pop_back();
  }
  this->InvokeEvent(IterationEvent());
}

void
SpatialTranscriptomicsPipeline::FollowStep(Object *, const EventObject &)
{
  if (this->GetAbortGenerateData())
  {
    m_StepRunner->AbortGenerateDataOn();
  }
  this->ReportProgress(m_StagesEnded + m_StepRunner->GetProgress());
}

void
SpatialTranscriptomicsPipeline::ReportProgress(float stagesDone)
{
  // Never backwards: a stage's step may report its start after the stage before it was counted.
  const float progress = m_NumberOfStages > 0 ? std::min(1.0f, stagesDone / m_NumberOfStages) : 0.0f;
  m_LastProgress = std::max(progress, m_LastProgress);
  this->UpdateProgress(m_LastProgress);
}

void
SpatialTranscriptomicsPipeline::Update()
{
  const PipelineSettings & c = m_Settings;
  c.Validate();
  // Locked before anything is checked or written: two runs started at once never both write.
  const ResultsFolderLock lock(c.Output, "pipeline run");
  PrepareResultsFolder(c.Output, "pipeline.json", c.ToJSON(), "pipeline run", m_Force);
  // What an earlier run killed while writing left behind (its finished files are whole).
  AtomicFile::RemoveAbandonedTemporaries(c.Output);
  this->SetAbortGenerateData(false);
  m_StepRunner->SetAbortGenerateData(false);
  m_NumberOfStagesRun = 0;
  m_StagesEnded = 0;
  // extract, [tiles, pretrain,] adapt, synthesize, control, the regressors (real only, one per
  // ratio, the control, [one per imputation fold]), evaluate
  m_NumberOfStages = static_cast<unsigned int>(5 + (c.CentralModel.empty() ? 2 : 0) + c.Ratios.size() + 2 +
                                               (c.Imputation.Enabled ? c.Imputation.Folds : 0));
  this->InvokeEvent(StartEvent());
  m_LastProgress = 0.0f;
  this->UpdateProgress(0.0f);
  const fs::path folder(c.Output);
  const auto     path = [&folder](const std::string & name) { return (folder / name).string(); };
  StageRunner    stages(
    folder,
    [this](const std::string & message) { this->Say(message); },
    [this](const std::string & stage) { m_CurrentStage = stage; },
    [this] {
      ++m_StagesEnded;
      this->ReportProgress(static_cast<float>(m_StagesEnded));
      if (this->GetAbortGenerateData())
      {
        ProcessAborted e(__FILE__, __LINE__);
        e.SetDescription("The pipeline was aborted after the stage " + m_CurrentStage + "; Update resumes it");
        throw e;
      }
    });
  const json inputs{ { "slide", c.Slide }, { "spots", c.Spots }, { "pixel_size_um", c.PixelSize } };

  const std::string dataset = path("dataset.h5");
  stages.Run("extract", { { "inputs", inputs }, { "extraction", Fingerprint(c, "extraction") } }, [&] {
    ExtractionStepSettings o = c.Extraction;
    o.Slide = c.Slide;
    o.Spots = c.Spots;
    o.PixelSize = c.PixelSize;
    o.Output = dataset;
    o.Force = true; // the pipeline's own file, from a run that did not finish
    this->Say(m_StepRunner->Extract(o));
  });
  const auto        real = SpotPatchDataset::Read(dataset);
  const std::size_t trainingSpots = real->GetSpots()->GetSpotIndices(true).size();
  if (real->GetSpots()->GetSpotIndices(false).empty() || real->GetSpots()->GetSplit().empty())
  {
    itkGenericExceptionMacro(<< "The split left no test spot to evaluate on; lower extraction.fraction");
  }
  if (c.Imputation.Enabled)
  {
    PipelineImputation::FindGrid(*real->GetSpots());
  }

  std::string central = c.CentralModel;
  if (central.empty())
  {
    const std::string tiles = path("tiles.h5");
    stages.Run(
      "tiles", { { "inputs", inputs }, { "extraction", Fingerprint(c, "extraction") }, { "tiles", c.Tiles } }, [&] {
        ExtractionStepSettings o = c.Extraction;
        o.Slide = c.Slide;
        o.Spots.clear();
        o.Tiles = c.Tiles;
        o.PixelSize = real->GetSpots()->GetPixelSize(); // as the extraction found it
        o.Output = tiles;
        o.Force = true;
        this->Say(m_StepRunner->Extract(o));
      });
    central = path("central.safetensors");
    stages.Run("pretrain", Fingerprint(c, "pretraining"), [&] {
      PretrainingStepSettings o = c.Pretraining;
      o.Data = { tiles };
      PrepareTrainingStage(o, central, c);
      this->Say(m_StepRunner->Pretrain(o));
      fs::remove(o.Training.CheckpointFileName);
    });
  }

  const std::string local = path("local.safetensors");
  stages.Run("adapt", { { "central", central }, { "adaptation", Fingerprint(c, "adaptation") } }, [&] {
    AdaptationStepSettings o = c.Adaptation;
    o.Central = central;
    o.Data = dataset;
    PrepareTrainingStage(o, local, c);
    this->Say(m_StepRunner->Adapt(o));
    fs::remove(o.Training.CheckpointFileName);
  });

  // One synthesis at the largest ratio; each lower ratio trains on its first pairs (the profiles
  // are independent draws, so a prefix is a draw at the lower ratio).
  const double      largestRatio = *std::max_element(c.Ratios.begin(), c.Ratios.end());
  const std::string synthetic = path("synthetic.h5");
  stages.Run("synthesize", { { "ratio", largestRatio }, { "synthesis", Fingerprint(c, "synthesis") } }, [&] {
    SamplingStepSettings o = c.Synthesis;
    o.Model = local;
    o.Central = central;
    o.Expression = dataset;
    o.Ratio = largestRatio;
    o.GuidanceGiven = true;
    o.Output = synthetic;
    o.Force = true;
    o.Device = c.Device;
    o.Threads = c.Threads;
    this->Say(m_StepRunner->Sample(o));
  });

  // The control: the same pairs with images from no model, each pixel drawn from the real training
  // patches, so that the report can say what the generator adds beyond its profiles.
  const std::string control = path("control.h5");
  stages.Run("control", { { "ratio", largestRatio }, { "synthesis", Fingerprint(c, "synthesis") } }, [&] {
    // A smart pointer: the selected dataset is a temporary, its patches must outlive it.
    const SpotPatchDataset::PatchStackType::Pointer trainingPatches =
      real->Select(real->GetSpots()->GetSpotIndices(true))->GetPatches();
    ColourNoisePatches::MakeControl(*SpotPatchDataset::Read(synthetic), trainingPatches, c.Synthesis.Seed)
      ->Write(control);
  });

  std::vector<PipelineRegressor> regressors{ { "real only", 0.0, path("regressor_real.safetensors") } };
  for (const double ratio : c.Ratios)
  {
    std::ostringstream name;
    name << "regressor_r" << ratio << ".safetensors";
    regressors.push_back({ "real + synthetic x" + PipelineEvaluation::FormatRatio(ratio), ratio, path(name.str()) });
  }
  regressors.push_back({ "real + colour-noise control x" + PipelineEvaluation::FormatRatio(largestRatio),
                         largestRatio,
                         path("regressor_control_r" + PipelineEvaluation::FormatRatio(largestRatio) + ".safetensors"),
                         true });
  for (const auto & regressor : regressors)
  {
    const std::string stage = regressor.Control ? "regress-control-r" + PipelineEvaluation::FormatRatio(regressor.Ratio)
                              : regressor.Ratio > 0 ? "regress-r" + PipelineEvaluation::FormatRatio(regressor.Ratio)
                                                    : "regress-real";
    stages.Run(stage, { { "ratio", regressor.Ratio }, { "regressor", Fingerprint(c, "regressor") } }, [&] {
      RegressorTrainingStepSettings o = c.Regressor;
      o.Data = dataset;
      if (regressor.Ratio > 0)
      {
        o.Synthetic = regressor.Control ? control : synthetic;
        o.SyntheticPairs = ConditioningProfiles::Number(regressor.Ratio, trainingSpots);
      }
      PrepareTrainingStage(o, regressor.File, c);
      this->Say(m_StepRunner->TrainRegressor(o));
      fs::remove(o.Training.CheckpointFileName);
    });
  }

  // The imputation's combination weighs S2S-ST against the real-only regressor on held-out
  // predictions of the training spots: one real-only regressor per fold, trained on the others.
  std::vector<std::string> foldRegressors;
  if (c.Imputation.Enabled)
  {
    const auto folds = PipelineImputation::TrainingFolds(*real->GetSpots(), c.Imputation);
    const auto training = real->GetSpots()->GetSpotIndices(true);
    for (unsigned int fold = 0; fold < c.Imputation.Folds; ++fold)
    {
      const std::string file = path("regressor_real_fold" + std::to_string(fold) + ".safetensors");
      foldRegressors.push_back(file);
      const json settings{ { "fold", fold },
                           { "folds", c.Imputation.Folds },
                           { "seed", c.Imputation.Seed },
                           { "regressor", Fingerprint(c, "regressor") } };
      stages.Run("regress-real-fold" + std::to_string(fold), settings, [&] {
        RegressorTrainingStepSettings o = c.Regressor;
        o.Data = dataset;
        for (std::size_t t = 0; t < training.size(); ++t)
        {
          if (folds[t] == fold)
          {
            o.ExcludedSpots.push_back(training[t]);
          }
        }
        PrepareTrainingStage(o, file, c);
        this->Say(m_StepRunner->TrainRegressor(o));
        fs::remove(o.Training.CheckpointFileName);
      });
    }
  }

  stages.Run("evaluate",
             { { "evaluation", Fingerprint(c, "evaluation") }, { "imputation", Fingerprint(c, "imputation") } },
             [&] {
               this->Say(PipelineEvaluation::Summary(PipelineEvaluation::Run(
                 c, dataset, synthetic, control, regressors, foldRegressors, path("evaluation"))));
             });
  m_EvaluationResults = PipelineEvaluationResults::Read((fs::path(path("evaluation")) / "evaluation.json").string());
  m_NumberOfStagesRun = stages.NumberRun();
  this->UpdateProgress(1.0f);
  this->InvokeEvent(EndEvent());
}

std::vector<PipelineStageTiming>
SpatialTranscriptomicsPipeline::ReadStageTimings(const std::string & folder)
{
  std::vector<std::pair<int, PipelineStageTiming>> found;
  const fs::path                                   stages = fs::path(folder) / "stages";
  if (fs::is_directory(stages))
  {
    for (const auto & entry : fs::directory_iterator(stages))
    {
      if (entry.path().extension() != ".json")
      {
        continue;
      }
      const auto recorded = json::parse(FileChecks::ReadText(entry.path().string()), nullptr, false);
      if (recorded.is_discarded())
      {
        continue;
      }
      found.push_back(
        { recorded.value("order", 0), { recorded.value("stage", std::string()), recorded.value("seconds", 0.0) } });
    }
  }
  std::sort(found.begin(), found.end(), [](const auto & a, const auto & b) { return a.first < b.first; });
  std::vector<PipelineStageTiming> timings;
  for (auto & f : found)
  {
    timings.push_back(std::move(f.second));
  }
  return timings;
}

void
SpatialTranscriptomicsPipeline::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Settings: " << m_Settings.ToJSON() << std::endl;
  os << indent << "Force: " << m_Force << std::endl;
  os << indent << "CurrentStage: " << m_CurrentStage << std::endl;
  os << indent << "Message: " << m_Message << std::endl;
  os << indent << "NumberOfStagesRun: " << m_NumberOfStagesRun << std::endl;
  os << indent << "NumberOfStages: " << m_NumberOfStages << std::endl;
  os << indent << "StagesEnded: " << m_StagesEnded << std::endl;
  os << indent << "LastProgress: " << m_LastProgress << std::endl;
  os << indent << "StepRunner: " << m_StepRunner.GetPointer() << std::endl;
  os << indent << "EvaluationResults: " << m_EvaluationResults.Regressors.size() << " regressors on "
     << m_EvaluationResults.TestSpots << " test spots" << std::endl;
}

} // end namespace itk
