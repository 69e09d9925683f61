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

// ImputationEvaluation::Evaluate: the splits of both protocols, the gene choice on measured spots only, the
// methods each protocol admits, and the errors for genes that are absent or splits without spots.

#include "itkSpatialImputationEvaluation.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace
{
/** A 12 x 10 legacy ST section with three genes: two smooth fields and one of pure noise. */
itk::SpatialExpressionData::Pointer
Section()
{
  auto                     spots = itk::SpatialExpressionData::New();
  std::vector<std::string> ids;
  std::vector<float>       counts;
  for (int y = 1; y <= 10; ++y)
  {
    for (int x = 1; x <= 12; ++x)
    {
      ids.push_back(std::to_string(x) + "x" + std::to_string(y));
      counts.push_back(std::round(20.0f + 15.0f * std::sin(x / 3.0f)));
      counts.push_back(std::round(10.0f + 0.8f * y));
      counts.push_back(static_cast<float>((x * 7919 + y * 104729) % 13));
    }
  }
  spots->SetSpots(ids, std::vector<itk::SpatialExpressionData::PositionType>(ids.size(), { { 0.0, 0.0 } }));
  spots->SetGenes({ "WAVE", "RAMP", "NOISE" });
  spots->SetCounts(itk::SparseCountMatrix::FromDense(ids.size(), 3, counts));
  return spots;
}
} // namespace

TEST(SpatialImputationEvaluation, PhaseSplitRunsEveryMethodOnTheHeldOutSpots)
{
  const auto spots = Section();
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  const auto split = itk::ImputationSplit::MakePhase(grid, "downright");
  // Odd array coordinates relative to the grid origin (1x1 is column 0): 1 spot in 4.
  EXPECT_EQ(std::count(split.Measured.begin(), split.Measured.end(), 1), 30);
  itk::ImputationEvaluationSettings settings;
  settings.Genes.TopGenes = 3;
  settings.MostVariableGenes = 2;
  auto filter = itk::SparseToSparseImputationFilter::New();
  filter->SetWidth(8);
  filter->SetGrowthRate(8);
  filter->SetNumberOfSteps(10);
  const auto            evaluation = itk::ImputationEvaluation::Evaluate(*spots, grid, split, settings, filter);
  std::set<std::string> methods;
  for (const auto & method : evaluation.Methods)
  {
    methods.insert(method.Method);
    EXPECT_EQ(method.AllGenes.HeldOut.Spots, 90u);
    EXPECT_EQ(method.MostVariableGenes.HeldOut.Genes.size(), 2u);
    EXPECT_EQ(method.SpotValues.size(), 120u * 3u);
  }
  EXPECT_EQ(methods,
            (std::set<std::string>{ "mean", "median", "knn", "gaussian", "bilinear", "cubic-bspline", "s2s-st" }));
  // The smooth genes are recovered by the interpolating fill far better than by the mean.
  const auto & bilinear = evaluation.Methods[4];
  ASSERT_EQ(bilinear.Method, "bilinear");
  EXPECT_LT(bilinear.AllGenes.HeldOut.GeneMeanAbsoluteError[0],
            0.5 * evaluation.Methods[0].AllGenes.HeldOut.GeneMeanAbsoluteError[0]);
  const auto json = nlohmann::json::parse(evaluation.ToJSON());
  EXPECT_EQ(json["methods"].size(), 7u);
  EXPECT_EQ(json["split"], "downright");
  EXPECT_FALSE(spots->HasExpression()); // the input is not modified
  const std::string table = evaluation.PredictionsToTSV(spots->GetSpotIds());
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 121);
  EXPECT_EQ(table.substr(0, table.find('\n')).find("spot\tmeasured\tmean:"), 0u);
  EXPECT_NE(table.find("\n12x10\t1\t"), std::string::npos); // (11, 9) from the origin: downright, measured
  EXPECT_THROW(evaluation.PredictionsToTSV({ "a" }), itk::ExceptionObject);
}

TEST(SpatialImputationEvaluation, RandomSplitHasNoLatticeFills)
{
  const auto spots = Section();
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  const auto split = itk::ImputationSplit::MakeRandom(spots->GetNumberOfSpots(), 0.25, 3);
  EXPECT_EQ(std::count(split.Measured.begin(), split.Measured.end(), 1), 30);
  // The same split as the pipeline's (SpatialExpressionData::MakeRandomSplit with the same seed).
  auto copy = spots->SelectSpots(spots->GetSpotIndices(true));
  copy->MakeRandomSplit(0.25, 3);
  EXPECT_EQ(copy->GetSplit(), split.Measured);
  itk::ImputationEvaluationSettings settings;
  settings.Genes.TopGenes = 3;
  const auto            evaluation = itk::ImputationEvaluation::Evaluate(*spots, grid, split, settings);
  std::set<std::string> methods;
  for (const auto & method : evaluation.Methods)
  {
    methods.insert(method.Method);
  }
  EXPECT_EQ(methods, (std::set<std::string>{ "mean", "median", "knn", "gaussian" }));
}

TEST(SpatialImputationEvaluation, BadInputIsRefused)
{
  const auto                        spots = Section();
  const auto                        grid = itk::SpotGrid::FromSpots(*spots);
  itk::ImputationEvaluationSettings settings;
  settings.Genes.GeneList = { "WAVE", "ABSENT" };
  EXPECT_THROW(
    itk::ImputationEvaluation::Evaluate(*spots, grid, itk::ImputationSplit::MakePhase(grid, "upleft"), settings),
    itk::ExceptionObject);
  settings.Genes.GeneList.clear();
  itk::ImputationSplit none{ "none", std::vector<std::uint8_t>(spots->GetNumberOfSpots(), 0) };
  EXPECT_THROW(itk::ImputationEvaluation::Evaluate(*spots, grid, none, settings), itk::ExceptionObject);
  itk::ImputationSplit all{ "all", std::vector<std::uint8_t>(spots->GetNumberOfSpots(), 1) };
  EXPECT_THROW(itk::ImputationEvaluation::Evaluate(*spots, grid, all, settings), itk::ExceptionObject);
  itk::ImputationSplit short_{ "short", std::vector<std::uint8_t>(5, 1) };
  EXPECT_THROW(itk::ImputationEvaluation::Evaluate(*spots, grid, short_, settings), itk::ExceptionObject);
  EXPECT_THROW(itk::ImputationSplit::MakeRandom(10, 0.0, 1), itk::ExceptionObject);
}

TEST(SpatialImputationEvaluation, MakeChoosesTheProtocolFromWhatIsGiven)
{
  const auto spots = Section();
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  const auto random = itk::ImputationSplit::Make(grid, 0.25, "", 3);
  EXPECT_EQ(random.Measured, itk::ImputationSplit::MakeRandom(spots->GetNumberOfSpots(), 0.25, 3).Measured);
  const auto phase = itk::ImputationSplit::Make(grid, 0.0, "upright", 3);
  EXPECT_EQ(phase.Name, itk::ImputationSplit::MakePhase(grid, "upright").Name);
  EXPECT_EQ(phase.Measured, itk::ImputationSplit::MakePhase(grid, "upright").Measured);
  EXPECT_THROW(itk::ImputationSplit::Make(grid, 0.25, "upright", 3), itk::ExceptionObject); // both
  EXPECT_THROW(itk::ImputationSplit::Make(grid, 0.0, "", 3), itk::ExceptionObject);         // neither
}
