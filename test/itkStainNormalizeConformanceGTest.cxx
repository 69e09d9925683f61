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

// Conformance with an independent implementation: TIAToolbox's own normalised outputs of a real
// H&E tile (../shared/data/stain-golden), judged by TIAToolbox's pass rule
// mean(|ref/255 - out/255|) < 0.01 (0.03 for Vahadane, stochastic there).

#include "itkStainNormalizeFilter.h"
#include "itkStainTestUtilities.h"

#include "gtest/gtest.h"

namespace
{
using itk::StainTest::RGBImageType;

struct GoldenCase
{
  itk::StainNormalizationMethod method;
  const char *                  reference;
  double                        tolerance;
};

class StainNormalizeConformance : public ::testing::TestWithParam<GoldenCase>
{};

TEST_P(StainNormalizeConformance, MatchesTIAToolbox)
{
  const std::string folder = itk::StainTest::SharedDataDirectory() + "/stain-golden/";
  if (!itk::StainTest::FileExists(folder + "source_image.png"))
  {
    GTEST_SKIP() << "Shared data not found at " << folder << " (set SpatialTranscriptomics_SHARED_DATA_DIR)";
  }
  const auto source = itk::StainTest::ReadRGB(folder + "source_image.png");
  const auto target = itk::StainTest::ReadRGB(folder + "target_image.png");
  const auto expected = itk::StainTest::ReadRGB(folder + GetParam().reference);

  using FilterType = itk::StainNormalizeFilter<RGBImageType>;
  auto filter = FilterType::New();
  filter->SetMethod(GetParam().method);
  filter->SetInput(source);
  filter->SetReferenceImage(target);
  filter->Update();

  const double difference = itk::StainTest::MeanAbsoluteDifference(filter->GetOutput(), expected);
  RecordProperty("mean_abs_difference", std::to_string(difference));
  std::cout << itk::StainParameters::MethodToString(GetParam().method) << ": mean |ref - out| / 255 = " << difference
            << " (tolerance " << GetParam().tolerance << ")" << std::endl;
  EXPECT_LT(difference, GetParam().tolerance);
}

INSTANTIATE_TEST_SUITE_P(
  TIAToolboxGolden, StainNormalizeConformance,
  ::testing::Values(GoldenCase{ itk::StainNormalizationMethod::Macenko, "norm_macenko.png", 0.01 },
                    GoldenCase{ itk::StainNormalizationMethod::Reinhard, "norm_reinhard.png", 0.01 },
                    GoldenCase{ itk::StainNormalizationMethod::Ruifrok, "norm_ruifrok.png", 0.01 },
                    GoldenCase{ itk::StainNormalizationMethod::Vahadane, "norm_vahadane.png", 0.03 }),
  [](const ::testing::TestParamInfo<GoldenCase> & info) {
    return itk::StainParameters::MethodToString(info.param.method);
  });

} // namespace
