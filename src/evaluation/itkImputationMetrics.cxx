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
#include "itkImputationMetrics.h"

#include "itkJsonNumbers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace itk
{
namespace
{
constexpr int SSIMWindowRadius = 3; // 7 x 7, scikit-image's default

double
MeanOfFinite(const std::vector<double> & values)
{
  double      sum = 0.0;
  std::size_t count = 0;
  for (const double value : values)
  {
    if (std::isfinite(value))
    {
      sum += value;
      ++count;
    }
  }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}
} // namespace

double
ImputationMetrics::StructuralSimilarity(const std::vector<double> & a, const std::vector<double> & b,
                                        std::size_t columns, double range, const std::vector<std::uint8_t> & where)
{
  if (a.size() != b.size() || columns == 0 || a.size() % columns != 0 || (!where.empty() && where.size() != a.size()))
  {
    itkGenericExceptionMacro(<< "SSIM needs two images of the same size and a matching mask");
  }
  if (!(range > 0.0))
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double      c1 = (0.01 * range) * (0.01 * range);
  const double      c2 = (0.03 * range) * (0.03 * range);
  const std::size_t rows = a.size() / columns;
  double            sum = 0.0;
  std::size_t       count = 0;
  for (std::size_t row = 0; row < rows; ++row)
  {
    for (std::size_t column = 0; column < columns; ++column)
    {
      if (!where.empty() && where[row * columns + column] == 0)
      {
        continue;
      }
      double      sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0;
      std::size_t n = 0;
      const auto  r0 = static_cast<std::ptrdiff_t>(row) - SSIMWindowRadius;
      const auto  c0 = static_cast<std::ptrdiff_t>(column) - SSIMWindowRadius;
      for (auto r = std::max<std::ptrdiff_t>(0, r0);
           r <= r0 + 2 * SSIMWindowRadius && r < static_cast<std::ptrdiff_t>(rows);
           ++r)
      {
        for (auto c = std::max<std::ptrdiff_t>(0, c0);
             c <= c0 + 2 * SSIMWindowRadius && c < static_cast<std::ptrdiff_t>(columns);
             ++c)
        {
          const double x = a[static_cast<std::size_t>(r) * columns + static_cast<std::size_t>(c)];
          const double y = b[static_cast<std::size_t>(r) * columns + static_cast<std::size_t>(c)];
          sa += x;
          sb += y;
          saa += x * x;
          sbb += y * y;
          sab += x * y;
          ++n;
        }
      }
      const double nn = static_cast<double>(n);
      const double ma = sa / nn;
      const double mb = sb / nn;
      // Sample (N - 1) covariances, as scikit-image's use_sample_covariance=True.
      const double correction = n > 1 ? nn / (nn - 1.0) : 1.0;
      const double va = (saa / nn - ma * ma) * correction;
      const double vb = (sbb / nn - mb * mb) * correction;
      const double cab = (sab / nn - ma * mb) * correction;
      sum += ((2.0 * ma * mb + c1) * (2.0 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      ++count;
    }
  }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

ImputationMetrics
ImputationMetrics::Compute(const GeneImageType & truth, const GeneImageType & imputed, const GridMaskType & heldOut,
                           const GridMaskType & known, const std::vector<std::size_t> & genes,
                           const std::vector<std::string> & geneNames)
{
  const auto size = truth.GetLargestPossibleRegion().GetSize();
  if (imputed.GetLargestPossibleRegion().GetSize() != size || heldOut.GetLargestPossibleRegion().GetSize() != size ||
      known.GetLargestPossibleRegion().GetSize() != size ||
      truth.GetNumberOfComponentsPerPixel() != imputed.GetNumberOfComponentsPerPixel())
  {
    itkGenericExceptionMacro(<< "Truth, imputation and masks must have the same size and genes");
  }
  const std::size_t        components = truth.GetNumberOfComponentsPerPixel();
  std::vector<std::size_t> chosen = genes;
  if (chosen.empty())
  {
    for (std::size_t gene = 0; gene < components; ++gene)
    {
      chosen.push_back(gene);
    }
  }
  for (const std::size_t gene : chosen)
  {
    if (gene >= components)
    {
      itkGenericExceptionMacro(<< "Gene " << gene << " is not among the image's " << components << " genes");
    }
  }
  if (!geneNames.empty() && geneNames.size() != chosen.size())
  {
    itkGenericExceptionMacro(<< geneNames.size() << " gene names for " << chosen.size() << " genes");
  }
  const std::size_t        positions = size[0] * size[1];
  const unsigned char *    held = heldOut.GetBufferPointer();
  const unsigned char *    isKnown = known.GetBufferPointer();
  std::vector<std::size_t> heldPositions;
  for (std::size_t p = 0; p < positions; ++p)
  {
    if (held[p] != 0)
    {
      heldPositions.push_back(p);
    }
  }
  if (heldPositions.empty())
  {
    itkGenericExceptionMacro(<< "No position is held out: there is nothing to measure");
  }
  const float * t = truth.GetBufferPointer();
  const float * m = imputed.GetBufferPointer();
  auto          truthSpots = MatrixOperations::Zeros(heldPositions.size(), chosen.size());
  auto          imputedSpots = MatrixOperations::Zeros(heldPositions.size(), chosen.size());
  for (std::size_t i = 0; i < heldPositions.size(); ++i)
  {
    for (std::size_t g = 0; g < chosen.size(); ++g)
    {
      truthSpots(i, g) = t[heldPositions[i] * components + chosen[g]];
      imputedSpots(i, g) = m[heldPositions[i] * components + chosen[g]];
    }
  }
  ImputationMetrics        metrics;
  std::vector<std::string> names = geneNames;
  if (names.empty())
  {
    for (const std::size_t gene : chosen)
    {
      names.push_back(std::to_string(gene));
    }
  }
  metrics.HeldOut = ExpressionMetrics::Compute(truthSpots, imputedSpots, names);
  std::vector<std::uint8_t> where(held, held + positions);
  for (const std::size_t gene : chosen)
  {
    std::vector<double> a(positions, 0.0);
    std::vector<double> b(positions, 0.0);
    double              low = std::numeric_limits<double>::infinity();
    double              high = -std::numeric_limits<double>::infinity();
    double              squaredError = 0.0;
    for (std::size_t p = 0; p < positions; ++p)
    {
      if (isKnown[p] == 0 && held[p] == 0)
      {
        continue;
      }
      a[p] = t[p * components + gene];
      b[p] = held[p] != 0 ? m[p * components + gene] : a[p];
      low = std::min(low, a[p]);
      high = std::max(high, a[p]);
      squaredError += (a[p] - b[p]) * (a[p] - b[p]);
    }
    const double range = high - low;
    const double mse = squaredError / static_cast<double>(heldPositions.size());
    metrics.GeneSSIM.push_back(ImputationMetrics::StructuralSimilarity(a, b, size[0], range, where));
    metrics.GenePSNR.push_back(
      range > 0.0 ? (mse > 0.0 ? 10.0 * std::log10(range * range / mse) : std::numeric_limits<double>::infinity())
                  : std::numeric_limits<double>::quiet_NaN());
  }
  metrics.MeanSSIM = MeanOfFinite(metrics.GeneSSIM);
  metrics.MeanPSNR = MeanOfFinite(metrics.GenePSNR);
  return metrics;
}

std::string
ImputationMetrics::ToJSON() const
{
  nlohmann::json json;
  json["positions"] = HeldOut.Spots;
  json["genes"] = HeldOut.Genes.size();
  json["mae"] = JsonNumber(HeldOut.MeanAbsoluteError);
  json["rmse"] = JsonNumber(HeldOut.RootMeanSquaredError);
  json["mean_pearson"] = JsonNumber(HeldOut.MeanPearson);
  json["mean_ssim"] = JsonNumber(MeanSSIM);
  json["mean_psnr"] = JsonNumber(MeanPSNR);
  json["per_gene"] = nlohmann::json::array();
  for (std::size_t g = 0; g < HeldOut.Genes.size(); ++g)
  {
    json["per_gene"].push_back({ { "gene", HeldOut.Genes[g] },
                                 { "mae", JsonNumber(HeldOut.GeneMeanAbsoluteError[g]) },
                                 { "pearson", JsonNumber(HeldOut.GenePearson[g]) },
                                 { "ssim", JsonNumber(GeneSSIM[g]) },
                                 { "psnr", JsonNumber(GenePSNR[g]) } });
  }
  return json.dump(2);
}

} // end namespace itk
