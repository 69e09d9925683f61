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

// Patch morphology: the gradient energy against closed forms; nuclei counted and sized on rendered
// patches whose discs are known exactly; and on real her2st tiles, held-out tiles agree with the
// training tiles while noise of their colours does not.

#include "itkColourNoisePatches.h"
#include "itkPatchMorphology.h"
#include "itkSyntheticStainedTissue.h"
#include "itkTissueTileExtractor.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <random>

namespace
{
using StackType = itk::NuclearAreaFraction::PatchStackType;
constexpr unsigned int Side = 40;

StackType::Pointer
EmptyStack(unsigned int width, unsigned int height, unsigned int count, double spacing)
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { width, height, count } }));
  stack->Allocate();
  const double s[3] = { spacing, spacing, 1.0 };
  stack->SetSpacing(s);
  return stack;
}

/** Patch k of \p stack: eosin stroma with discs of hematoxylin of radius 2 + (i % 3) at the cells of
 * a 4 x 4 grid (the first \p nuclei cells); returns the discs' pixel counts. */
std::vector<std::size_t>
DrawDiscs(StackType * stack, unsigned int k, unsigned int nuclei, std::uint32_t seed)
{
  std::mt19937             generator(seed);
  const auto               uniform = [&] { return generator() / 4294967296.0; };
  itk::SyntheticStainField field;
  field.Width = Side;
  field.Height = Side;
  field.Hematoxylin.assign(Side * Side, 0.0f);
  field.Eosin.assign(Side * Side, 0.0f);
  for (unsigned int i = 0; i < Side * Side; ++i)
  {
    field.Eosin[i] = static_cast<float>(0.5 + 0.1 * uniform());
    field.Hematoxylin[i] = static_cast<float>(0.05 + 0.03 * uniform());
  }
  std::vector<std::size_t> areas;
  for (unsigned int i = 0; i < nuclei; ++i)
  {
    const double cx = 5.0 + 10.0 * (i % 4);
    const double cy = 5.0 + 10.0 * (i / 4);
    const double radius = 2.0 + (i % 3);
    std::size_t  inside = 0;
    for (unsigned int y = 0; y < Side; ++y)
    {
      for (unsigned int x = 0; x < Side; ++x)
      {
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius)
        {
          field.Hematoxylin[y * Side + x] = static_cast<float>(0.9 + 0.3 * uniform());
          field.Eosin[y * Side + x] = static_cast<float>(0.2 + 0.1 * uniform());
          ++inside;
        }
      }
    }
    areas.push_back(inside);
  }
  const auto rgb = itk::SyntheticStainField::Render(field, itk::SyntheticStainField::TypicalHEStainMatrix());
  std::copy(rgb.begin(), rgb.end(), reinterpret_cast<unsigned char *>(stack->GetBufferPointer()) + k * rgb.size());
  return areas;
}
} // namespace

TEST(PatchMorphology, GradientEnergyMatchesClosedForms)
{
  std::vector<unsigned char> rgb(3 * 8 * 6);
  const auto                 set = [&](unsigned int x, unsigned int y, unsigned char value) {
    for (int c = 0; c < 3; ++c)
    {
      rgb[3 * (y * 8 + x) + c] = value;
    }
  };
  for (unsigned int y = 0; y < 6; ++y)
  {
    for (unsigned int x = 0; x < 8; ++x)
    {
      set(x, y, 90);
    }
  }
  EXPECT_NEAR(itk::PatchMorphology::LuminanceGradientEnergy(rgb.data(), 8, 6), 0.0, 1e-12); // flat
  for (unsigned int y = 0; y < 6; ++y)
  {
    for (unsigned int x = 0; x < 8; ++x)
    {
      set(x, y, static_cast<unsigned char>(10 + 7 * x)); // grey ramp: luminance 10 + 7x
    }
  }
  EXPECT_NEAR(itk::PatchMorphology::LuminanceGradientEnergy(rgb.data(), 8, 6), 7.0, 1e-9);
  for (unsigned int y = 0; y < 6; ++y)
  {
    for (unsigned int x = 0; x < 8; ++x)
    {
      set(x, y, (x + y) % 2 ? 130 : 100); // checkerboard: |dx| = |dy| = 30
    }
  }
  EXPECT_NEAR(itk::PatchMorphology::LuminanceGradientEnergy(rgb.data(), 8, 6), 30.0 * std::sqrt(2.0), 1e-9);
  EXPECT_EQ(itk::PatchMorphology::LuminanceGradientEnergy(rgb.data(), 1, 6), 0.0);
}

TEST(PatchMorphology, CountsAndSizesRenderedNuclei)
{
  // Spacing 2 um: a pixel is 4 um^2.
  const std::vector<unsigned int>       counts{ 0, 3, 7, 12, 16 };
  auto                                  stack = EmptyStack(Side, Side, static_cast<unsigned int>(counts.size()), 2.0);
  std::vector<std::vector<std::size_t>> truth;
  for (unsigned int k = 0; k < counts.size(); ++k)
  {
    truth.push_back(DrawDiscs(stack, k, counts[k], 10 + k));
  }
  const auto nuclei = itk::NuclearAreaFraction::Fit(stack);
  const auto measured = itk::PatchMorphology::Measure(nuclei, stack, 8.0);
  ASSERT_EQ(measured.size(), counts.size());
  for (unsigned int k = 0; k < counts.size(); ++k)
  {
    ASSERT_EQ(measured[k].NucleusAreas.size(), counts[k]) << "patch " << k;
    // RelabelComponentImageFilter orders objects by size; compare the sorted areas.
    auto expected = truth[k];
    std::sort(expected.begin(), expected.end());
    auto areas = measured[k].NucleusAreas;
    std::sort(areas.begin(), areas.end());
    for (std::size_t i = 0; i < areas.size(); ++i)
    {
      EXPECT_DOUBLE_EQ(areas[i], 4.0 * static_cast<double>(expected[i])) << "patch " << k << ", nucleus " << i;
    }
  }
  // A minimum area above the smallest discs (radius 2: 13 pixels, 52 um^2) leaves them out.
  const auto large = itk::PatchMorphology::Measure(nuclei, stack, 60.0);
  EXPECT_EQ(large[2].NucleusAreas.size(), 4u); // radii 3 and 4 among the first 7 discs: i % 3 != 0
  EXPECT_THROW(itk::PatchMorphology::Measure(nuclei, stack, -1.0), itk::ExceptionObject);
  EXPECT_THROW(itk::PatchMorphology::Measure(itk::NuclearAreaFraction(), stack, 8.0), itk::ExceptionObject);
  EXPECT_THROW(itk::MorphologyComparison::Compare(stack, nullptr), itk::ExceptionObject);
}

TEST(PatchMorphology, RealHeldOutTilesPassAndNoiseOfTheirColoursFails)
{
  const std::filesystem::path folder = std::filesystem::path(SpatialTranscriptomics_SHARED_DATA_DIR) / "her2st-C2";
  const auto                  jpeg = folder / "images" / "C2_5714_HE_BT_C2.jpg";
  if (!std::filesystem::exists(jpeg))
  {
    GTEST_SKIP() << "Shared data not found at " << folder << " (set SpatialTranscriptomics_SHARED_DATA_DIR)";
  }
  auto slide = itk::SlideReader::New();
  slide->Open(jpeg.string());
  slide->SetPixelSize(0.69);
  itk::TissueTileSettings settings;
  settings.Extraction.PatchSizeMicrometres = 64.0;
  settings.Extraction.PatchSizePixels = 32;
  settings.MaximumTiles = 400;
  settings.HoldOutBlockTiles = 4;
  settings.Part = itk::TileGridPart::Training;
  const auto training = itk::TissueTileExtractor::Extract(*slide, settings, "C2");
  settings.Part = itk::TileGridPart::HeldOut;
  const auto heldOut = itk::TissueTileExtractor::Extract(*slide, settings, "C2");

  const auto real = itk::MorphologyComparison::Compare(training->GetPatches(), heldOut->GetPatches());
  std::cout << "held-out vs training tiles: nuclei per patch " << real.OtherNucleiPerPatch << " vs "
            << real.RealNucleiPerPatch << ", gradient energy " << real.OtherGradientEnergy << " vs "
            << real.RealGradientEnergy << ", median nucleus " << real.OtherMedianNucleusArea << " vs "
            << real.RealMedianNucleusArea << " um^2" << std::endl;
  EXPECT_GT(real.RealNucleiPerPatch, 2.0); // the tiles do show nuclei
  EXPECT_LT(std::abs(real.NucleiPerPatchDifference()), 0.25);
  EXPECT_LT(std::abs(real.GradientEnergyDifference()), 0.20);

  // Noise with the held-out tiles' colours: each pixel drawn from the tiles' pixels at random.
  const auto noise = itk::ColourNoisePatches::MakePatches(heldOut->GetPatches(), heldOut->GetNumberOfPatches(), 7);
  const auto fake = itk::MorphologyComparison::Compare(training->GetPatches(), noise);
  std::cout << "colour noise vs training tiles: nuclei per patch " << fake.OtherNucleiPerPatch << " vs "
            << fake.RealNucleiPerPatch << ", gradient energy " << fake.OtherGradientEnergy << " vs "
            << fake.RealGradientEnergy << std::endl;
  EXPECT_GT(std::abs(fake.NucleiPerPatchDifference()), 0.25);
  EXPECT_GT(std::abs(fake.GradientEnergyDifference()), 0.20);
}
