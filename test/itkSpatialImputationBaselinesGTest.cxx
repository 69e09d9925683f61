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

// The spatial baselines on fields with known answers: a smooth field is recovered far better than by
// the mean, bilinear fills midpoints with the average of their neighbours (closed form), the cubic
// B-spline passes through the measured values, and no unmeasured value is ever read.

#include "itkSpatialImputationBaselines.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <limits>
#include <random>

namespace
{
struct Field
{
  itk::SpotGrid               grid;
  itk::GeneImageType::Pointer values;
};

/** Two genes on a square grid: a smooth wave and a plane. */
Field
SmoothField(unsigned int columns, unsigned int rows)
{
  Field field;
  field.grid.Size = { { columns, rows } };
  field.grid.Spacing = { { 200.0, 200.0 } };
  field.values = itk::GeneImageType::New();
  itk::GeneImageType::RegionType region;
  region.SetSize({ { columns, rows } });
  field.values->SetRegions(region);
  field.values->SetNumberOfComponentsPerPixel(2);
  field.values->Allocate();
  for (unsigned int row = 0; row < rows; ++row)
  {
    for (unsigned int column = 0; column < columns; ++column)
    {
      float * pixel = field.values->GetBufferPointer() + 2 * (row * columns + column);
      pixel[0] = static_cast<float>(2.0 + std::sin(column / 3.0) + std::cos(row / 4.0));
      pixel[1] = static_cast<float>(0.5 * column - 0.25 * row + 10.0);
    }
  }
  return field;
}

itk::GridMaskType::Pointer
Mask(const itk::SpotGrid & grid, const std::function<bool(unsigned int, unsigned int)> & measured)
{
  auto                          mask = itk::GridMaskType::New();
  itk::GridMaskType::RegionType region;
  region.SetSize({ { grid.Size[0], grid.Size[1] } });
  mask->SetRegions(region);
  mask->Allocate();
  for (unsigned int row = 0; row < grid.Size[1]; ++row)
  {
    for (unsigned int column = 0; column < grid.Size[0]; ++column)
    {
      mask->SetPixel({ { column, row } }, measured(column, row) ? 1 : 0);
    }
  }
  return mask;
}

double
HeldOutError(const Field & field, const itk::GeneImageType & imputed, const itk::GridMaskType & measured)
{
  double      sum = 0.0;
  std::size_t count = 0;
  for (std::size_t p = 0; p < field.grid.NumberOfPositions(); ++p)
  {
    if (measured.GetBufferPointer()[p] == 0)
    {
      for (int gene = 0; gene < 2; ++gene)
      {
        sum += std::abs(imputed.GetBufferPointer()[2 * p + gene] - field.values->GetBufferPointer()[2 * p + gene]);
        ++count;
      }
    }
  }
  return sum / static_cast<double>(count);
}

float
At(const itk::GeneImageType & image, unsigned int column, unsigned int row, unsigned int gene)
{
  return image.GetBufferPointer()[2 * (row * image.GetLargestPossibleRegion().GetSize()[0] + column) + gene];
}
} // namespace

TEST(SpatialImputationBaselines, SmoothFieldOnAPhaseBeatsTheMean)
{
  const Field field = SmoothField(24, 20);
  const auto  measured = Mask(field.grid, [](unsigned int c, unsigned int r) { return c % 2 == 1 && r % 2 == 0; });
  std::array<int, 2> phase{};
  ASSERT_TRUE(itk::SpatialImputationBaselines::IsStrideTwoPhaseMask(*measured, &phase));
  EXPECT_EQ(phase, (std::array<int, 2>{ { 1, 0 } }));
  std::map<itk::SpatialBaseline, double> error;
  for (const auto baseline : itk::SpatialImputationBaselines::All())
  {
    const auto result = itk::SpatialImputationBaselines::Impute(baseline, *field.values, *measured, field.grid);
    error[baseline] = HeldOutError(field, *result.Imputed, *measured);
    // Every method keeps the measured values.
    EXPECT_EQ(At(*result.Imputed, 1, 0, 0), At(*field.values, 1, 0, 0))
      << itk::SpatialImputationBaselines::Name(baseline);
  }
  for (const auto baseline : { itk::SpatialBaseline::NearestNeighbours,
                               itk::SpatialBaseline::GaussianKernel,
                               itk::SpatialBaseline::Bilinear,
                               itk::SpatialBaseline::CubicBSpline })
  {
    EXPECT_LT(error[baseline], 0.35 * error[itk::SpatialBaseline::Mean])
      << itk::SpatialImputationBaselines::Name(baseline);
  }
  // On a smooth field the interpolating fills beat averaging neighbours.
  EXPECT_LT(error[itk::SpatialBaseline::CubicBSpline], error[itk::SpatialBaseline::NearestNeighbours]);
  EXPECT_LT(error[itk::SpatialBaseline::Bilinear], error[itk::SpatialBaseline::NearestNeighbours]);
}

TEST(SpatialImputationBaselines, ClosedForms)
{
  const Field field = SmoothField(10, 8);
  const auto  measured = Mask(field.grid, [](unsigned int c, unsigned int r) { return c % 2 == 0 && r % 2 == 0; });
  // Bilinear: a midpoint between two measured columns is their average; the plane gene is exact.
  const auto bilinear =
    itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Bilinear, *field.values, *measured, field.grid);
  EXPECT_NEAR(At(*bilinear.Imputed, 3, 2, 0), 0.5 * (At(*field.values, 2, 2, 0) + At(*field.values, 4, 2, 0)), 1e-5);
  EXPECT_NEAR(At(*bilinear.Imputed, 5, 5, 1), At(*field.values, 5, 5, 1), 1e-4);
  // Mean and median of the measured values (gene 1 at even columns and rows: 0.5 c - 0.25 r + 10).
  double              sum = 0.0;
  std::vector<double> values;
  for (unsigned int r = 0; r < 8; r += 2)
  {
    for (unsigned int c = 0; c < 10; c += 2)
    {
      values.push_back(0.5 * c - 0.25 * r + 10.0);
      sum += values.back();
    }
  }
  const auto mean =
    itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Mean, *field.values, *measured, field.grid);
  EXPECT_NEAR(At(*mean.Imputed, 1, 1, 1), sum / values.size(), 1e-5);
  std::sort(values.begin(), values.end());
  const auto median =
    itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Median, *field.values, *measured, field.grid);
  EXPECT_NEAR(At(*median.Imputed, 1, 1, 1), 0.5 * (values[9] + values[10]), 1e-5);
  const auto knn = itk::SpatialImputationBaselines::Impute(
    itk::SpatialBaseline::NearestNeighbours, *field.values, *measured, field.grid);
  EXPECT_GE(knn.Parameter, 1.0);
  const auto gaussian =
    itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::GaussianKernel, *field.values, *measured, field.grid);
  EXPECT_GT(gaussian.Parameter, 0.0);
}

TEST(SpatialImputationBaselines, UnmeasuredValuesAreNeverRead)
{
  Field             field = SmoothField(16, 14);
  std::mt19937      random(3);
  std::vector<bool> keep(field.grid.NumberOfPositions());
  for (std::size_t p = 0; p < keep.size(); ++p)
  {
    keep[p] = std::uniform_real_distribution<double>(0.0, 1.0)(random) < 0.3;
  }
  const auto measured = Mask(field.grid, [&](unsigned int c, unsigned int r) { return keep[r * 16 + c]; });
  ASSERT_FALSE(itk::SpatialImputationBaselines::IsStrideTwoPhaseMask(*measured));
  auto poisoned = SmoothField(16, 14).values;
  for (std::size_t p = 0; p < keep.size(); ++p)
  {
    if (!keep[p])
    {
      poisoned->GetBufferPointer()[2 * p] = std::numeric_limits<float>::quiet_NaN();
      poisoned->GetBufferPointer()[2 * p + 1] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  for (const auto baseline : { itk::SpatialBaseline::Mean,
                               itk::SpatialBaseline::Median,
                               itk::SpatialBaseline::NearestNeighbours,
                               itk::SpatialBaseline::GaussianKernel })
  {
    const auto clean = itk::SpatialImputationBaselines::Impute(baseline, *field.values, *measured, field.grid);
    const auto dirty = itk::SpatialImputationBaselines::Impute(baseline, *poisoned, *measured, field.grid);
    for (std::size_t i = 0; i < 2 * keep.size(); ++i)
    {
      ASSERT_EQ(clean.Imputed->GetBufferPointer()[i], dirty.Imputed->GetBufferPointer()[i])
        << itk::SpatialImputationBaselines::Name(baseline);
    }
  }
  // A random mask has no sub-lattice to interpolate.
  EXPECT_THROW(
    itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Bilinear, *field.values, *measured, field.grid),
    itk::ExceptionObject);
}

TEST(SpatialImputationBaselines, BadInputIsRefused)
{
  const Field field = SmoothField(8, 8);
  const auto  none = Mask(field.grid, [](unsigned int, unsigned int) { return false; });
  EXPECT_THROW(itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Mean, *field.values, *none, field.grid),
               itk::ExceptionObject);
  const auto some = Mask(field.grid, [](unsigned int c, unsigned int) { return c == 2; });
  field.values->GetBufferPointer()[2 * 2] = std::numeric_limits<float>::quiet_NaN(); // measured (2, 0)
  EXPECT_THROW(itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Mean, *field.values, *some, field.grid),
               itk::ExceptionObject);
  itk::SpotGrid other = field.grid;
  other.Size = { { 9, 8 } };
  EXPECT_THROW(itk::SpatialImputationBaselines::Impute(itk::SpatialBaseline::Mean, *field.values, *some, other),
               itk::ExceptionObject);
}
