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
#include "itkStainAnalysis.h"

#include "itkCIELab.h"
#include "itkStainStatistics.h"
#include "vnl/algo/vnl_symmetric_eigensystem.h"
#include "vnl/vnl_matrix_fixed.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace itk
{
namespace
{
using stain::Matrix23;

/** 8-bit interleaved pixels, red, green and blue first. */
struct PixelBuffer
{
  const unsigned char * Data;
  std::size_t           Count;
  unsigned int          Components;

  const unsigned char *
  operator[](std::size_t i) const
  {
    return Data + i * Components;
  }
};

/** numpy.percentile of all red, green and blue values, read off their histogram. */
double
HistogramPercentile(const std::array<std::uint64_t, 256> & histogram, std::uint64_t count, double q)
{
  const auto ranks = stain::RanksOfPercentile(count, q);
  const auto valueAtRank = [&](std::uint64_t rank) {
    std::uint64_t seen = 0;
    for (unsigned int v = 0; v < 256; ++v)
    {
      seen += histogram[v];
      if (seen > rank)
      {
        return static_cast<double>(v);
      }
    }
    return 255.0;
  };
  const double a = valueAtRank(ranks.Lower);
  return ranks.Fraction == 0.0 ? a : a + (valueAtRank(ranks.Lower + 1) - a) * ranks.Fraction;
}

/** The tissue mask of TIAToolbox's get_luminosity_tissue_mask, as a test on luminance, and
 * Macenko's transparency test. The contrast stretch alone would turn a blank slide's faint noise
 * into "tissue"; a pixel must also absorb some light (summed optical density) to count. */
class TissueMask
{
public:
  TissueMask(const PixelBuffer & pixels, double threshold, double minimumOpticalDensity)
    : m_MinimumOpticalDensity(minimumOpticalDensity)
  {
    // 2nd and 98th percentiles over all colour values, as contrast_enhancer does.
    struct Histogram
    {
      std::array<std::uint64_t, 256> counts{};
      Histogram &
      operator+=(const Histogram & other)
      {
        for (unsigned int v = 0; v < 256; ++v)
        {
          counts[v] += other.counts[v];
        }
        return *this;
      }
    };
    const auto histogram =
      stain::ParallelSum<Histogram>(pixels.Count, [&](std::size_t begin, std::size_t end, Histogram & h) {
        for (std::size_t i = begin; i < end; ++i)
        {
          const unsigned char * p = pixels[i];
          ++h.counts[p[0]];
          ++h.counts[p[1]];
          ++h.counts[p[2]];
        }
      }).counts;
    double low = HistogramPercentile(histogram, 3 * pixels.Count, 2.0);
    double high = HistogramPercentile(histogram, 3 * pixels.Count, 98.0);
    if (low >= high)
    {
      const auto first = std::find_if(histogram.begin(), histogram.end(), [](std::uint64_t c) { return c > 0; });
      const auto last = std::find_if(histogram.rbegin(), histogram.rend(), [](std::uint64_t c) { return c > 0; });
      low = static_cast<double>(first - histogram.begin());
      high = static_cast<double>(255 - (last - histogram.rbegin()));
    }
    for (unsigned int v = 0; v < 256; ++v)
    {
      double stretched = v;
      if (high > low)
      {
        // skimage.exposure.rescale_intensity to [0, 255], then numpy's truncating uint8 cast.
        stretched = std::floor((std::min(std::max(double(v), low), high) - low) / (high - low) * 255.0);
      }
      const double linear = cielab::SRGBToLinear(stretched);
      for (unsigned int c = 0; c < 3; ++c)
      {
        m_Luminance[c][v] = cielab::LuminanceWeights[c] * linear;
      }
    }
    // OpenCV rounds L * 255 / 100 to 8 bits, and the mask is L8 / 255 < threshold: find the
    // largest passing L8 with the same double arithmetic, then the luminance where L rounds past it.
    int largest = -1;
    for (int l8 = 0; l8 < 256; ++l8)
    {
      if (l8 / 255.0 < threshold)
      {
        largest = l8;
      }
    }
    m_MaximumLuminance = largest < 0 ? -1.0 : cielab::LuminanceFromLightness((largest + 0.5) * 100.0 / 255.0);
  }

  bool
  IsTissue(const unsigned char * p) const
  {
    return m_Luminance[0][p[0]] + m_Luminance[1][p[1]] + m_Luminance[2][p[2]] < m_MaximumLuminance &&
           m_OpticalDensity[p[0]] + m_OpticalDensity[p[1]] + m_OpticalDensity[p[2]] >= m_MinimumOpticalDensity;
  }

private:
  std::array<std::array<double, 256>, 3> m_Luminance{};
  double                                 m_MaximumLuminance;
  std::array<double, 256>                m_OpticalDensity{ stain::OpticalDensityTable() };
  double                                 m_MinimumOpticalDensity;
};

/** Count, mean and covariance (numpy.cov: n - 1) of the tissue pixels' optical densities. */
struct TissueStatistics
{
  std::uint64_t         Count{ 0 };
  std::array<double, 3> Mean{};
  double                Covariance[3][3]{};
};

TissueStatistics
ComputeTissueStatistics(const PixelBuffer & pixels, const TissueMask & mask, const std::array<double, 256> & od)
{
  struct Sums
  {
    std::uint64_t count{ 0 };
    double        first[3]{};
    double        second[6]{};
    Sums &
    operator+=(const Sums & o)
    {
      count += o.count;
      for (int k = 0; k < 3; ++k)
      {
        first[k] += o.first[k];
      }
      for (int k = 0; k < 6; ++k)
      {
        second[k] += o.second[k];
      }
      return *this;
    }
  };
  const auto       sums = stain::ParallelSum<Sums>(pixels.Count, [&](std::size_t begin, std::size_t end, Sums & s) {
    for (std::size_t i = begin; i < end; ++i)
    {
      const unsigned char * p = pixels[i];
      if (!mask.IsTissue(p))
      {
        continue;
      }
      const double r = od[p[0]];
      const double g = od[p[1]];
      const double b = od[p[2]];
      ++s.count;
      s.first[0] += r;
      s.first[1] += g;
      s.first[2] += b;
      s.second[0] += r * r;
      s.second[1] += r * g;
      s.second[2] += r * b;
      s.second[3] += g * g;
      s.second[4] += g * b;
      s.second[5] += b * b;
    }
  });
  TissueStatistics statistics;
  statistics.Count = sums.count;
  if (sums.count < 2)
  {
    return statistics;
  }
  for (int c = 0; c < 3; ++c)
  {
    statistics.Mean[c] = sums.first[c] / sums.count;
  }
  const int index[3][3] = { { 0, 1, 2 }, { 1, 3, 4 }, { 2, 4, 5 } };
  for (int r = 0; r < 3; ++r)
  {
    for (int c = 0; c < 3; ++c)
    {
      statistics.Covariance[r][c] =
        (sums.second[index[r][c]] - sums.count * statistics.Mean[r] * statistics.Mean[c]) / (sums.count - 1);
    }
  }
  return statistics;
}

/** A monotone stand-in for atan2(y, x) in (-2, 2], cheaper than atan2 for ranking angles. */
inline float
PseudoAngle(double y, double x)
{
  const double sum = std::abs(x) + std::abs(y);
  if (sum == 0.0)
  {
    return 0.0f;
  }
  return static_cast<float>(std::copysign(1.0 - x / sum, y));
}

/** The true angle of a pseudo-angle. */
double
AngleOfPseudoAngle(double p)
{
  const double x = 1.0 - std::abs(p);
  return std::atan2(std::copysign(1.0 - std::abs(x), p), x);
}

/** Hematoxylin first: the vector with the larger red optical density; rows normalised. */
Matrix23
OrderAndNormalize(const std::array<double, 3> & v1, const std::array<double, 3> & v2)
{
  Matrix23 he = v1[0] > v2[0] ? Matrix23{ { v1, v2 } } : Matrix23{ { v2, v1 } };
  for (auto & row : he)
  {
    const double norm = std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
    if (!(norm > 0.0))
    {
      itkGenericExceptionMacro(<< "A stain vector came out as zero; the tissue is too uniform to separate two "
                                  "stains: use the Ruifrok method or give the stain matrix explicitly");
    }
    for (auto & value : row)
    {
      value /= norm;
    }
  }
  return he;
}

/** Macenko et al. 2009, as TIAToolbox's MacenkoExtractor: the plane of the two largest
 * eigenvectors of the OD covariance, and the stain vectors at the angular percentiles in it. */
Matrix23
MacenkoStainMatrix(const PixelBuffer & pixels, const TissueMask & mask, const std::array<double, 256> & od,
                   const TissueStatistics & statistics, double angularPercentile)
{
  vnl_matrix_fixed<double, 3, 3> covariance;
  for (int r = 0; r < 3; ++r)
  {
    for (int c = 0; c < 3; ++c)
    {
      covariance(r, c) = statistics.Covariance[r][c];
    }
  }
  // Eigenvalues ascending: the plane of the two largest, each pointing to positive red OD.
  const vnl_symmetric_eigensystem<double> eigen(covariance.as_ref());
  std::array<std::array<double, 3>, 2>    basis{};
  for (int k = 0; k < 2; ++k)
  {
    const double sign = eigen.V(0, 2 - k) < 0.0 ? -1.0 : 1.0;
    for (int c = 0; c < 3; ++c)
    {
      basis[k][c] = sign * eigen.V(c, 2 - k);
    }
  }
  std::uint64_t count = 0;
  const auto    angles = stain::Percentiles(
    pixels.Count,
    [&](std::size_t i, float & value) {
      const unsigned char * p = pixels[i];
      if (!mask.IsTissue(p))
      {
        return false;
      }
      const double r = od[p[0]];
      const double g = od[p[1]];
      const double b = od[p[2]];
      value = PseudoAngle(basis[1][0] * r + basis[1][1] * g + basis[1][2] * b,
                          basis[0][0] * r + basis[0][1] * g + basis[0][2] * b);
      return true;
    },
    -2.0,
    2.0,
    { 100.0 - angularPercentile, angularPercentile },
    count,
    AngleOfPseudoAngle);
  std::array<double, 3> v1{};
  std::array<double, 3> v2{};
  for (int c = 0; c < 3; ++c)
  {
    v1[c] = basis[0][c] * std::cos(angles[0]) + basis[1][c] * std::sin(angles[0]);
    v2[c] = basis[0][c] * std::cos(angles[1]) + basis[1][c] * std::sin(angles[1]);
  }
  return OrderAndNormalize(v1, v2);
}

/** Non-negative concentrations h minimising 0.5 |v - h W|^2 + lambda |h|_1 for one pixel: the
 * problem is convex in two unknowns, so the best of its four active sets is the exact minimum. */
inline std::array<double, 2>
SparseConcentrations(const double gram[2][2], const double b[2], double lambda)
{
  const auto objective = [&](double h0, double h1) {
    return 0.5 * (gram[0][0] * h0 * h0 + 2.0 * gram[0][1] * h0 * h1 + gram[1][1] * h1 * h1) - (b[0] - lambda) * h0 -
           (b[1] - lambda) * h1;
  };
  std::array<double, 2> best{ { 0.0, 0.0 } };
  double                bestValue = 0.0;
  const double          determinant = gram[0][0] * gram[1][1] - gram[0][1] * gram[1][0];
  if (determinant > 0.0)
  {
    const double h0 = (gram[1][1] * (b[0] - lambda) - gram[0][1] * (b[1] - lambda)) / determinant;
    const double h1 = (gram[0][0] * (b[1] - lambda) - gram[1][0] * (b[0] - lambda)) / determinant;
    if (h0 >= 0.0 && h1 >= 0.0)
    {
      return { { h0, h1 } };
    }
  }
  const double only0 = std::max(0.0, (b[0] - lambda) / gram[0][0]);
  const double only1 = std::max(0.0, (b[1] - lambda) / gram[1][1]);
  if (objective(only0, 0.0) < bestValue)
  {
    best = { { only0, 0.0 } };
    bestValue = objective(only0, 0.0);
  }
  if (objective(0.0, only1) < bestValue)
  {
    best = { { 0.0, only1 } };
  }
  return best;
}

/** Vahadane et al. 2016: sparse non-negative factorisation OD = H W of the tissue pixels,
 * min 0.5 |V - H W|^2 + lambda |H|_1 with H >= 0, W >= 0 and |w_k| <= 1 (the problem SPAMS'
 * trainDL solves for StainTools). Alternates exact per-pixel concentrations with Mairal et al.'s
 * block-coordinate stain update (each step lowers the objective), started from Macenko's stains,
 * so it is deterministic, unlike dictionary learning from a random start. Each iteration visits
 * every sample, so the fit uses at most VahadaneMaximumPixels tissue pixels, an even stride. */
Matrix23
VahadaneStainMatrix(const PixelBuffer & pixels, const TissueMask & mask, const std::array<double, 256> & opticalDensity,
                    const TissueStatistics & statistics, const StainEstimationOptions & options)
{
  Matrix23              w = MacenkoStainMatrix(pixels, mask, opticalDensity, statistics, options.AngularPercentile);
  constexpr std::size_t VahadaneMaximumPixels = 100000;
  const std::size_t     stride = std::max<std::size_t>(1, statistics.Count / VahadaneMaximumPixels);
  std::vector<float>    od;
  for (std::size_t i = 0; i < pixels.Count; i += stride)
  {
    const unsigned char * p = pixels[i];
    if (mask.IsTissue(p))
    {
      od.insert(od.end(),
                { static_cast<float>(opticalDensity[p[0]]),
                  static_cast<float>(opticalDensity[p[1]]),
                  static_cast<float>(opticalDensity[p[2]]) });
    }
  }
  const std::size_t n = od.size() / 3;
  const double      lambda = options.VahadaneRegularization;
  for (unsigned int iteration = 0; iteration < options.VahadaneIterations; ++iteration)
  {
    double gram[2][2];
    for (int i = 0; i < 2; ++i)
    {
      for (int j = 0; j < 2; ++j)
      {
        gram[i][j] = w[i][0] * w[j][0] + w[i][1] * w[j][1] + w[i][2] * w[j][2];
      }
    }
    // Sufficient statistics of the stain update: A = H^T H and B = H^T V.
    double a[2][2] = { { 0.0, 0.0 }, { 0.0, 0.0 } };
    double b[2][3] = { { 0.0, 0.0, 0.0 }, { 0.0, 0.0, 0.0 } };
    for (std::size_t i = 0; i < n; ++i)
    {
      const float * v = &od[3 * i];
      const double  projection[2] = { w[0][0] * v[0] + w[0][1] * v[1] + w[0][2] * v[2],
                                      w[1][0] * v[0] + w[1][1] * v[1] + w[1][2] * v[2] };
      const auto    h = SparseConcentrations(gram, projection, lambda);
      for (int r = 0; r < 2; ++r)
      {
        a[r][0] += h[r] * h[0];
        a[r][1] += h[r] * h[1];
        for (int c = 0; c < 3; ++c)
        {
          b[r][c] += h[r] * v[c];
        }
      }
    }
    double change = 0.0;
    for (int k = 0; k < 2; ++k)
    {
      if (!(a[k][k] > 0.0))
      {
        continue; // no pixel uses this stain now: leave it where it is
      }
      std::array<double, 3> u{};
      double                norm = 0.0;
      for (int c = 0; c < 3; ++c)
      {
        const double fitted = a[k][0] * w[0][c] + a[k][1] * w[1][c];
        u[c] = std::max(0.0, w[k][c] + (b[k][c] - fitted) / a[k][k]);
        norm += u[c] * u[c];
      }
      norm = std::max(1.0, std::sqrt(norm));
      for (int c = 0; c < 3; ++c)
      {
        change = std::max(change, std::abs(u[c] / norm - w[k][c]));
        w[k][c] = u[c] / norm;
      }
    }
    if (change < 1e-7)
    {
      break;
    }
  }
  return OrderAndNormalize(w[0], w[1]);
}

/** Mean and population standard deviation of L*a*b* over all pixels (Reinhard, as TIAToolbox). */
void
LabStatistics(const PixelBuffer & pixels, StainParameters & result)
{
  const auto linear = cielab::LinearTable();
  struct Sums
  {
    std::array<double, 6> values{};
    Sums &
    operator+=(const Sums & o)
    {
      for (int k = 0; k < 6; ++k)
      {
        values[k] += o.values[k];
      }
      return *this;
    }
  };
  const auto sums = stain::ParallelSum<Sums>(pixels.Count, [&](std::size_t begin, std::size_t end, Sums & s) {
    for (std::size_t i = begin; i < end; ++i)
    {
      const auto lab = cielab::PixelLab(linear, pixels[i]);
      for (int c = 0; c < 3; ++c)
      {
        s.values[c] += lab[c];
        s.values[3 + c] += lab[c] * lab[c];
      }
    }
  });
  for (int c = 0; c < 3; ++c)
  {
    result.LabMean[c] = sums.values[c] / pixels.Count;
    result.LabStandardDeviation[c] =
      std::sqrt(std::max(0.0, sums.values[3 + c] / pixels.Count - result.LabMean[c] * result.LabMean[c]));
  }
}

/** The percentile of each stain's least-squares concentration over all pixels (tissue and
 * background, as TIAToolbox's normaliser). */
StainParameters::ConcentrationsType
ConcentrationPercentiles(const PixelBuffer & pixels, const std::array<double, 256> & od, const Matrix23 & stains,
                         double percentile)
{
  const Matrix23                      p = stain::ConcentrationMatrix(stains);
  StainParameters::ConcentrationsType result{};
  for (int s = 0; s < 2; ++s)
  {
    // Per-channel terms of this stain's concentration, and the range they can span.
    std::array<std::array<double, 256>, 3> term{};
    double                                 low = 0.0;
    double                                 high = 0.0;
    for (int c = 0; c < 3; ++c)
    {
      for (unsigned int v = 0; v < 256; ++v)
      {
        term[c][v] = p[s][c] * od[v];
      }
      low += *std::min_element(term[c].begin(), term[c].end());
      high += *std::max_element(term[c].begin(), term[c].end());
    }
    std::uint64_t count = 0;
    result[s] = stain::Percentiles(
      pixels.Count,
      [&](std::size_t i, float & value) {
        const unsigned char * q = pixels[i];
        value = static_cast<float>(term[0][q[0]] + term[1][q[1]] + term[2][q[2]]);
        return true;
      },
      low,
      high,
      { percentile },
      count)[0];
  }
  return result;
}

} // end anonymous namespace

StainParameters::StainMatrixType
StainAnalysis::RuifrokStainMatrix()
{
  return { { { { 0.65, 0.70, 0.29 } }, { { 0.07, 0.99, 0.11 } } } };
}

std::optional<StainParameters>
StainAnalysis::Estimate(const unsigned char * data, std::size_t numberOfPixels, unsigned int componentsPerPixel,
                        StainNormalizationMethod method, const StainEstimationOptions & options)
{
  if (componentsPerPixel < 3)
  {
    itkGenericExceptionMacro(<< "Stain estimation needs red, green and blue: the pixels have " << componentsPerPixel
                             << " component(s); give an RGB, RGBA or >= 3-component vector image");
  }
  if (numberOfPixels == 0 || data == nullptr)
  {
    itkGenericExceptionMacro(<< "Stain estimation got an empty image");
  }
  if (!(options.AngularPercentile > 50.0 && options.AngularPercentile <= 100.0) ||
      !(options.ConcentrationPercentile > 0.0 && options.ConcentrationPercentile <= 100.0) ||
      !(options.LuminosityThreshold > 0.0 && options.LuminosityThreshold <= 1.0) ||
      !(options.VahadaneRegularization >= 0.0) || !(options.MinimumOpticalDensity >= 0.0))
  {
    itkGenericExceptionMacro(<< "Stain estimation options out of range: angular percentile must be in (50, 100], "
                                "concentration percentile in (0, 100], luminosity threshold in (0, 1], "
                                "Vahadane regularization and minimum optical density >= 0");
  }

  const PixelBuffer pixels{ data, numberOfPixels, componentsPerPixel };
  const TissueMask  mask(pixels, options.LuminosityThreshold, options.MinimumOpticalDensity);
  const auto        od = stain::OpticalDensityTable();
  const auto        statistics = ComputeTissueStatistics(pixels, mask, od);
  if (statistics.Count < std::max<std::size_t>(2, options.MinimumTissuePixels))
  {
    return std::nullopt;
  }

  StainParameters result;
  result.Method = method;
  switch (method)
  {
    case StainNormalizationMethod::Reinhard:
      LabStatistics(pixels, result);
      result.Validate();
      return result;
    case StainNormalizationMethod::Macenko:
      result.StainMatrix = MacenkoStainMatrix(pixels, mask, od, statistics, options.AngularPercentile);
      break;
    case StainNormalizationMethod::Vahadane:
      result.StainMatrix = VahadaneStainMatrix(pixels, mask, od, statistics, options);
      break;
    case StainNormalizationMethod::Ruifrok:
      result.StainMatrix = StainAnalysis::RuifrokStainMatrix();
      break;
  }
  result.MaxConcentrations = ConcentrationPercentiles(pixels, od, result.StainMatrix, options.ConcentrationPercentile);
  result.Validate();
  return result;
}

} // end namespace itk
