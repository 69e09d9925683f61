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
#ifndef itkStainStatistics_h
#define itkStainStatistics_h

// Private to the library: the per-pixel arithmetic shared by stain estimation and mapping, and
// exact percentiles of values computed per pixel, found without storing a value per pixel.

#include "itkMacro.h"
#include "itkMultiThreaderBase.h"
#include "itkStainParameters.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

namespace itk
{
namespace stain
{

using Matrix23 = StainParameters::StainMatrixType;

/** TIAToolbox's rgb2od: -ln(max(v, 1) / 255), floored at 1e-6, for each 8-bit value. */
inline std::array<double, 256>
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
inline Matrix23
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
  if (!(std::abs(determinant) > 1e-10 * std::abs(g[0][0] * g[1][1])) || !std::isfinite(determinant))
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

/** Run body(begin, end) over [0, n) in contiguous blocks on ITK's thread pool. */
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

/** Sum a per-block result over [0, n) in parallel: accumulate(begin, end, partial) adds into partial. */
template <typename TResult, typename TAccumulate>
TResult
ParallelSum(std::size_t n, const TAccumulate & accumulate)
{
  TResult    total{};
  std::mutex mutex;
  ParallelBlocks(n, [&](std::size_t begin, std::size_t end) {
    TResult partial{};
    accumulate(begin, end, partial);
    const std::lock_guard<std::mutex> lock(mutex);
    total += partial;
  });
  return total;
}

/** The ranks numpy.percentile(values, q) interpolates between, for \p count values. */
struct PercentileRanks
{
  std::uint64_t Lower;
  double        Fraction;
};

inline PercentileRanks
RanksOfPercentile(std::uint64_t count, double q)
{
  const double position = (count - 1) * q / 100.0;
  const auto   lower = static_cast<std::uint64_t>(std::floor(position));
  return { lower, lower + 1 < count ? position - lower : 0.0 };
}

/** Counts of values in the bins of Percentiles(), summed over blocks. */
struct PercentileHistogram
{
  // Fine enough that the wanted bin holds few values even when the data fill a small part of the
  // range; 32-bit counts keep a block's histogram in cache (a block has far fewer than 2^32 items).
  static constexpr std::size_t Bins = 1 << 16;
  std::vector<std::uint32_t>   counts = std::vector<std::uint32_t>(Bins, 0);
  PercentileHistogram &
  operator+=(const PercentileHistogram & other)
  {
    for (std::size_t b = 0; b < Bins; ++b)
    {
      counts[b] += other.counts[b];
    }
    return *this;
  }
};

/** For each wanted bin: how many values fall below it, and the values in it. */
struct PercentileBins
{
  std::vector<std::uint64_t>      below;
  std::vector<std::vector<float>> values;
  PercentileBins &
  operator+=(const PercentileBins & other)
  {
    below.resize(other.below.size(), 0);
    values.resize(other.values.size());
    for (std::size_t k = 0; k < other.below.size(); ++k)
    {
      below[k] += other.below[k];
      values[k].insert(values[k].end(), other.values[k].begin(), other.values[k].end());
    }
    return *this;
  }
};

inline double
Identity(double v)
{
  return v;
}

/** \brief Exact numpy-style percentiles of a value computed for each of n items.
 *
 * valueOf(i, value) returns false for items that do not count, else sets \p value. A first
 * parallel pass histograms the values over [low, high] (65,536 bins); a second one counts the values in bins
 * below each wanted rank's bin and collects that bin's values, which are sorted. Both passes
 * recompute the values, so nothing of size n is stored; the second pass alone decides the
 * result. Returns one value per percentile in \p percentiles, interpolated between its two ranks
 * after mapping them through \p interpolated (e.g. from a monotone stand-in to the true value),
 * and the number of counted items in \p count.
 */
template <typename TValueOf, typename TInterpolated = double (*)(double)>
std::vector<double>
Percentiles(std::size_t n, const TValueOf & valueOf, double low, double high, const std::vector<double> & percentiles,
            std::uint64_t & count, TInterpolated interpolated = Identity)
{
  constexpr std::size_t bins = PercentileHistogram::Bins;
  const double          scale = high > low ? bins / (high - low) : 0.0;
  const auto            binOf = [&](float v) {
    const double position = (v - low) * scale;
    return position <= 0.0 ? std::size_t{ 0 } : std::min(bins - 1, static_cast<std::size_t>(position));
  };

  const auto histogram =
    ParallelSum<PercentileHistogram>(n, [&](std::size_t begin, std::size_t end, PercentileHistogram & h) {
      float v;
      for (std::size_t i = begin; i < end; ++i)
      {
        if (valueOf(i, v))
        {
          ++h.counts[binOf(v)];
        }
      }
    });
  count = 0;
  for (const auto c : histogram.counts)
  {
    count += c;
  }
  if (count == 0)
  {
    return std::vector<double>(percentiles.size(), 0.0);
  }

  // The bins that hold the wanted ranks.
  std::vector<std::uint64_t> ranks;
  for (const double q : percentiles)
  {
    const auto r = RanksOfPercentile(count, q);
    ranks.push_back(r.Lower);
    ranks.push_back(std::min(r.Lower + 1, count - 1));
  }
  std::vector<std::size_t> wanted;
  for (const auto rank : ranks)
  {
    std::uint64_t seen = 0;
    std::size_t   b = 0;
    while (seen + histogram.counts[b] <= rank)
    {
      seen += histogram.counts[b++];
    }
    wanted.push_back(b);
  }
  std::vector<std::size_t> distinct(wanted);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());

  auto collected = ParallelSum<PercentileBins>(n, [&](std::size_t begin, std::size_t end, PercentileBins & c) {
    c.below.assign(distinct.size(), 0);
    c.values.resize(distinct.size());
    float v;
    for (std::size_t i = begin; i < end; ++i)
    {
      if (valueOf(i, v))
      {
        const std::size_t b = binOf(v);
        for (std::size_t k = 0; k < distinct.size(); ++k)
        {
          c.below[k] += b < distinct[k];
          if (b == distinct[k])
          {
            c.values[k].push_back(v);
          }
        }
      }
    }
  });
  std::vector<double> rankValues;
  for (std::size_t j = 0; j < ranks.size(); ++j)
  {
    const std::size_t k = std::lower_bound(distinct.begin(), distinct.end(), wanted[j]) - distinct.begin();
    auto &            values = collected.values[k];
    std::sort(values.begin(), values.end());
    const std::uint64_t below = collected.below[k];
    if (ranks[j] < below || ranks[j] - below >= values.size())
    {
      // Only if the two passes computed different values for the same item (the library is built
      // with -ffp-contract=off so that they cannot).
      itkGenericExceptionMacro(<< "Internal error: percentile selection saw different values in its two passes");
    }
    rankValues.push_back(interpolated(values[ranks[j] - below]));
  }
  std::vector<double> result;
  for (std::size_t j = 0; j < percentiles.size(); ++j)
  {
    const double a = rankValues[2 * j];
    const double b = rankValues[2 * j + 1];
    result.push_back(a + (b - a) * RanksOfPercentile(count, percentiles[j]).Fraction);
  }
  return result;
}

} // end namespace stain
} // end namespace itk

#endif // itkStainStatistics_h
