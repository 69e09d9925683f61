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

// The resampling of conditioning profiles to a synthetic-to-real ratio.

#include "itkConditioningProfiles.h"
#include "itkSpotPatchDataset.h"

#include "gtest/gtest.h"

#include <cmath>

namespace
{

itk::SpatialExpressionData::Pointer
TenSpots()
{
  auto                     data = itk::SpatialExpressionData::New();
  std::vector<std::string> ids;
  std::vector<float>       counts;
  for (int s = 0; s < 10; ++s)
  {
    ids.push_back("s" + std::to_string(s));
    counts.insert(counts.end(), { float(s), float(10 - s), float(s % 3) });
  }
  data->SetSpots(ids, std::vector<itk::SpatialExpressionData::PositionType>(10, { { 0, 0 } }));
  data->SetGenes({ "A", "B", "C" });
  data->SetCounts(itk::SparseCountMatrix::FromDense(10, 3, counts));
  data->SetSplit({ 1, 1, 1, 1, 0, 0, 0, 0, 0, 0 });
  data->Preprocess(itk::GenePreprocessingSettings());
  return data;
}

TEST(ConditioningProfiles, DrawsTrainingProfilesAtTheRatio)
{
  const auto data = TenSpots();
  const auto profiles = itk::ConditioningProfiles::Resample(*data, 2.5, 7);
  ASSERT_EQ(profiles.SourceSpots.size(), 10u); // 2.5 x 4 training spots
  EXPECT_EQ(itk::ConditioningProfiles::Number(2.5, 4), 10u);
  EXPECT_EQ(itk::ConditioningProfiles::Number(0.1, 4), 1u); // at least one
  EXPECT_EQ(itk::ConditioningProfiles::Number(1.3, 10), 13u);
  const std::size_t g = profiles.Expression.cols();
  for (std::size_t k = 0; k < profiles.SourceSpots.size(); ++k)
  {
    const auto spot = profiles.SourceSpots[k];
    ASSERT_LT(spot, 4u) << "drawn from a test spot";
    for (std::size_t j = 0; j < g; ++j)
    {
      EXPECT_EQ(profiles.Expression(k, j), data->GetExpression()[spot * g + j]);
    }
  }
  const auto again = itk::ConditioningProfiles::Resample(*data, 2.5, 7);
  EXPECT_EQ(again.SourceSpots, profiles.SourceSpots);
  EXPECT_NE(itk::ConditioningProfiles::Resample(*data, 2.5, 8).SourceSpots, profiles.SourceSpots);
}

TEST(ConditioningProfiles, PerturbationScalesWithTheGeneSpread)
{
  const auto        data = TenSpots();
  const auto        profiles = itk::ConditioningProfiles::Resample(*data, 2000.0, 3, 0.5);
  const std::size_t g = profiles.Expression.cols();
  // The training spread of each gene, and the spread of profile minus its source.
  for (std::size_t j = 0; j < g; ++j)
  {
    double mean = 0, spread = 0;
    for (std::size_t s = 0; s < 4; ++s)
    {
      mean += data->GetExpression()[s * g + j] / 4;
    }
    for (std::size_t s = 0; s < 4; ++s)
    {
      spread += std::pow(data->GetExpression()[s * g + j] - mean, 2) / 4;
    }
    double            noise = 0, noiseMean = 0;
    const std::size_t n = profiles.SourceSpots.size();
    for (std::size_t k = 0; k < n; ++k)
    {
      const double d = profiles.Expression(k, j) - data->GetExpression()[profiles.SourceSpots[k] * g + j];
      noiseMean += d / n;
      noise += d * d / n;
    }
    EXPECT_NEAR(noiseMean, 0.0, 0.05 * std::sqrt(spread) + 1e-6);
    EXPECT_NEAR(std::sqrt(noise), 0.5 * std::sqrt(spread), 0.05 * std::sqrt(spread) + 1e-6);
  }
}

TEST(ConditioningProfiles, BadRequestsThrow)
{
  const auto data = TenSpots();
  EXPECT_THROW(itk::ConditioningProfiles::Resample(*data, 0.0, 1), itk::ExceptionObject);
  EXPECT_THROW(itk::ConditioningProfiles::Resample(*data, 1.0, 1, -1.0), itk::ExceptionObject);
  auto raw = itk::SpatialExpressionData::New();
  raw->SetSpots({ "a" }, { { { 0, 0 } } });
  EXPECT_THROW(itk::ConditioningProfiles::Resample(*raw, 1.0, 1), itk::ExceptionObject);
}

} // namespace

// Synthetic pairs as the regressor reads them: one patch per profile, at its source spot's position,
// with its expression; every pair a training pair. Counts that disagree are refused.
TEST(ConditioningProfiles, SyntheticPairsCarryEachProfileAtItsSourceSpot)
{
  auto                                                  data = TenSpots();
  std::vector<itk::SpatialExpressionData::PositionType> positions;
  for (int s = 0; s < 10; ++s)
  {
    positions.push_back({ { 10.0 * s, 5.0 } });
  }
  data->SetSpots(data->GetSpotIds(), positions);
  const auto profiles = itk::ConditioningProfiles::Resample(*data, 1.5, 2);
  using StackType = itk::SpotPatchDataset::PatchStackType;
  auto                  patches = StackType::New();
  StackType::RegionType region;
  region.SetSize({ { 4, 4, profiles.SourceSpots.size() } });
  patches->SetRegions(region);
  patches->Allocate(true);
  const auto preprocessing = data->GetPreprocessing().ToJSON();

  const auto   pairs = itk::SpotPatchDataset::FromSynthesis(patches, profiles, *data, preprocessing);
  const auto * spots = pairs->GetSpots();
  ASSERT_EQ(pairs->GetNumberOfPatches(), 6u); // 1.5 x 4 training spots
  ASSERT_EQ(spots->GetNumberOfSpots(), 6u);
  EXPECT_EQ(spots->GetMetadata("synthetic"), "true");
  EXPECT_EQ(spots->GetSpotIndices(true).size(), 6u);
  for (std::size_t k = 0; k < 6; ++k)
  {
    const auto source = profiles.SourceSpots[k];
    EXPECT_EQ(spots->GetSpotIds()[k], "synthetic-" + std::to_string(k) + "-s" + std::to_string(source));
    EXPECT_EQ(spots->GetPixelPositions()[k][0], 10.0 * source);
    for (std::size_t j = 0; j < 3; ++j)
    {
      EXPECT_EQ(spots->GetExpression()[k * 3 + j], data->GetExpression()[source * 3 + j]);
    }
  }

  region.SetSize(2, 5);
  auto fewer = StackType::New();
  fewer->SetRegions(region);
  fewer->Allocate(true);
  try
  {
    itk::SpotPatchDataset::FromSynthesis(fewer, profiles, *data, preprocessing);
    FAIL() << "five patches for six profiles were accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("one patch per profile: 5 patches, 6 profiles"), std::string::npos)
      << e.GetDescription();
  }
}
