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

// PipelineEvaluationResults: what ToJSON writes, Parse reads back unchanged (NaN as null included),
// the JSON keys the report and the study relied on are the ones written, and an older or foreign
// file gives a clear error or the documented defaults.

#include "itkPipelineEvaluationResults.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace
{
itk::PipelineEvaluationResults
Filled()
{
  const double                   nan = std::numeric_limits<double>::quiet_NaN();
  itk::PipelineEvaluationResults r;
  r.TrainingSpots = 40;
  r.TestSpots = 120;
  r.SyntheticPairs = 400;
  r.GeneNames = { "ERBB2", "GAPDH" };
  itk::RegressorEvaluation realOnly;
  realOnly.Label = "real only";
  realOnly.File = "regressor_real.safetensors";
  realOnly.MeanAbsoluteError = 0.5;
  realOnly.RootMeanSquaredError = 0.75;
  realOnly.MeanPearson = 0.25;
  realOnly.MeanSpearman = nan; // a correlation over constant genes
  realOnly.GeneMeanAbsoluteError = { 0.4, 0.6 };
  realOnly.GenePearson = { 0.5, nan };
  itk::RegressorEvaluation cotrained = realOnly;
  cotrained.Label = "real + synthetic x10";
  cotrained.Ratio = 10.0;
  cotrained.GenesImproved = 1;
  r.Regressors = { realOnly, cotrained };
  r.MeanBaselineAbsoluteError = 0.55;
  r.MeanBaselineRootMeanSquaredError = 0.8;
  itk::RegressorEvaluation imputed = realOnly;
  imputed.Label = "S2S-ST imputation";
  imputed.File.clear();
  imputed.GenesImproved = 2;
  r.Imputation = { imputed };
  r.CombinationWeights = { 0.25, 1.0 };
  r.ImputationGrid = "spot ids, 33 x 35";
  r.ImputationSeconds = 12.5;
  r.SpatialX = { 1.0, 2.0 };
  r.SpatialY = { 3.0, 4.0 };
  r.Maps = { { "ERBB2", { 1.0, 2.0 }, { 1.5, 1.5 }, { 1.2, 1.8 } } };
  r.CotrainedLabel = cotrained.Label;
  r.FeatureSize = 2048;
  r.SyntheticNearestCosine = 0.9;
  r.TestNearestCosine = 0.95;
  r.SyntheticFrechet = 12.5;
  r.TestFrechet = 3.25;
  r.EmbeddingX = { 0.1, -0.1 };
  r.EmbeddingY = { 0.2, -0.2 };
  r.EmbeddingGroup = { 0, 1 };
  r.EmbeddingExplainedVariance = { { 0.5, 0.25 } };
  r.SampleMeasures = { { "synthetic", 0.75, 10.0, 8.0, 2.0, 1.5 } };
  r.Composition = { { 0, 20, 200, 0.25, 0.125, 0.3, 0.1, { 1, 2 }, { 3 } } };
  r.NuclearThreshold = 0.6;
  return r;
}
} // namespace

TEST(PipelineEvaluationResults, ParseReadsBackWhatToJSONWrites)
{
  const auto written = Filled().ToJSON();
  const auto read = itk::PipelineEvaluationResults::Parse(written);
  EXPECT_EQ(read.ToJSON(), written);
  EXPECT_TRUE(std::isnan(read.Regressors[0].MeanSpearman));
  EXPECT_TRUE(std::isnan(read.Regressors[0].GenePearson[1]));
  EXPECT_EQ(read.Regressors[0].GenesImproved, -1);
  EXPECT_EQ(read.Regressors[1].GenesImproved, 1);
  EXPECT_EQ(read.Composition[0].RealExamples, (std::vector<std::size_t>{ 1, 2 }));
  EXPECT_EQ(read.EmbeddingExplainedVariance[1], 0.25);
  ASSERT_EQ(read.Imputation.size(), 1u);
  EXPECT_EQ(read.Imputation[0].Label, "S2S-ST imputation");
  EXPECT_EQ(read.Imputation[0].GenesImproved, 2);
  EXPECT_EQ(read.CombinationWeights, (std::vector<double>{ 0.25, 1.0 }));
  EXPECT_EQ(read.ImputationGrid, "spot ids, 33 x 35");
}

TEST(PipelineEvaluationResults, WritesTheKeysOfEvaluationJSON)
{
  const auto json = nlohmann::json::parse(Filled().ToJSON());
  EXPECT_EQ(json["genes"], 2);
  EXPECT_EQ(json["regressors"][0]["mean_spearman"], nullptr); // NaN is null
  EXPECT_FALSE(json["regressors"][0].contains("genes_improved"));
  EXPECT_EQ(json["regressors"][1]["genes_improved"], 1);
  EXPECT_EQ(json["mean_baseline"]["rmse"], 0.8);
  EXPECT_EQ(json["spatial"]["cotrained_label"], "real + synthetic x10");
  EXPECT_EQ(json["spatial"]["maps"][0]["real_only"][0], 1.5);
  EXPECT_EQ(json["fidelity"]["embedding"]["explained"][0], 0.5);
  EXPECT_EQ(json["fidelity"]["test_frechet"], 3.25);
  EXPECT_EQ(json["sample_measures"][0]["classifier_auc"], 0.75);
  EXPECT_EQ(json["composition"][0]["synthetic_examples"][0], 3);
  EXPECT_EQ(json["nuclear_threshold"], 0.6);
  EXPECT_EQ(json["imputation"]["predictors"][0]["genes_improved"], 2);
  EXPECT_EQ(json["imputation"]["combination_weights"][0], 0.25);
  EXPECT_EQ(json["imputation"]["seconds"], 12.5);
}

TEST(PipelineEvaluationResults, OlderFilesAndForeignFiles)
{
  auto json = nlohmann::json::parse(Filled().ToJSON());
  json.erase("mean_baseline");
  json.erase("sample_measures");
  json["spatial"].erase("cotrained_label");
  json.erase("imputation");
  const auto older = itk::PipelineEvaluationResults::Parse(json.dump());
  EXPECT_TRUE(older.Imputation.empty());
  EXPECT_TRUE(older.CombinationWeights.empty());
  EXPECT_TRUE(std::isnan(older.MeanBaselineAbsoluteError));
  EXPECT_TRUE(older.SampleMeasures.empty());
  EXPECT_EQ(older.CotrainedLabel, "");

  json.erase("fidelity");
  try
  {
    itk::PipelineEvaluationResults::Parse(json.dump());
    FAIL() << "a file without \"fidelity\" was accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("\"fidelity\""), std::string::npos) << e.GetDescription();
  }
  EXPECT_THROW(itk::PipelineEvaluationResults::Parse("not json"), itk::ExceptionObject);
  EXPECT_THROW(itk::PipelineEvaluationResults::Read("/nonexistent/evaluation.json"), itk::ExceptionObject);
}
