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

// The sampling-fraction study as a library class: one pipeline per fraction in its own folder, the
// first run's central model given to the next, typed results equal to each run's evaluation.json,
// study_results.json from them, and fractions that cannot work refused before any work.

#include "itkSamplingFractionStudy.h"

#include "itkMethodTestSlide.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace
{
namespace fs = std::filesystem;

class SamplingFractionStudy : public itkMethodTest::SlideFixture
{};

std::string
TextOf(const std::string & path)
{
  std::ifstream     file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}
} // namespace

TEST_F(SamplingFractionStudy, RunsEachFractionAndSharesTheCentralModel)
{
  auto settings = TinySettings();
  settings.Output = Path("study");
  auto study = itk::SamplingFractionStudy::New();
  study->SetSettings(settings);
  study->SetFractions({ 0.25, 0.5 });
  std::vector<std::string> finished;
  const auto *             observed = study.GetPointer();
  study->AddObserver(itk::IterationEvent(), [&finished, observed](const itk::EventObject &) {
    finished.push_back(observed->GetRuns().back().Folder);
  });
  study->Update();

  EXPECT_EQ(finished, (std::vector<std::string>{ "fraction-25", "fraction-50" }));
  ASSERT_EQ(study->GetRuns().size(), 2u);
  EXPECT_FLOAT_EQ(study->GetProgress(), 1.0f);
  // The second run adapts the first run's central model: it pretrains none of its own.
  EXPECT_TRUE(fs::exists(Path("study/fraction-25/central.safetensors")));
  EXPECT_FALSE(fs::exists(Path("study/fraction-50/central.safetensors")));
  // 60 spots: a quarter, then a half, for adaptation and training; the rest are the test spots.
  EXPECT_EQ(study->GetRuns()[0].Results.TrainingSpots, 15u);
  EXPECT_EQ(study->GetRuns()[1].Results.TrainingSpots, 30u);
  EXPECT_EQ(study->GetRuns()[1].Results.TestSpots, 30u);
  for (const auto & run : study->GetRuns())
  {
    const auto written =
      itk::PipelineEvaluationResults::Read(Path("study/" + run.Folder + "/evaluation/evaluation.json"));
    EXPECT_EQ(run.Results.ToJSON(), written.ToJSON());
    EXPECT_GT(run.Seconds, 0.0);
  }
  EXPECT_EQ(TextOf(Path("study/study_results.json")), itk::SamplingFractionStudy::RunsToJSON(study->GetRuns()));
  const auto results = nlohmann::json::parse(TextOf(Path("study/study_results.json")));
  EXPECT_EQ(results[1]["fraction"], 0.5);
  EXPECT_EQ(results[1]["regressors"][0]["label"], study->GetRuns()[1].Results.Regressors[0].Label);
}

TEST_F(SamplingFractionStudy, AGivenInitialModelIsContinuedOnceForAllRuns)
{
  auto first = TinySettings();
  first.Output = Path("first");
  auto study = itk::SamplingFractionStudy::New();
  study->SetSettings(first);
  study->SetFractions({ 0.25 });
  study->Update();

  // Continuing that model: the first run continues it on the tiles, the second adapts the result
  // (a run given both central_model and pretraining.init would be refused).
  auto settings = TinySettings();
  settings.Output = Path("study");
  settings.Pretraining.InitialModel = Path("first/fraction-25/central.safetensors");
  study->SetSettings(settings);
  study->SetFractions({ 0.25, 0.5 });
  study->Update();
  ASSERT_EQ(study->GetRuns().size(), 2u);
  EXPECT_TRUE(fs::exists(Path("study/fraction-25/central.safetensors")));
  EXPECT_FALSE(fs::exists(Path("study/fraction-50/central.safetensors")));
  const auto secondRun = itk::PipelineSettings::Read(Path("study/fraction-50/pipeline.json"));
  EXPECT_EQ(secondRun.CentralModel, Path("study/fraction-25/central.safetensors"));
  EXPECT_TRUE(secondRun.Pretraining.InitialModel.empty());
}

TEST_F(SamplingFractionStudy, RefusesFractionsThatCannotWork)
{
  auto settings = TinySettings();
  settings.Output = Path("study");
  const auto refusal = [&](const std::vector<double> & fractions) -> std::string {
    auto study = itk::SamplingFractionStudy::New();
    study->SetSettings(settings);
    study->SetFractions(fractions);
    try
    {
      study->Update();
    }
    catch (const itk::ExceptionObject & e)
    {
      return e.GetDescription();
    }
    return "accepted";
  };
  EXPECT_NE(refusal({}).find("at least one"), std::string::npos);
  EXPECT_NE(refusal({ 0.5, 1.0 }).find("(0, 1)"), std::string::npos);
  EXPECT_NE(refusal({ 0.25, 0.25 }).find("twice"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("study"))) << "a refused study wrote its folder";
  EXPECT_EQ(itk::SamplingFractionStudy::FolderName(0.125), "fraction-12.5");
}
