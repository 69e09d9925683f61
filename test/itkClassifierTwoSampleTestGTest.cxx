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

// The classifier two-sample test: its AUC against closed forms; two samples of one distribution
// score near 0.5, two distributions with the same mean colour near 1; seeded; and its refusals.

#include "itkClassifierTwoSampleTest.h"
#include "itkSampleMeasures.h"
#include "itkSyntheticStainedTissue.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

namespace
{
using StackType = itk::Image<itk::RGBPixel<unsigned char>, 3>;

/** \p count 16 x 16 patches of mean colour (150, 90, 140): with \p striped, horizontal stripes of
 * amplitude 40 (random phase); otherwise the same colour with independent pixel noise of the same
 * spread. */
StackType::Pointer
Patches(unsigned int count, bool striped, std::uint32_t seed)
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, count } }));
  stack->Allocate();
  std::mt19937 generator(seed);
  auto *       pixel = stack->GetBufferPointer();
  for (unsigned int k = 0; k < count; ++k)
  {
    const unsigned int phase = generator() % 4;
    for (unsigned int y = 0; y < 16; ++y)
    {
      for (unsigned int x = 0; x < 16; ++x, ++pixel)
      {
        const double offset = striped ? (((y + phase) / 2) % 2 ? 28.0 : -28.0) : 28.0 * (2.0 * (generator() % 2) - 1.0);
        pixel->Set(static_cast<unsigned char>(150 + offset),
                   static_cast<unsigned char>(90 + offset / 2),
                   static_cast<unsigned char>(140 + offset));
      }
    }
  }
  return stack;
}

itk::ClassifierTwoSampleSettings
Quick()
{
  itk::ClassifierTwoSampleSettings settings;
  settings.Folds = 3;
  settings.Epochs = 8;
  settings.BatchSize = 32;
  settings.Channels = 8;
  settings.NumberOfThreads = 1;
  settings.Seed = 3;
  return settings;
}
} // namespace

TEST(ClassifierTwoSampleTest, AreaUnderROCMatchesTheMannWhitneyStatistic)
{
  EXPECT_DOUBLE_EQ(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.1, 0.2, 0.8, 0.9 }, { 0, 0, 1, 1 }), 1.0);
  EXPECT_DOUBLE_EQ(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.1, 0.2, 0.8, 0.9 }, { 1, 1, 0, 0 }), 0.0);
  EXPECT_DOUBLE_EQ(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.5, 0.5, 0.5, 0.5 }, { 0, 1, 0, 1 }), 0.5);
  // Positives 0.35 and 0.8 against negatives 0.1, 0.4, 0.8: pairs won 1 + 2.5 (a tie counts half) of 6.
  EXPECT_DOUBLE_EQ(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.1, 0.35, 0.4, 0.8, 0.8 }, { 0, 1, 0, 1, 0 }),
                   3.5 / 6.0);
  EXPECT_TRUE(std::isnan(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.1, 0.2 }, { 1, 1 })));
  EXPECT_THROW(itk::ClassifierTwoSampleResult::AreaUnderROC({ 0.1 }, { 1, 0 }), itk::ExceptionObject);
}

TEST(ClassifierTwoSampleTest, SameDistributionNearHalfOtherTextureNearOne)
{
  const auto stripes = Patches(120, true, 1);
  const auto moreStripes = Patches(150, true, 2);
  const auto noise = Patches(120, false, 3);
  const auto same = itk::ClassifierTwoSampleResult::Compute(stripes, moreStripes, Quick());
  const auto other = itk::ClassifierTwoSampleResult::Compute(stripes, noise, Quick());
  std::cout << "AUC same distribution " << same.AUC << ", same colours as noise " << other.AUC << std::endl;
  EXPECT_EQ(same.PatchesPerSet, 120u);
  EXPECT_EQ(same.FoldAUC.size(), 3u);
  EXPECT_NEAR(same.AUC, 0.5, 0.15);
  EXPECT_GT(other.AUC, 0.95);
  // The same seed gives the same result.
  EXPECT_DOUBLE_EQ(itk::ClassifierTwoSampleResult::Compute(stripes, noise, Quick()).AUC, other.AUC);
}

TEST(ClassifierTwoSampleTest, RefusesWhatCannotBeTested)
{
  const auto stripes = Patches(20, true, 1);
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(stripes, nullptr, Quick()), itk::ExceptionObject);
  auto small = StackType::New();
  small->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 4, 4, 20 } }));
  small->Allocate();
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(small, small, Quick()), itk::ExceptionObject);
  auto few = Quick();
  few.Folds = 30;
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(stripes, stripes, few), itk::ExceptionObject);
  few.Folds = 1;
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(stripes, stripes, few), itk::ExceptionObject);
  auto cuda = Quick();
  cuda.Device = "tpu";
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(stripes, stripes, cuda), itk::ExceptionObject);
}

namespace
{
/** \p count 16 x 16 H&E patches rendered from random stain fields (hematoxylin blobs on eosin). */
StackType::Pointer
StainedPatches(unsigned int count, std::uint32_t seed)
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, count } }));
  stack->Allocate();
  std::mt19937 generator(seed);
  for (unsigned int k = 0; k < count; ++k)
  {
    itk::SyntheticStainField field;
    field.Width = 16;
    field.Height = 16;
    for (unsigned int i = 0; i < 256; ++i)
    {
      const bool nucleus = generator() % 4 == 0;
      field.Hematoxylin.push_back(nucleus ? 1.0f : 0.05f);
      field.Eosin.push_back(nucleus ? 0.2f : 0.5f);
    }
    const auto rgb = itk::SyntheticStainField::Render(field, itk::SyntheticStainField::TypicalHEStainMatrix());
    std::copy(rgb.begin(), rgb.end(), reinterpret_cast<unsigned char *>(stack->GetBufferPointer()) + k * rgb.size());
  }
  return stack;
}
} // namespace

TEST(ClassifierTwoSampleTest, MeasureSamplesLowersTheFoldsAndSkipsTheClassifierForOnePatch)
{
  const auto real = StainedPatches(3, 1);
  // Five folds asked for, three patches per set: the test runs with three and equals that run.
  auto five = Quick();
  five.Folds = 5;
  const auto measures = itk::SampleMeasures::Measure(real, StainedPatches(3, 2), five);
  auto       three = Quick();
  three.Folds = 3;
  EXPECT_DOUBLE_EQ(measures.ClassifierAUC,
                   itk::ClassifierTwoSampleResult::Compute(real, StainedPatches(3, 2), three).AUC);
  EXPECT_THROW(itk::ClassifierTwoSampleResult::Compute(real, StainedPatches(3, 2), five), itk::ExceptionObject);
  EXPECT_EQ(measures.Morphology.Real.size(), 3u);
  EXPECT_EQ(measures.Morphology.Other.size(), 3u);
  // One patch: no classifier can be cross-validated, the morphology still is measured.
  const auto single = itk::SampleMeasures::Measure(real, StainedPatches(1, 3), five);
  EXPECT_TRUE(std::isnan(single.ClassifierAUC));
  EXPECT_EQ(single.Morphology.Other.size(), 1u);
}
