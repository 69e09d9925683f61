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

// Gene preprocessing against values computed by hand, and the spot split.

#include "itkSpatialExpressionData.h"

#include "gtest/gtest.h"

#include <cmath>
#include <numeric>

namespace
{

itk::SpatialExpressionData::Pointer
ThreeSpots()
{
  // Library sizes 10, 4 and 0.
  auto data = itk::SpatialExpressionData::New();
  data->SetSpots({ "a", "b", "c" }, { { { 0, 0 } }, { { 1, 0 } }, { { 2, 0 } } });
  data->SetGenes({ "G0", "G1", "G2" });
  data->SetCounts(itk::SparseCountMatrix::FromDense(3, 3, { 5, 0, 5, 1, 3, 0, 0, 0, 0 }));
  return data;
}

TEST(GenePreprocessing, NormalizeLog1pByHand)
{
  auto                           data = ThreeSpots();
  itk::GenePreprocessingSettings settings;
  settings.TopGenes = 3;
  settings.TargetSum = 100.0;
  data->Preprocess(settings);
  const auto & genes = data->GetPreprocessing().Genes;
  // Means of log1p(count * 100 / library): G0 (log 51 + log 26)/3, G2 log(51)/3, G1 log(76)/3.
  ASSERT_EQ(genes, (std::vector<std::string>{ "G0", "G1", "G2" }));
  const auto & x = data->GetExpression();
  EXPECT_FLOAT_EQ(x[0], std::log1p(50.0));
  EXPECT_FLOAT_EQ(x[1], 0.0f);
  EXPECT_FLOAT_EQ(x[2], std::log1p(50.0));
  EXPECT_FLOAT_EQ(x[3], std::log1p(25.0));
  EXPECT_FLOAT_EQ(x[4], std::log1p(75.0));
  EXPECT_FLOAT_EQ(x[8], 0.0f); // an empty spot stays zero instead of dividing by zero
}

TEST(GenePreprocessing, TopGenesByMeanAndGivenList)
{
  auto                           data = ThreeSpots();
  itk::GenePreprocessingSettings settings;
  settings.TopGenes = 2;
  settings.TargetSum = 100.0;
  data->Preprocess(settings);
  EXPECT_EQ(data->GetPreprocessing().Genes, (std::vector<std::string>{ "G0", "G1" }));

  settings.GeneList = { "G2", "G0" };
  data->Preprocess(settings);
  EXPECT_EQ(data->GetPreprocessing().Genes, settings.GeneList);
  EXPECT_FLOAT_EQ(data->GetExpression()[0], std::log1p(50.0)); // spot a, G2

  settings.GeneList = { "G0", "NOPE" };
  EXPECT_THROW(data->Preprocess(settings), itk::ExceptionObject);
}

TEST(GenePreprocessing, SameGenesInAnotherOrderGiveTheSameValues)
{
  auto                           data = ThreeSpots();
  itk::GenePreprocessingSettings settings;
  settings.Standardize = true;
  data->Preprocess(settings);
  // The same counts with genes reordered and an extra gene.
  auto other = itk::SpatialExpressionData::New();
  other->SetSpots({ "a", "b", "c" }, data->GetPixelPositions());
  other->SetGenes({ "G2", "EXTRA", "G1", "G0" });
  other->SetCounts(itk::SparseCountMatrix::FromDense(3, 4, { 5, 0, 0, 5, 0, 0, 3, 1, 0, 0, 0, 0 }));
  other->ApplyPreprocessing(data->GetPreprocessing());
  // "EXTRA" adds nothing to the library sizes, so values agree exactly.
  EXPECT_EQ(other->GetExpression(), data->GetExpression());
  EXPECT_EQ(itk::GenePreprocessing::FromJSON(data->GetPreprocessing().ToJSON()), data->GetPreprocessing());
}

TEST(GenePreprocessing, StandardizedGenesHaveZeroMeanUnitDeviation)
{
  auto                           data = ThreeSpots();
  itk::GenePreprocessingSettings settings;
  settings.Standardize = true;
  data->Preprocess(settings);
  const std::size_t g = data->GetPreprocessing().Genes.size();
  for (std::size_t j = 0; j < g; ++j)
  {
    double sum = 0, squares = 0;
    for (std::size_t s = 0; s < 3; ++s)
    {
      sum += data->GetExpression()[s * g + j];
      squares += data->GetExpression()[s * g + j] * data->GetExpression()[s * g + j];
    }
    EXPECT_NEAR(sum / 3, 0.0, 1e-6);
    EXPECT_NEAR(squares / 3, 1.0, 1e-5);
  }
}

TEST(GenePreprocessing, ToNormalizedCountUndoesTheTransform)
{
  // Back from the preprocessed scale: count * TargetSum / library, whether standardised or not.
  for (const bool standardize : { false, true })
  {
    auto                           data = ThreeSpots();
    itk::GenePreprocessingSettings settings;
    settings.TopGenes = 3;
    settings.TargetSum = 100.0;
    settings.Standardize = standardize;
    data->Preprocess(settings);
    const auto & p = data->GetPreprocessing();
    const auto & x = data->GetExpression();
    EXPECT_NEAR(p.ToNormalizedCount(0, x[0]), 5 * 100.0 / 10, 1e-3); // spot a, G0
    EXPECT_NEAR(p.ToNormalizedCount(1, x[4]), 3 * 100.0 / 4, 1e-3);  // spot b, G1
    EXPECT_NEAR(p.ToNormalizedCount(1, x[1]), 0.0, 1e-3);            // spot a, G1
  }
  itk::GenePreprocessing plain;
  plain.Log1p = false;
  plain.Genes = { "G" };
  EXPECT_EQ(plain.ToNormalizedCount(0, 7.5), 7.5);
  EXPECT_EQ(plain.ToNormalizedCount(0, -1.0), 0.0); // a regressor may undershoot; counts are not negative
}

TEST(GenePreprocessing, MalformedJSONThrows)
{
  EXPECT_THROW(itk::GenePreprocessing::FromJSON("{}"), itk::ExceptionObject);
  EXPECT_THROW(itk::GenePreprocessing::FromJSON("not json"), itk::ExceptionObject);
}

TEST(SpotSplit, ReproducibleDisjointAndOfTheRightSize)
{
  auto                     data = itk::SpatialExpressionData::New();
  std::vector<std::string> ids;
  for (int i = 0; i < 187; ++i)
  {
    ids.push_back("s" + std::to_string(i));
  }
  data->SetSpots(ids, std::vector<itk::SpatialExpressionData::PositionType>(187, { { 0, 0 } }));
  data->MakeRandomSplit(0.25, 7);
  const auto first = data->GetSplit();
  EXPECT_EQ(std::accumulate(first.begin(), first.end(), 0), 47); // round(0.25 * 187)
  data->MakeRandomSplit(0.25, 7);
  EXPECT_EQ(data->GetSplit(), first);
  data->MakeRandomSplit(0.25, 8);
  EXPECT_NE(data->GetSplit(), first);
  EXPECT_EQ(data->GetSpotIndices(true).size() + data->GetSpotIndices(false).size(), 187u);
  EXPECT_THROW(data->MakeRandomSplit(0.001, 1), itk::ExceptionObject); // no training spot
  EXPECT_THROW(data->MakeRandomSplit(1.0, 1), itk::ExceptionObject);   // no test spot
}

TEST(SpotSplit, PreprocessingFitsOnTrainingSpotsOnly)
{
  auto data = ThreeSpots();
  data->SetSplit({ 0, 1, 1 }); // spot a (the only one with G2 counts) is held out
  itk::GenePreprocessingSettings settings;
  settings.TopGenes = 1;
  data->Preprocess(settings);
  EXPECT_EQ(data->GetPreprocessing().Genes, (std::vector<std::string>{ "G1" }));
}

TEST(SpatialExpressionData, RejectsInconsistentInput)
{
  auto data = itk::SpatialExpressionData::New();
  EXPECT_THROW(data->SetSpots({ "a", "a" }, { { { 0, 0 } }, { { 1, 1 } } }), itk::ExceptionObject);
  EXPECT_THROW(data->SetSpots({ "a" }, {}), itk::ExceptionObject);
  data->SetSpots({ "a" }, { { { 0, 0 } } });
  data->SetGenes({ "G" });
  EXPECT_THROW(data->SetCounts(itk::SparseCountMatrix::FromDense(1, 2, { 1, 1 })), itk::ExceptionObject);
  EXPECT_THROW(data->SetCounts(itk::SparseCountMatrix::FromDense(1, 1, { -1 })), itk::ExceptionObject);
  EXPECT_THROW(data->SetCounts(itk::SparseCountMatrix::FromDense(1, 1, { std::nanf("") })), itk::ExceptionObject);
  itk::GenePreprocessing preprocessing;
  preprocessing.Genes = { "G" };
  EXPECT_THROW(data->SetExpression(preprocessing, { std::nanf("") }), itk::ExceptionObject);
}

} // namespace
