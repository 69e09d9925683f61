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
#include "itkPipelineImputation.h"

#include "itkPerGeneCombination.h"

#include "gtest/gtest.h"

#include <cmath>

namespace
{
/** A 12 x 10 legacy ST section, half of it training spots: two smooth genes and one counted at a
 * single training spot only. */
itk::SpatialExpressionData::Pointer
Section(std::size_t * rareSpot)
{
  auto                     spots = itk::SpatialExpressionData::New();
  std::vector<std::string> ids;
  for (int y = 1; y <= 10; ++y)
  {
    for (int x = 1; x <= 12; ++x)
    {
      ids.push_back(std::to_string(x) + "x" + std::to_string(y));
    }
  }
  const auto split = itk::SpatialExpressionData::RandomSplit(ids.size(), 0.5, 3);
  *rareSpot = static_cast<std::size_t>(std::find(split.begin(), split.end(), 1) - split.begin());
  std::vector<float> counts;
  for (std::size_t s = 0; s < ids.size(); ++s)
  {
    const int x = static_cast<int>(s % 12) + 1;
    const int y = static_cast<int>(s / 12) + 1;
    counts.push_back(std::round(20.0f + 15.0f * std::sin(x / 3.0f)));
    counts.push_back(std::round(10.0f + 0.8f * y));
    counts.push_back(s == *rareSpot ? 5.0f : 0.0f);
  }
  spots->SetSpots(ids, std::vector<itk::SpatialExpressionData::PositionType>(ids.size(), { { 0.0, 0.0 } }));
  spots->SetGenes({ "WAVE", "RAMP", "RARE" });
  spots->SetCounts(itk::SparseCountMatrix::FromDense(ids.size(), 3, counts));
  spots->SetSplit(split);
  itk::GenePreprocessingSettings preprocessing;
  preprocessing.TopGenes = 3;
  spots->Preprocess(preprocessing);
  return spots;
}
} // namespace

TEST(PipelineImputation, ImputesTestSpotsAndCrossFitsTrainingSpotsFromTrainingSpotsOnly)
{
  std::size_t rareSpot = 0;
  const auto  spots = Section(&rareSpot);
  const auto  training = spots->GetSpotIndices(true);
  const auto  genes = spots->GetPreprocessing().Genes;
  ASSERT_EQ(training.size(), 60u);
  itk::PipelineImputationSettings settings;
  settings.Steps = 10;
  settings.Folds = 3;
  const auto result = itk::PipelineImputation::Run(settings, *spots, "cpu", 1);

  EXPECT_EQ(result.Grid, "spot ids, 12 x 10");
  ASSERT_EQ(result.Imputed.rows(), 120u);
  ASSERT_EQ(result.CrossFitted.rows(), 60u);
  EXPECT_EQ(result.Folds, itk::PerGeneCombination::AssignFolds(60, 3, 0));
  EXPECT_GT(result.SmoothingBandwidth, 0.0);
  const auto & expression = spots->GetExpression();
  const auto   rare = static_cast<unsigned int>(std::find(genes.begin(), genes.end(), "RARE") - genes.begin());
  std::size_t  rarePosition = 0;
  for (std::size_t t = 0; t < training.size(); ++t)
  {
    for (unsigned int g = 0; g < genes.size(); ++g)
    {
      // Data consistency: the imputation trained on every training spot returns them as measured.
      EXPECT_FLOAT_EQ(result.Imputed(training[t], g), expression[training[t] * genes.size() + g]);
      EXPECT_TRUE(std::isfinite(result.CrossFitted(t, g)));
    }
    if (training[t] == rareSpot)
    {
      rarePosition = t;
    }
  }
  // The gene counted at one training spot only: in the folds without that spot it was zero at every
  // measured spot, so those folds give it zero (S2S-ST refuses such a gene); a fold's own spots are
  // imputed from the others, so the rare spot's cross-fitted value is zero too.
  EXPECT_EQ(result.CrossFitted(static_cast<unsigned int>(rarePosition), rare), 0.0);
  for (unsigned int s = 0; s < 120; ++s)
  {
    for (unsigned int g = 0; g < genes.size(); ++g)
    {
      EXPECT_TRUE(std::isfinite(result.Imputed(s, g)) && std::isfinite(result.Smoothed(s, g))) << s << " " << g;
    }
  }
}

TEST(PipelineImputation, SpotsOffAnyGridAreRefusedWithTheWayOut)
{
  auto                                                  spots = itk::SpatialExpressionData::New();
  std::vector<std::string>                              ids{ "a", "b", "c", "d", "e" };
  std::vector<itk::SpatialExpressionData::PositionType> positions{
    { { 0.0, 0.0 } }, { { 100.0, 0.0 } }, { { 37.0, 81.0 } }, { { 211.0, 13.0 } }, { { 5.0, 164.0 } }
  };
  spots->SetSpots(ids, positions);
  try
  {
    itk::PipelineImputation::FindGrid(*spots);
    FAIL() << "positions off every lattice were accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("\"imputation\": {\"enabled\": false}"), std::string::npos)
      << e.GetDescription();
  }
}
