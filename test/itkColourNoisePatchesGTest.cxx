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

// Colour noise: every pixel is one of the source's colours, in the source's proportions, seeded; the
// control of a pair set keeps its spots and profiles and replaces only the patches.

#include "itkColourNoisePatches.h"
#include "itkSyntheticSlide.h"

#include "itkImageFileWriter.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <unistd.h>

namespace
{
using StackType = itk::SpotPatchDataset::PatchStackType;

itk::RGBPixel<unsigned char>
Colour(unsigned char r, unsigned char g, unsigned char b)
{
  itk::RGBPixel<unsigned char> pixel;
  pixel.Set(r, g, b);
  return pixel;
}

/** 10 patches 8 x 8: 30 % of the pixels purple (120, 60, 150), the rest pink (230, 150, 190). */
StackType::Pointer
TwoColours()
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 8, 8, 10 } }));
  stack->Allocate();
  const double spacing[3] = { 2.0, 2.0, 1.0 };
  stack->SetSpacing(spacing);
  for (std::size_t i = 0; i < 640; ++i)
  {
    stack->GetBufferPointer()[i] = i % 10 < 3 ? Colour(120, 60, 150) : Colour(230, 150, 190);
  }
  return stack;
}
} // namespace

TEST(ColourNoisePatches, DrawsTheSourcesColoursInItsProportions)
{
  const auto source = TwoColours();
  const auto noise = itk::ColourNoisePatches::MakePatches(source, 500, 3);
  const auto size = noise->GetBufferedRegion().GetSize();
  EXPECT_EQ(size[0], 8u);
  EXPECT_EQ(size[1], 8u);
  EXPECT_EQ(size[2], 500u);
  EXPECT_EQ(noise->GetSpacing()[0], 2.0);
  std::size_t purple = 0;
  for (std::size_t i = 0; i < 500 * 64; ++i)
  {
    const auto & p = noise->GetBufferPointer()[i];
    ASSERT_TRUE(p == source->GetBufferPointer()[0] || p == source->GetBufferPointer()[5]) << i;
    purple += p[0] == 120;
  }
  // 32,000 draws of probability 0.3: standard deviation 0.0026.
  EXPECT_NEAR(purple / 32000.0, 0.3, 0.013);
  const auto again = itk::ColourNoisePatches::MakePatches(source, 500, 3);
  EXPECT_TRUE(std::equal(again->GetBufferPointer(), again->GetBufferPointer() + 500 * 64, noise->GetBufferPointer()));
  EXPECT_THROW(itk::ColourNoisePatches::MakePatches(nullptr, 5, 0), itk::ExceptionObject);
}

TEST(ColourNoisePatches, ControlKeepsThePairsAndReplacesTheirPatches)
{
  // Pairs: patches at the spots of a small synthetic slide, with preprocessed expression.
  const auto folder = std::filesystem::temp_directory_path() / ("st-colour-noise-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  itk::SyntheticSlideSettings synthetic;
  synthetic.NumberOfSpots = 12;
  const auto slide = itk::SyntheticSlide::Generate(synthetic);
  itk::WriteImage(slide.Image, (folder / "slide.mha").string());
  auto reader = itk::SlideReader::New();
  reader->Open((folder / "slide.mha").string());
  reader->SetPixelSize(0.5);
  itk::GenePreprocessingSettings preprocessing;
  preprocessing.TopGenes = 5;
  slide.Spots->Preprocess(preprocessing);
  itk::PatchExtractionSettings settings;
  settings.PatchSizePixels = 8;
  settings.PatchSizeMicrometres = 16;
  const auto pairs = itk::SpotPatchDataset::FromExtraction(
    itk::SpotPatchExtractor::Extract(*reader, *slide.Spots, settings), *slide.Spots, "slide.mha");

  const auto control = itk::ColourNoisePatches::MakeControl(*pairs, TwoColours(), 5);
  EXPECT_EQ(control->GetNumberOfPatches(), pairs->GetNumberOfPatches());
  EXPECT_EQ(control->GetSpots()->GetSpotIds(), pairs->GetSpots()->GetSpotIds());
  EXPECT_EQ(control->GetSpots()->GetExpression(), pairs->GetSpots()->GetExpression());
  EXPECT_EQ(control->GetPatchSizeMicrometres(), pairs->GetPatchSizeMicrometres());
  EXPECT_EQ(control->GetPatches()->GetSpacing(), pairs->GetPatches()->GetSpacing());
  const auto * pixel = control->GetPatches()->GetBufferPointer();
  EXPECT_TRUE(pixel[0][0] == 120 || pixel[0][0] == 230);
  // The pairs themselves are untouched.
  EXPECT_NE(pairs->GetPatches(), control->GetPatches());

  auto other = StackType::New();
  other->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, 2 } }));
  other->Allocate();
  EXPECT_THROW(itk::ColourNoisePatches::MakeControl(*pairs, other, 5), itk::ExceptionObject);
  EXPECT_THROW(itk::ColourNoisePatches::MakeControl(*pairs, nullptr, 5), itk::ExceptionObject);
  std::filesystem::remove_all(folder);
}
