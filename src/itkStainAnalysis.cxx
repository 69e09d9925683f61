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
#include "itkMacro.h"
#include "itkMultiThreaderBase.h"
#include "vnl/algo/vnl_symmetric_eigensystem.h"
#include "vnl/vnl_matrix_fixed.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <numeric>

namespace itk
{
namespace
{

using Matrix23 = StainParameters::StainMatrixType;

/** Run body(begin, end) over [0, n) in contiguous blocks on ITK's global thread pool. */
template <typename TBody>
void
ParallelBlocks(std::size_t n, const TBody & body)
{
  constexpr std::size_t minimumBlock = 1 << 15;
  const auto            threader = MultiThreaderBase::New();
  const std::size_t     workers = std::max<std::size_t>(1, threader->GetMaximumNumberOfThreads());
  const std::size_t     blocks = std::min<std::size_t>(4 * workers, (n + minimumBlock - 1) / minimumBlock);
  if (blocks <= 1)
  {
    body(std::size_t{ 0 }, n);
    return;
  }
  threader->ParallelizeArray(
    0, blocks, [&](SizeValueType block) { body(n * block / blocks, n * (block + 1) / blocks); }, nullptr);
}

/** numpy.percentile(values, q) with its default linear interpolation; reorders \p values. */
template <typename T>
double
Percentile(std::vector<T> & values, double q)
{
  const double      position = (values.size() - 1) * q / 100.0;
  const std::size_t lower = static_cast<std::size_t>(std::floor(position));
  const double      fraction = position - lower;
  std::nth_element(values.begin(), values.begin() + lower, values.end());
  const double a = values[lower];
  if (fraction == 0.0 || lower + 1 >= values.size())
  {
    return a;
  }
  const double b = *std::min_element(values.begin() + lower + 1, values.end());
  return a + (b - a) * fraction;
}

/** numpy.percentile over all red, green and blue values, from their histogram. */
double
HistogramPercentile(const std::array<std::uint64_t, 256> & histogram, std::uint64_t count, double q)
{
  const double        position = (count - 1) * q / 100.0;
  const std::uint64_t lower = static_cast<std::uint64_t>(std::floor(position));
  const double        fraction = position - lower;
  const auto          valueAtRank = [&](std::uint64_t rank) {
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
  const double a = valueAtRank(lower);
  return fraction == 0.0 ? a : a + (valueAtRank(lower + 1) - a) * fraction;
}

/** TIAToolbox's rgb2od: -ln(max(v, 1) / 255), floored at 1e-6. */
std::array<double, 256>
OpticalDensityTable()
{
  std::array<double, 256> table{};
  for (unsigned int v = 0; v < 256; ++v)
  {
    table[v] = std::max(-std::log(std::max(v, 1u) / 255.0), 1e-6);
  }
  return table;
}

/** Pseudo-inverse (S S^T)^-1 S of a 2x3 stain matrix: least-squares concentrations from OD. */
Matrix23
ConcentrationMatrix(const Matrix23 & s)
{
  double g[2][2];
  for (int i = 0; i < 2; ++i)
  {
    for (int j = 0; j < 2; ++j)
    {
      g[i][j] = s[i][0] * s[j][0] + s[i][1] * s[j][1] + s[i][2] * s[j][2];
    }
  }
  const double determinant = g[0][0] * g[1][1] - g[0][1] * g[1][0];
  const double scale = std::abs(g[0][0] * g[1][1]);
  if (!(std::abs(determinant) > 1e-10 * scale) || !std::isfinite(determinant))
  {
    itkGenericExceptionMacro(<< "The hematoxylin and eosin stain vectors are (nearly) parallel, so concentrations "
                                "cannot be separated; estimate the stains on an image with more varied tissue, "
                                "or give the stain matrix explicitly");
  }
  Matrix23 p{};
  for (int k = 0; k < 3; ++k)
  {
    p[0][k] = (g[1][1] * s[0][k] - g[0][1] * s[1][k]) / determinant;
    p[1][k] = (-g[1][0] * s[0][k] + g[0][0] * s[1][k]) / determinant;
  }
  return p;
}

/** The tissue mask of TIAToolbox's get_luminosity_tissue_mask, as a test on luminance, and
 * Macenko's transparency test. The contrast stretch alone would turn a blank slide's faint noise
 * into "tissue"; a pixel must also absorb some light (summed optical density) to count. */
class LuminosityMask
{
public:
  LuminosityMask(const unsigned char * pixels, std::size_t n, unsigned int components, double threshold,
                 double minimumOpticalDensity)
    : m_MinimumOpticalDensity(minimumOpticalDensity)
  {
    // 2nd and 98th percentiles over all colour values, as contrast_enhancer does.
    std::array<std::uint64_t, 256> histogram{};
    for (std::size_t i = 0; i < n; ++i)
    {
      const unsigned char * p = pixels + i * components;
      ++histogram[p[0]];
      ++histogram[p[1]];
      ++histogram[p[2]];
    }
    double low = HistogramPercentile(histogram, 3 * n, 2.0);
    double high = HistogramPercentile(histogram, 3 * n, 98.0);
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
  std::array<double, 256>                m_OpticalDensity{ OpticalDensityTable() };
  double                                 m_MinimumOpticalDensity;
};

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
inline double
AngleOfPseudoAngle(double p)
{
  const double x = 1.0 - std::abs(p);
  return std::atan2(std::copysign(1.0 - std::abs(x), p), x);
}

/** numpy.percentile of the angles, ranked by pseudo-angle and interpolated in true angle. */
double
AnglePercentile(std::vector<float> & pseudoAngles, double q)
{
  const double      position = (pseudoAngles.size() - 1) * q / 100.0;
  const std::size_t lower = static_cast<std::size_t>(std::floor(position));
  const double      fraction = position - lower;
  std::nth_element(pseudoAngles.begin(), pseudoAngles.begin() + lower, pseudoAngles.end());
  const double a = AngleOfPseudoAngle(pseudoAngles[lower]);
  if (fraction == 0.0 || lower + 1 >= pseudoAngles.size())
  {
    return a;
  }
  const double b = AngleOfPseudoAngle(*std::min_element(pseudoAngles.begin() + lower + 1, pseudoAngles.end()));
  return a + (b - a) * fraction;
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

/** Macenko et al. 2009, as TIAToolbox's MacenkoExtractor. \p od holds 3 values per tissue pixel. */
Matrix23
MacenkoStainMatrix(const std::vector<float> & od, double angularPercentile)
{
  const std::size_t n = od.size() / 3;
  if (n < 2)
  {
    itkGenericExceptionMacro(<< "Only " << n << " tissue pixel(s): too few to estimate stains");
  }
  double mean[3] = { 0.0, 0.0, 0.0 };
  for (std::size_t i = 0; i < n; ++i)
  {
    for (int c = 0; c < 3; ++c)
    {
      mean[c] += od[3 * i + c];
    }
  }
  for (double & m : mean)
  {
    m /= n;
  }
  vnl_matrix_fixed<double, 3, 3> covariance(0.0);
  for (std::size_t i = 0; i < n; ++i)
  {
    const double d[3] = { od[3 * i] - mean[0], od[3 * i + 1] - mean[1], od[3 * i + 2] - mean[2] };
    for (int r = 0; r < 3; ++r)
    {
      for (int c = r; c < 3; ++c)
      {
        covariance(r, c) += d[r] * d[c];
      }
    }
  }
  for (int r = 0; r < 3; ++r)
  {
    for (int c = r; c < 3; ++c)
    {
      covariance(r, c) /= (n - 1);
      covariance(c, r) = covariance(r, c);
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
  std::vector<float> pseudoAngles(n);
  ParallelBlocks(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
    {
      const float * p = &od[3 * i];
      const double  x = basis[0][0] * p[0] + basis[0][1] * p[1] + basis[0][2] * p[2];
      const double  y = basis[1][0] * p[0] + basis[1][1] * p[1] + basis[1][2] * p[2];
      pseudoAngles[i] = PseudoAngle(y, x);
    }
  });
  const double          minimumAngle = AnglePercentile(pseudoAngles, 100.0 - angularPercentile);
  const double          maximumAngle = AnglePercentile(pseudoAngles, angularPercentile);
  std::array<double, 3> v1{};
  std::array<double, 3> v2{};
  for (int c = 0; c < 3; ++c)
  {
    v1[c] = basis[0][c] * std::cos(minimumAngle) + basis[1][c] * std::sin(minimumAngle);
    v2[c] = basis[0][c] * std::cos(maximumAngle) + basis[1][c] * std::sin(maximumAngle);
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
 * so it is deterministic, unlike dictionary learning from a random start. */
Matrix23
VahadaneStainMatrix(const std::vector<float> & allOpticalDensities, const StainEstimationOptions & options)
{
  Matrix23 w = MacenkoStainMatrix(allOpticalDensities, options.AngularPercentile);
  // Each iteration visits every pixel: fit on at most VahadaneMaximumPixels, an even stride.
  constexpr std::size_t VahadaneMaximumPixels = 100000;
  const std::size_t     all = allOpticalDensities.size() / 3;
  const std::size_t     stride = (all + VahadaneMaximumPixels - 1) / VahadaneMaximumPixels;
  std::vector<float>    od;
  od.reserve(3 * (all / stride + 1));
  for (std::size_t i = 0; i < all; i += stride)
  {
    od.insert(od.end(), &allOpticalDensities[3 * i], &allOpticalDensities[3 * i] + 3);
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

/** Lab of one 8-bit pixel, through a table of linear values. */
inline std::array<double, 3>
PixelLab(const std::array<double, 256> & linear, const unsigned char * p)
{
  return cielab::LinearRGBToLab(linear[p[0]], linear[p[1]], linear[p[2]]);
}

std::array<double, 256>
LinearTable()
{
  std::array<double, 256> table{};
  for (unsigned int v = 0; v < 256; ++v)
  {
    table[v] = cielab::SRGBToLinear(v);
  }
  return table;
}

/** Mean and population standard deviation of L*a*b* over all pixels (Reinhard). */
void
LabStatistics(const unsigned char * pixels, std::size_t n, unsigned int components, StainParameters & result)
{
  const auto            linear = LinearTable();
  std::mutex            mutex;
  std::array<double, 6> totals{};
  ParallelBlocks(n, [&](std::size_t begin, std::size_t end) {
    std::array<double, 6> sums{};
    for (std::size_t i = begin; i < end; ++i)
    {
      const auto lab = PixelLab(linear, pixels + i * components);
      for (int c = 0; c < 3; ++c)
      {
        sums[c] += lab[c];
        sums[3 + c] += lab[c] * lab[c];
      }
    }
    const std::lock_guard<std::mutex> lock(mutex);
    for (int k = 0; k < 6; ++k)
    {
      totals[k] += sums[k];
    }
  });
  for (int c = 0; c < 3; ++c)
  {
    result.LabMean[c] = totals[c] / n;
    result.LabStandardDeviation[c] =
      std::sqrt(std::max(0.0, totals[3 + c] / n - result.LabMean[c] * result.LabMean[c]));
  }
}

} // end anonymous namespace

StainParameters::StainMatrixType
RuifrokStainMatrix()
{
  return { { { { 0.65, 0.70, 0.29 } }, { { 0.07, 0.99, 0.11 } } } };
}

std::optional<StainParameters>
EstimateStainParameters(const unsigned char * pixels, std::size_t numberOfPixels, unsigned int componentsPerPixel,
                        StainNormalizationMethod method, const StainEstimationOptions & options)
{
  if (componentsPerPixel < 3)
  {
    itkGenericExceptionMacro(<< "Stain estimation needs red, green and blue: the pixels have " << componentsPerPixel
                             << " component(s); give an RGB, RGBA or >= 3-component vector image");
  }
  if (numberOfPixels == 0 || pixels == nullptr)
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

  const LuminosityMask mask(
    pixels, numberOfPixels, componentsPerPixel, options.LuminosityThreshold, options.MinimumOpticalDensity);
  const auto opticalDensity = OpticalDensityTable();

  // Optical densities of the tissue pixels, in image order (blocks gathered, then concatenated).
  std::mutex                                              mutex;
  std::vector<std::pair<std::size_t, std::vector<float>>> gathered;
  ParallelBlocks(numberOfPixels, [&](std::size_t begin, std::size_t end) {
    std::vector<float> local;
    local.reserve(3 * (end - begin));
    for (std::size_t i = begin; i < end; ++i)
    {
      const unsigned char * p = pixels + i * componentsPerPixel;
      if (mask.IsTissue(p))
      {
        local.push_back(static_cast<float>(opticalDensity[p[0]]));
        local.push_back(static_cast<float>(opticalDensity[p[1]]));
        local.push_back(static_cast<float>(opticalDensity[p[2]]));
      }
    }
    const std::lock_guard<std::mutex> lock(mutex);
    gathered.emplace_back(begin, std::move(local));
  });
  std::sort(gathered.begin(), gathered.end(), [](const auto & a, const auto & b) { return a.first < b.first; });
  std::vector<float> tissue;
  for (const auto & block : gathered)
  {
    tissue.insert(tissue.end(), block.second.begin(), block.second.end());
  }
  if (tissue.size() / 3 < options.MinimumTissuePixels)
  {
    return std::nullopt;
  }

  StainParameters result;
  result.Method = method;
  switch (method)
  {
    case StainNormalizationMethod::Reinhard:
      LabStatistics(pixels, numberOfPixels, componentsPerPixel, result);
      result.Validate();
      return result;
    case StainNormalizationMethod::Macenko:
      result.StainMatrix = MacenkoStainMatrix(tissue, options.AngularPercentile);
      break;
    case StainNormalizationMethod::Vahadane:
      result.StainMatrix = VahadaneStainMatrix(tissue, options);
      break;
    case StainNormalizationMethod::Ruifrok:
      result.StainMatrix = RuifrokStainMatrix();
      break;
  }
  tissue = std::vector<float>();

  // Least-squares concentrations of every pixel (tissue and background, as TIAToolbox), and the
  // percentile of each stain.
  const Matrix23                         p = ConcentrationMatrix(result.StainMatrix);
  std::vector<float>                     hematoxylin(numberOfPixels);
  std::vector<float>                     eosin(numberOfPixels);
  std::array<std::array<double, 256>, 6> term{};
  for (unsigned int v = 0; v < 256; ++v)
  {
    for (int s = 0; s < 2; ++s)
    {
      for (int c = 0; c < 3; ++c)
      {
        term[3 * s + c][v] = p[s][c] * opticalDensity[v];
      }
    }
  }
  ParallelBlocks(numberOfPixels, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
    {
      const unsigned char * q = pixels + i * componentsPerPixel;
      hematoxylin[i] = static_cast<float>(term[0][q[0]] + term[1][q[1]] + term[2][q[2]]);
      eosin[i] = static_cast<float>(term[3][q[0]] + term[4][q[1]] + term[5][q[2]]);
    }
  });
  result.MaxConcentrations[0] = Percentile(hematoxylin, options.ConcentrationPercentile);
  result.MaxConcentrations[1] = Percentile(eosin, options.ConcentrationPercentile);
  result.Validate();
  return result;
}

StainColorMapper::StainColorMapper(const StainParameters & source, const StainParameters & target)
  : m_Source(source)
  , m_Target(target)
{
  if (source.Method != target.Method)
  {
    itkGenericExceptionMacro(<< "Source parameters are for " << source.Method << " but target parameters are for "
                             << target.Method << "; estimate both with the same method");
  }
  source.Validate();
  target.Validate();
  if (source.UsesStainMatrix())
  {
    const auto opticalDensity = OpticalDensityTable();
    const auto p = ConcentrationMatrix(source.StainMatrix);
    m_ChannelFactor.resize(3 * 3 * 256);
    m_ConcentrationTerm.resize(2 * 3 * 256);
    for (int k = 0; k < 3; ++k)
    {
      for (int j = 0; j < 3; ++j)
      {
        double b = 0.0;
        for (int s = 0; s < 2; ++s)
        {
          b += target.StainMatrix[s][k] * (target.MaxConcentrations[s] / source.MaxConcentrations[s]) * p[s][j];
        }
        for (unsigned int v = 0; v < 256; ++v)
        {
          m_ChannelFactor[(3 * k + j) * 256 + v] = static_cast<float>(std::exp(-b * opticalDensity[v]));
        }
      }
    }
    for (int s = 0; s < 2; ++s)
    {
      for (int j = 0; j < 3; ++j)
      {
        for (unsigned int v = 0; v < 256; ++v)
        {
          m_ConcentrationTerm[(3 * s + j) * 256 + v] = static_cast<float>(p[s][j] * opticalDensity[v]);
        }
      }
    }
  }
  else
  {
    for (int c = 0; c < 3; ++c)
    {
      m_LabScale[c] = target.LabStandardDeviation[c] / source.LabStandardDeviation[c];
      m_LabOffset[c] = target.LabMean[c] - source.LabMean[c] * m_LabScale[c];
    }
  }
}

void
StainColorMapper::Map(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                      unsigned int components) const
{
  if (components < 3)
  {
    itkGenericExceptionMacro(<< "Stain mapping needs red, green and blue: the pixels have " << components
                             << " component(s)");
  }
  if (m_Source.UsesStainMatrix())
  {
    MapStains(input, output, numberOfPixels, components);
  }
  else
  {
    MapLab(input, output, numberOfPixels, components);
  }
  for (unsigned int c = 3; c < components; ++c)
  {
    for (std::size_t i = 0; i < numberOfPixels; ++i)
    {
      output[i * components + c] = input[i * components + c];
    }
  }
}

void
StainColorMapper::MapStains(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                            unsigned int components) const
{
  const float * f = m_ChannelFactor.data();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const unsigned char * p = input + i * components;
    unsigned char *       q = output + i * components;
    const unsigned int    r = p[0];
    const unsigned int    g = 256 + p[1];
    const unsigned int    b = 512 + p[2];
    for (unsigned int k = 0; k < 3; ++k)
    {
      const float * fk = f + 768 * k;
      const float   value = 255.0f * fk[r] * fk[g] * fk[b];
      // numpy's uint8 cast truncates; values above 255 saturate as in TIAToolbox.
      q[k] = value >= 255.0f ? 255 : static_cast<unsigned char>(value);
    }
  }
}

void
StainColorMapper::MapLab(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                         unsigned int components) const
{
  static const auto linear = LinearTable();
  // Thresholds of linear light between consecutive 8-bit sRGB codes: exact rounding without pow().
  static const auto thresholds = [] {
    std::array<double, 255> t{};
    for (unsigned int k = 0; k < 255; ++k)
    {
      t[k] = cielab::SRGBToLinear(k + 0.5);
    }
    return t;
  }();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const auto lab = PixelLab(linear, input + i * components);
    // Clip to the 8-bit Lab range that OpenCV (and so TIAToolbox) can represent.
    const double lightness = std::min(100.0, std::max(0.0, lab[0] * m_LabScale[0] + m_LabOffset[0]));
    const double a = std::min(127.0, std::max(-128.0, lab[1] * m_LabScale[1] + m_LabOffset[1]));
    const double b = std::min(127.0, std::max(-128.0, lab[2] * m_LabScale[2] + m_LabOffset[2]));
    const auto   rgb = cielab::LabToLinearRGB(lightness, a, b);
    for (int c = 0; c < 3; ++c)
    {
      output[i * components + c] =
        static_cast<unsigned char>(std::upper_bound(thresholds.begin(), thresholds.end(), rgb[c]) - thresholds.begin());
    }
  }
}

void
StainColorMapper::Concentrations(const unsigned char * input, std::size_t numberOfPixels, unsigned int components,
                                 float * hematoxylin, float * eosin) const
{
  if (!m_Source.UsesStainMatrix())
  {
    itkGenericExceptionMacro(<< "Stain concentrations need a stain-matrix method (Macenko, Vahadane or Ruifrok); "
                                "Reinhard's method has none");
  }
  const float * t = m_ConcentrationTerm.data();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const unsigned char * p = input + i * components;
    hematoxylin[i] = t[p[0]] + t[256 + p[1]] + t[512 + p[2]];
    eosin[i] = t[768 + p[0]] + t[1024 + p[1]] + t[1280 + p[2]];
  }
}

} // end namespace itk
