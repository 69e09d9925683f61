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

#include "itkDiffusionModel.h"
#include "itkResultsFolderLock.h"
#include "itkSpatialTranscriptomicsPipeline.h"

#include "itkMethodTestSlide.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace
{
namespace fs = std::filesystem;

class SpatialTranscriptomicsPipeline : public itkMethodTest::SlideFixture
{
protected:
  /** A pipeline whose messages and progress are recorded. */
  itk::SpatialTranscriptomicsPipeline::Pointer
  Observed(const itk::PipelineSettings & settings)
  {
    auto         pipeline = itk::SpatialTranscriptomicsPipeline::New();
    const auto * observed = pipeline.GetPointer();
    pipeline->SetSettings(settings);
    pipeline->AddObserver(itk::IterationEvent(), [this, observed](const itk::EventObject &) {
      m_Messages += std::string(observed->GetMessage()) + "\n";
    });
    pipeline->AddObserver(itk::ProgressEvent(), [this, observed](const itk::EventObject &) {
      m_Progress.push_back(observed->GetProgress());
    });
    return pipeline;
  }
  std::string        m_Messages;
  std::vector<float> m_Progress;
};

TEST_F(SpatialTranscriptomicsPipeline, RunsEveryStageThenKeepsThemAll)
{
  auto pipeline = Observed(TinySettings());
  EXPECT_STREQ(pipeline->GetNameOfClass(), "SpatialTranscriptomicsPipeline");
  pipeline->Update();
  // extract, tiles, pretrain, adapt, synthesize, control, real only, x1, control x1, the two
  // imputation folds' real-only regressors, evaluate
  EXPECT_EQ(pipeline->GetNumberOfStagesRun(), 12u);
  EXPECT_EQ(std::string(pipeline->GetCurrentStage()), "evaluate");
  for (const char * text : { "[extract]\n",
                             "[tiles]\nwrote ",
                             "[pretrain]\n",
                             "[regress-r1]\n",
                             "[regress-real-fold1]\n",
                             "real only: MAE " })
  {
    EXPECT_NE(m_Messages.find(text), std::string::npos) << text << "\n----\n" << m_Messages;
  }
  for (const char * file : { "dataset.h5",
                             "central.safetensors",
                             "local.safetensors",
                             "synthetic.h5",
                             "control.h5",
                             "regressor_real.safetensors",
                             "evaluation/evaluation.json",
                             "stages/evaluate.json" })
  {
    EXPECT_TRUE(fs::exists(Path("run/" + std::string(file)))) << file;
  }
  EXPECT_FALSE(fs::exists(Path("run/report.md"))); // the report is the tool's
  ASSERT_FALSE(m_Progress.empty());
  std::ostringstream sequence;
  for (const float p : m_Progress)
  {
    sequence << p << ' ';
  }
  EXPECT_TRUE(std::is_sorted(m_Progress.begin(), m_Progress.end())) << sequence.str();
  EXPECT_FLOAT_EQ(m_Progress.back(), 1.0f);
  EXPECT_EQ(itk::SpatialTranscriptomicsPipeline::ReadStageTimings(Path("run")).size(), 12u);
  const auto & results = pipeline->GetEvaluationResults();
  ASSERT_EQ(results.Imputation.size(), 3u);
  EXPECT_EQ(results.CombinationWeights.size(), results.GeneNames.size());

  // The same settings again: nothing runs.
  m_Messages.clear();
  pipeline->Update();
  EXPECT_EQ(pipeline->GetNumberOfStagesRun(), 0u);
  EXPECT_NE(m_Messages.find("[adapt] finished in an earlier run: kept"), std::string::npos) << m_Messages;

  std::ostringstream printed;
  pipeline->Print(printed);
  for (const char * member : { "Settings: ", "Force: 0", "NumberOfStagesRun: 0", "StepRunner: " })
  {
    EXPECT_NE(printed.str().find(member), std::string::npos) << member;
  }
}

TEST_F(SpatialTranscriptomicsPipeline, OtherSettingsNeedForceAndRerunOnlyFromWhatChanged)
{
  Observed(TinySettings())->Update();
  auto changed = TinySettings();
  changed.Regressor.Training.NumberOfSteps = 3;
  auto pipeline = Observed(changed);
  EXPECT_THROW(pipeline->Update(), itk::ExceptionObject);
  pipeline->ForceOn();
  m_Messages.clear();
  pipeline->Update();
  EXPECT_NE(m_Messages.find("[adapt] finished in an earlier run: kept"), std::string::npos) << m_Messages;
  EXPECT_NE(m_Messages.find("[regress-real]\n"), std::string::npos) << m_Messages;
  EXPECT_EQ(pipeline->GetNumberOfStagesRun(), 6u); // the three regressors, the two fold regressors, the evaluation
}

TEST_F(SpatialTranscriptomicsPipeline, PretrainingContinuesTheModelItIsGiven)
{
  auto first = TinySettings();
  first.Pretraining.Training.PredictionType = "epsilon"; // not the settings' default (the CPU recipe's v_prediction)
  Observed(first)->Update();
  const std::string given = Path("given.safetensors");
  fs::copy_file(Path("run/central.safetensors"), given);
  auto settings = TinySettings();
  settings.Output = Path("continued");
  settings.Pretraining.InitialModel = given;
  settings.Pretraining.Training.BaseChannels = 16; // not used: the given model's U-Net (8 channels) is kept
  // A config that continues a model and states no prediction type trains the model's.
  auto config = nlohmann::json::parse(settings.ToJSON());
  config["pretraining"].erase("prediction");
  settings = itk::PipelineSettings::Parse(config.dump(), Path(""));
  EXPECT_TRUE(settings.Pretraining.PredictionTypeOfInitialModel);
  EXPECT_TRUE(nlohmann::json::parse(settings.ToJSON())["pretraining"]["prediction"].is_null()); // written as read
  Observed(settings)->Update();
  EXPECT_NE(m_Messages.find("starting from " + given), std::string::npos) << m_Messages;

  auto continued = itk::DiffusionModel::New();
  continued->Load(Path("continued/central.safetensors"));
  auto initial = itk::DiffusionModel::New();
  initial->Load(given);
  EXPECT_EQ(continued->GetUNetConfiguration(), initial->GetUNetConfiguration());
  EXPECT_EQ(continued->GetPredictionType(), "epsilon");

  // One that states another is refused, naming the model's.
  config["pretraining"]["prediction"] = "v_prediction";
  settings = itk::PipelineSettings::Parse(config.dump(), Path(""));
  settings.Output = Path("refused");
  try
  {
    Observed(settings)->Update();
    ADD_FAILURE() << "continuing an epsilon model as v_prediction was accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("predicts epsilon"), std::string::npos) << e.GetDescription();
  }
  EXPECT_FALSE(fs::exists(Path("refused/central.safetensors")));
}

TEST_F(SpatialTranscriptomicsPipeline, AnAbortStopsTheRunAndUpdateResumesIt)
{
  auto         pipeline = Observed(TinySettings());
  const auto * observed = pipeline.GetPointer();
  pipeline->AddObserver(itk::IterationEvent(), [observed](const itk::EventObject &) {
    if (std::string(observed->GetMessage()) == "[adapt]")
    {
      const_cast<itk::SpatialTranscriptomicsPipeline *>(observed)->AbortGenerateDataOn();
    }
  });
  EXPECT_THROW(pipeline->Update(), itk::ProcessAborted);
  EXPECT_FALSE(fs::exists(Path("run/local.safetensors")));
  EXPECT_TRUE(fs::exists(Path("run/central.safetensors")));

  auto resumed = Observed(TinySettings());
  m_Messages.clear();
  resumed->Update();
  EXPECT_NE(m_Messages.find("[pretrain] finished in an earlier run: kept"), std::string::npos) << m_Messages;
  EXPECT_EQ(resumed->GetNumberOfStagesRun(), 9u); // adapt onwards
}

TEST_F(SpatialTranscriptomicsPipeline, SettingsThatCannotWorkAreRefusedBeforeAnyWork)
{
  auto settings = TinySettings();
  settings.Extraction.Fraction = 1.0;
  EXPECT_THROW(Observed(settings)->Update(), itk::ExceptionObject);
  settings = TinySettings();
  settings.Slide = Path("slide/missing.tif");
  EXPECT_THROW(Observed(settings)->Update(), itk::ExceptionObject);
  settings = TinySettings();
  settings.Ratios.clear();
  EXPECT_THROW(Observed(settings)->Update(), itk::ExceptionObject);
  EXPECT_FALSE(fs::exists(Path("run")));

  // A folder holding a user's files is not a pipeline's: refused, and the files are kept.
  fs::create_directories(Path("run"));
  std::ofstream(Path("run/notes.txt")) << "mine";
  EXPECT_THROW(Observed(TinySettings())->Update(), itk::ExceptionObject);
  EXPECT_TRUE(fs::exists(Path("run/notes.txt")));
  EXPECT_FALSE(fs::exists(Path("run/pipeline.json")));
}

TEST_F(SpatialTranscriptomicsPipeline, ARunIsRefusedWhileAnotherWritesIntoItsFolder)
{
  {
    const itk::ResultsFolderLock otherRun(Path("run"), "pipeline run");
    try
    {
      Observed(TinySettings())->Update();
      ADD_FAILURE() << "a second run wrote into a folder another run holds";
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find("Another pipeline run is writing into " + Path("run")),
                std::string::npos)
        << e.GetDescription();
    }
    EXPECT_FALSE(fs::exists(Path("run/pipeline.json"))) << "the refused run wrote nothing";
  }
  // Once the other run has ended, the folder (holding only the lock file it left) takes a run.
  auto pipeline = Observed(TinySettings());
  pipeline->Update();
  EXPECT_TRUE(fs::exists(Path("run/pipeline.json")));
}

} // namespace
