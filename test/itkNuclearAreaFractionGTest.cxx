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

// Nuclear area fraction on hand-made stained patches whose nuclei (discs) are known exactly.
// itkSyntheticStainedTissue.h provides stain fields but no nucleus mask, so discs are drawn here and
// rendered with its SyntheticStainField::Render (Beer-Lambert, the typical H&E stain matrix); its own fields are
// used where their hematoxylin separates nuclei from stroma exactly.

#include "itkNuclearAreaFraction.h"
#include "itkSyntheticStainedTissue.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace
{
using StackType = itk::NuclearAreaFraction::PatchStackType;
constexpr unsigned int Side = 48;
constexpr double       Radius = 5.0;

/** A stroma patch (eosin with smooth variation, faint hematoxylin) with \p nuclei discs of dense
 * hematoxylin on a 4 x 4 grid; returns the fraction of pixels inside the discs. */
double
DrawPatch(unsigned int nuclei, std::uint32_t seed, itk::SyntheticStainField & field)
{
  std::mt19937 generator(seed);
  const auto   uniform = [&] { return generator() / 4294967296.0; };
  field.Width = Side;
  field.Height = Side;
  field.Hematoxylin.assign(Side * Side, 0.0f);
  field.Eosin.assign(Side * Side, 0.0f);
  const double phase = 6.283 * uniform();
  for (unsigned int y = 0; y < Side; ++y)
  {
    for (unsigned int x = 0; x < Side; ++x)
    {
      field.Eosin[y * Side + x] =
        static_cast<float>(0.5 + 0.15 * std::sin(0.3 * x + 0.2 * y + phase) + 0.06 * (uniform() - 0.5));
      field.Hematoxylin[y * Side + x] = static_cast<float>(0.05 + 0.03 * uniform());
    }
  }
  std::size_t inside = 0;
  for (unsigned int k = 0; k < nuclei; ++k)
  {
    // Grid cells in a seed-dependent order, so patches with equal counts differ.
    const unsigned int cell = (k * 7 + seed) % 16;
    const double       cx = 6.0 + 12.0 * (cell % 4);
    const double       cy = 6.0 + 12.0 * (cell / 4);
    for (unsigned int y = 0; y < Side; ++y)
    {
      for (unsigned int x = 0; x < Side; ++x)
      {
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= Radius * Radius)
        {
          field.Hematoxylin[y * Side + x] = static_cast<float>(0.9 + 0.3 * uniform());
          field.Eosin[y * Side + x] = static_cast<float>(0.2 + 0.1 * uniform());
          ++inside;
        }
      }
    }
  }
  return static_cast<double>(inside) / (Side * Side);
}

/** A stack of patches with the given nucleus counts; their true nuclear fractions in \p truth. */
StackType::Pointer
MakeStack(const std::vector<unsigned int> & nuclei, std::uint32_t seed, std::vector<double> & truth)
{
  auto                 stack = StackType::New();
  StackType::SizeType  size{ { Side, Side, nuclei.size() } };
  StackType::IndexType start{ { 0, 0, 0 } };
  stack->SetRegions(StackType::RegionType(start, size));
  stack->Allocate();
  auto * bytes = reinterpret_cast<unsigned char *>(stack->GetBufferPointer());
  truth.clear();
  for (std::size_t k = 0; k < nuclei.size(); ++k)
  {
    itk::SyntheticStainField field;
    truth.push_back(DrawPatch(nuclei[k], seed + static_cast<std::uint32_t>(k), field));
    const auto rgb = itk::SyntheticStainField::Render(field, itk::SyntheticStainField::TypicalHEStainMatrix());
    std::copy(rgb.begin(), rgb.end(), bytes + k * rgb.size());
  }
  return stack;
}
} // namespace

TEST(NuclearAreaFraction, MatchesDiscAreaAndGrowsWithNuclei)
{
  std::vector<double> realTruth;
  std::vector<double> syntheticTruth;
  const auto          real = MakeStack({ 0, 2, 4, 7, 10, 14 }, 1, realTruth);
  const auto          synthetic = MakeStack({ 1, 3, 5, 16 }, 101, syntheticTruth);
  const auto          result = itk::NuclearAreaFractions::Compute(real, synthetic);
  ASSERT_EQ(result.Real.size(), 6u);
  ASSERT_EQ(result.Synthetic.size(), 4u);
  // The estimated hematoxylin vector is close to the one rendered with.
  const auto truthMatrix = itk::SyntheticStainField::TypicalHEStainMatrix();
  double     cosine = 0.0;
  for (int c = 0; c < 3; ++c)
  {
    cosine += truthMatrix[0][c] * result.Measurement.Stains.StainMatrix[0][c];
  }
  EXPECT_GT(cosine, 0.99);
  for (std::size_t k = 0; k < realTruth.size(); ++k)
  {
    EXPECT_NEAR(result.Real[k], realTruth[k], 0.005) << "real patch " << k;
    if (k > 0)
    {
      EXPECT_GT(result.Real[k], result.Real[k - 1]) << "more nuclei, larger fraction";
    }
  }
  for (std::size_t k = 0; k < syntheticTruth.size(); ++k)
  {
    EXPECT_NEAR(result.Synthetic[k], syntheticTruth[k], 0.005) << "synthetic patch " << k;
  }
  EXPECT_DOUBLE_EQ(result.Real[0], 0.0); // stroma alone has no nuclear pixel
}

TEST(NuclearAreaFraction, MatchesNucleiOfVaryingDensity)
{
  // SyntheticStainField::Generate's nuclei vary 3x in hematoxylin (at least 0.47) over stroma of at most
  // 0.08, so "field hematoxylin > 0.3" is their exact mask. Eight 64 x 64 patches of a 256 x 128 field.
  constexpr unsigned int Width = 256, Height = 128, Patch = 64;
  const auto             field = itk::SyntheticStainField::Generate(Width, Height, 11, 12.0);
  const auto           rgb = itk::SyntheticStainField::Render(field, itk::SyntheticStainField::TypicalHEStainMatrix());
  auto                 stack = StackType::New();
  StackType::SizeType  size{ { Patch, Patch, (Width / Patch) * (Height / Patch) } };
  StackType::IndexType start{ { 0, 0, 0 } };
  stack->SetRegions(StackType::RegionType(start, size));
  stack->Allocate();
  auto *              bytes = reinterpret_cast<unsigned char *>(stack->GetBufferPointer());
  std::vector<double> truth;
  std::size_t         k = 0;
  for (unsigned int py = 0; py < Height / Patch; ++py)
  {
    for (unsigned int px = 0; px < Width / Patch; ++px, ++k)
    {
      std::size_t tissue = 0, nuclear = 0;
      for (unsigned int y = 0; y < Patch; ++y)
      {
        for (unsigned int x = 0; x < Patch; ++x)
        {
          const std::size_t i = std::size_t{ py * Patch + y } * Width + px * Patch + x;
          const std::size_t o = 3 * (k * Patch * Patch + y * Patch + x);
          double            opticalDensity = 0.0;
          for (int c = 0; c < 3; ++c)
          {
            bytes[o + c] = rgb[3 * i + c];
            opticalDensity -= std::log(std::max(1, int{ rgb[3 * i + c] }) / 255.0);
          }
          if (opticalDensity >= 0.15) // the measurement's tissue test
          {
            ++tissue;
            nuclear += field.Hematoxylin[i] > 0.3f;
          }
        }
      }
      truth.push_back(static_cast<double>(nuclear) / tissue);
    }
  }
  const auto fractions = itk::NuclearAreaFractions::Compute(stack).Real;
  for (std::size_t p = 0; p < truth.size(); ++p)
  {
    EXPECT_NEAR(fractions[p], truth[p], 0.006) << "patch " << p;
  }
}

TEST(NuclearAreaFraction, SinglePatchAndBackground)
{
  std::vector<double> truth;
  const auto          real = MakeStack({ 3, 8, 12 }, 5, truth);
  const auto          measurement = itk::NuclearAreaFraction::Fit(real);
  EXPECT_GT(measurement.Threshold, 0.0);

  // One patch as a 2-D image gives what the stack gives for it.
  auto                                          patch = itk::NuclearAreaFraction::PatchType::New();
  itk::NuclearAreaFraction::PatchType::SizeType size{ { Side, Side } };
  patch->SetRegions(size);
  patch->Allocate();
  std::copy_n(real->GetBufferPointer() + Side * Side, Side * Side, patch->GetBufferPointer());
  EXPECT_DOUBLE_EQ(measurement.Measure(patch), measurement.Measure(real)[1]);

  // A white patch has no tissue: NaN, not 0.
  auto                 white = StackType::New();
  StackType::SizeType  whiteSize{ { Side, Side, 2 } };
  StackType::IndexType start{ { 0, 0, 0 } };
  white->SetRegions(StackType::RegionType(start, whiteSize));
  white->Allocate();
  white->FillBuffer(itk::RGBPixel<unsigned char>(255));
  const auto fractions = measurement.Measure(white);
  ASSERT_EQ(fractions.size(), 2u);
  EXPECT_TRUE(std::isnan(fractions[0]));

  // An explicit threshold is used as given; a higher one finds fewer nuclear pixels.
  itk::NuclearAreaFractionSettings settings;
  settings.Threshold = 10.0;
  const auto strict = itk::NuclearAreaFraction::Fit(real, nullptr, settings);
  EXPECT_EQ(strict.Threshold, 10.0);
  EXPECT_EQ(strict.Measure(patch), 0.0);
}

TEST(NuclearAreaFraction, BadInputThrows)
{
  std::vector<double> truth;
  const auto          real = MakeStack({ 3, 8 }, 9, truth);
  EXPECT_THROW(itk::NuclearAreaFraction::Fit(nullptr), itk::ExceptionObject);
  auto                 white = StackType::New();
  StackType::SizeType  size{ { Side, Side, 1 } };
  StackType::IndexType start{ { 0, 0, 0 } };
  white->SetRegions(StackType::RegionType(start, size));
  white->Allocate();
  white->FillBuffer(itk::RGBPixel<unsigned char>(255));
  EXPECT_THROW(itk::NuclearAreaFraction::Fit(white), itk::ExceptionObject); // no tissue
  auto empty = StackType::New();
  EXPECT_THROW(itk::NuclearAreaFraction::Fit(empty), itk::ExceptionObject);
  itk::NuclearAreaFractionSettings settings;
  settings.ThresholdFraction = 0.0;
  EXPECT_THROW(itk::NuclearAreaFraction::Fit(real, nullptr, settings), itk::ExceptionObject);
  settings = itk::NuclearAreaFractionSettings();
  settings.ReferencePercentile = 101.0;
  EXPECT_THROW(itk::NuclearAreaFraction::Fit(real, nullptr, settings), itk::ExceptionObject);
  const itk::NuclearAreaFraction unfitted;
  EXPECT_THROW(unfitted.Measure(real), itk::ExceptionObject);
}
