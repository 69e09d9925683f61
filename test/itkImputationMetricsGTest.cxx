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

// Imputation metrics against closed forms: SSIM of identical images is 1 and of two constant
// images (2ab + C1) / (a^2 + b^2 + C1); PSNR from a known squared error; only held-out positions count.

#include "itkImputationMetrics.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

namespace
{
itk::GeneImageType::Pointer
OneGene(unsigned int columns, unsigned int rows, const std::function<float(unsigned int, unsigned int)> & value)
{
  auto                           image = itk::GeneImageType::New();
  itk::GeneImageType::RegionType region;
  region.SetSize({ { columns, rows } });
  image->SetRegions(region);
  image->SetNumberOfComponentsPerPixel(1);
  image->Allocate();
  for (unsigned int row = 0; row < rows; ++row)
  {
    for (unsigned int column = 0; column < columns; ++column)
    {
      image->GetBufferPointer()[row * columns + column] = value(column, row);
    }
  }
  return image;
}

itk::GridMaskType::Pointer
MaskWhere(unsigned int columns, unsigned int rows, const std::function<bool(unsigned int, unsigned int)> & on)
{
  auto                          mask = itk::GridMaskType::New();
  itk::GridMaskType::RegionType region;
  region.SetSize({ { columns, rows } });
  mask->SetRegions(region);
  mask->Allocate();
  for (unsigned int row = 0; row < rows; ++row)
  {
    for (unsigned int column = 0; column < columns; ++column)
    {
      mask->GetBufferPointer()[row * columns + column] = on(column, row) ? 1 : 0;
    }
  }
  return mask;
}
} // namespace

TEST(ImputationMetrics, StructuralSimilarityClosedForms)
{
  std::vector<double> a(12 * 10);
  for (std::size_t i = 0; i < a.size(); ++i)
  {
    a[i] = std::sin(0.7 * static_cast<double>(i)) + 2.0;
  }
  EXPECT_NEAR(itk::ImputationMetrics::StructuralSimilarity(a, a, 12, 2.0), 1.0, 1e-12);
  const double              x = 0.3, y = 0.8, range = 1.0;
  const double              c1 = 0.01 * 0.01;
  const std::vector<double> constantA(60, x), constantB(60, y);
  EXPECT_NEAR(itk::ImputationMetrics::StructuralSimilarity(constantA, constantB, 6, range),
              (2 * x * y + c1) / (x * x + y * y + c1),
              1e-12);
  EXPECT_TRUE(std::isnan(itk::ImputationMetrics::StructuralSimilarity(a, a, 12, 0.0)));
  EXPECT_THROW(itk::ImputationMetrics::StructuralSimilarity(a, constantA, 12, 1.0), itk::ExceptionObject);
}

TEST(ImputationMetrics, OnlyHeldOutPositionsCount)
{
  const unsigned int columns = 9, rows = 7;
  const auto         truth =
    OneGene(columns, rows, [](unsigned int c, unsigned int r) { return static_cast<float>(c + 2 * r); });
  const auto heldOut = MaskWhere(columns, rows, [](unsigned int c, unsigned int r) { return (c + r) % 3 == 0; });
  const auto known = MaskWhere(columns, rows, [](unsigned int, unsigned int) { return true; });
  // Off by +1 at held-out positions, wildly off elsewhere (which must not count).
  const auto imputed = OneGene(columns, rows, [](unsigned int c, unsigned int r) {
    return (c + r) % 3 == 0 ? static_cast<float>(c + 2 * r + 1) : 1000.0f;
  });
  const auto metrics = itk::ImputationMetrics::Compute(*truth, *imputed, *heldOut, *known, {}, { "G" });
  EXPECT_NEAR(metrics.HeldOut.MeanAbsoluteError, 1.0, 1e-9);
  EXPECT_NEAR(metrics.HeldOut.RootMeanSquaredError, 1.0, 1e-9);
  EXPECT_NEAR(metrics.HeldOut.MeanPearson, 1.0, 1e-9); // a shift keeps the correlation
  const double range = (columns - 1) + 2.0 * (rows - 1);
  EXPECT_NEAR(metrics.MeanPSNR, 10.0 * std::log10(range * range / 1.0), 1e-9);
  EXPECT_LT(metrics.MeanSSIM, 1.0);
  EXPECT_GT(metrics.MeanSSIM, 0.9);
  const auto exact = itk::ImputationMetrics::Compute(*truth, *truth, *heldOut, *known);
  EXPECT_NEAR(exact.MeanSSIM, 1.0, 1e-12);
  EXPECT_TRUE(std::isinf(exact.GenePSNR[0]));
  const auto json = nlohmann::json::parse(metrics.ToJSON());
  EXPECT_EQ(json["per_gene"][0]["gene"], "G");
  EXPECT_EQ(json["positions"], metrics.HeldOut.Spots);
  const auto none = MaskWhere(columns, rows, [](unsigned int, unsigned int) { return false; });
  EXPECT_THROW(itk::ImputationMetrics::Compute(*truth, *imputed, *none, *known), itk::ExceptionObject);
  EXPECT_THROW(itk::ImputationMetrics::Compute(*truth, *imputed, *heldOut, *known, { 1 }), itk::ExceptionObject);
}
