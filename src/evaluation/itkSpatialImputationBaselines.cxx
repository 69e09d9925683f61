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
#include "itkSpatialImputationBaselines.h"

#include "itkBSplineInterpolateImageFunction.h"
#include "itkLinearInterpolateImageFunction.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace itk
{
namespace
{
/** The measured positions, their coordinates and values (genes contiguous per position). */
struct MeasuredSet
{
  std::size_t                        Genes{ 0 };
  std::vector<std::size_t>           Offsets;
  std::vector<std::array<double, 2>> Points;
  std::vector<double>                Values;
};

MeasuredSet
CollectMeasured(const GeneImageType & values, const GridMaskType & measured, const SpotGrid & grid)
{
  const auto size = values.GetLargestPossibleRegion().GetSize();
  const auto maskSize = measured.GetLargestPossibleRegion().GetSize();
  if (size != maskSize || size[0] != grid.Size[0] || size[1] != grid.Size[1])
  {
    itkGenericExceptionMacro(<< "The gene image (" << size[0] << " x " << size[1] << "), the measured mask ("
                             << maskSize[0] << " x " << maskSize[1] << ") and the grid (" << grid.Size[0] << " x "
                             << grid.Size[1] << ") must have the same size");
  }
  MeasuredSet set;
  set.Genes = values.GetNumberOfComponentsPerPixel();
  const float *         buffer = values.GetBufferPointer();
  const unsigned char * mask = measured.GetBufferPointer();
  for (unsigned int row = 0; row < size[1]; ++row)
  {
    for (unsigned int column = 0; column < size[0]; ++column)
    {
      const std::size_t offset = static_cast<std::size_t>(row) * size[0] + column;
      if (mask[offset] == 0)
      {
        continue;
      }
      set.Offsets.push_back(offset);
      set.Points.push_back(grid.PhysicalPosition(column, row));
      for (std::size_t gene = 0; gene < set.Genes; ++gene)
      {
        const float value = buffer[offset * set.Genes + gene];
        if (!std::isfinite(value))
        {
          itkGenericExceptionMacro(<< "The measured value of gene " << gene << " at grid position (column " << column
                                   << ", row " << row << ") is not finite: fix or drop that spot");
        }
        set.Values.push_back(value);
      }
    }
  }
  if (set.Offsets.empty())
  {
    itkGenericExceptionMacro(<< "The mask marks no measured position: an imputation needs measured spots");
  }
  return set;
}

GeneImageType::Pointer
NewLike(const GeneImageType & values)
{
  auto image = GeneImageType::New();
  image->CopyInformation(&values);
  image->SetRegions(values.GetLargestPossibleRegion());
  image->SetNumberOfComponentsPerPixel(values.GetNumberOfComponentsPerPixel());
  image->Allocate();
  return image;
}

/** Write \p perPosition (genes per position, for every grid position) and restore measured values. */
void
StoreWithMeasured(GeneImageType & image, const std::vector<double> & perPosition, const MeasuredSet & set)
{
  float * buffer = image.GetBufferPointer();
  std::transform(perPosition.begin(), perPosition.end(), buffer, [](double v) { return static_cast<float>(v); });
  for (std::size_t m = 0; m < set.Offsets.size(); ++m)
  {
    for (std::size_t gene = 0; gene < set.Genes; ++gene)
    {
      buffer[set.Offsets[m] * set.Genes + gene] = static_cast<float>(set.Values[m * set.Genes + gene]);
    }
  }
}

double
SquaredDistance(const std::array<double, 2> & a, const std::array<double, 2> & b)
{
  return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
}

/** Indices of the measured positions by distance from \p point, without \p exclude. */
std::vector<std::size_t>
ByDistance(const MeasuredSet & set, const std::array<double, 2> & point, std::size_t exclude, std::size_t keep)
{
  std::vector<std::size_t> order;
  order.reserve(set.Points.size());
  for (std::size_t m = 0; m < set.Points.size(); ++m)
  {
    if (m != exclude)
    {
      order.push_back(m);
    }
  }
  keep = std::min(keep, order.size());
  std::partial_sort(
    order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), [&](std::size_t a, std::size_t b) {
      const double da = SquaredDistance(set.Points[a], point);
      const double db = SquaredDistance(set.Points[b], point);
      return da < db || (da == db && a < b);
    });
  order.resize(keep);
  return order;
}

std::vector<double>
ConstantPerGene(const MeasuredSet & set, bool median, std::size_t positions)
{
  std::vector<double> perGene(set.Genes);
  const std::size_t   count = set.Offsets.size();
  for (std::size_t gene = 0; gene < set.Genes; ++gene)
  {
    std::vector<double> column(count);
    for (std::size_t m = 0; m < count; ++m)
    {
      column[m] = set.Values[m * set.Genes + gene];
    }
    if (median)
    {
      std::sort(column.begin(), column.end());
      perGene[gene] = count % 2 == 1 ? column[count / 2] : 0.5 * (column[count / 2 - 1] + column[count / 2]);
    }
    else
    {
      perGene[gene] = std::accumulate(column.begin(), column.end(), 0.0) / static_cast<double>(count);
    }
  }
  std::vector<double> result(positions * set.Genes);
  for (std::size_t position = 0; position < positions; ++position)
  {
    std::copy(perGene.begin(), perGene.end(), result.begin() + static_cast<std::ptrdiff_t>(position * set.Genes));
  }
  return result;
}

const std::vector<std::size_t> NeighbourCounts{ 1, 2, 3, 4, 6, 8, 12, 16, 24, 32 };

std::size_t
ChooseNeighbourCount(const MeasuredSet & set)
{
  const std::size_t   count = set.Offsets.size();
  const std::size_t   largest = std::min(NeighbourCounts.back(), count - 1);
  std::vector<double> error(NeighbourCounts.size(), 0.0);
  std::vector<double> sum(set.Genes);
  for (std::size_t m = 0; m < count; ++m)
  {
    const auto neighbours = ByDistance(set, set.Points[m], m, largest);
    std::fill(sum.begin(), sum.end(), 0.0);
    std::size_t candidate = 0;
    for (std::size_t used = 1; used <= neighbours.size(); ++used)
    {
      for (std::size_t gene = 0; gene < set.Genes; ++gene)
      {
        sum[gene] += set.Values[neighbours[used - 1] * set.Genes + gene];
      }
      while (candidate < NeighbourCounts.size() && NeighbourCounts[candidate] < used)
      {
        ++candidate;
      }
      if (candidate < NeighbourCounts.size() && NeighbourCounts[candidate] == used)
      {
        for (std::size_t gene = 0; gene < set.Genes; ++gene)
        {
          const double residual = sum[gene] / static_cast<double>(used) - set.Values[m * set.Genes + gene];
          error[candidate] += residual * residual;
        }
      }
    }
  }
  std::size_t best = 0;
  for (std::size_t candidate = 0; candidate < NeighbourCounts.size() && NeighbourCounts[candidate] <= largest;
       ++candidate)
  {
    if (error[candidate] < error[best])
    {
      best = candidate;
    }
  }
  return NeighbourCounts[best];
}

std::vector<double>
NearestNeighbourFill(const MeasuredSet & set, const SpotGrid & grid, std::size_t neighbours)
{
  std::vector<double> result(grid.NumberOfPositions() * set.Genes, 0.0);
  for (unsigned int row = 0; row < grid.Size[1]; ++row)
  {
    for (unsigned int column = 0; column < grid.Size[0]; ++column)
    {
      const std::size_t offset = static_cast<std::size_t>(row) * grid.Size[0] + column;
      const auto        nearest = ByDistance(set, grid.PhysicalPosition(column, row), set.Points.size(), neighbours);
      for (const std::size_t m : nearest)
      {
        for (std::size_t gene = 0; gene < set.Genes; ++gene)
        {
          result[offset * set.Genes + gene] += set.Values[m * set.Genes + gene] / static_cast<double>(nearest.size());
        }
      }
    }
  }
  return result;
}

/** Nadaraya-Watson estimate at \p point, leaving out measured position \p exclude. */
void
KernelAverage(const MeasuredSet & set, const std::array<double, 2> & point, std::size_t exclude, double bandwidth,
              double * out)
{
  std::fill(out, out + set.Genes, 0.0);
  double       total = 0.0;
  const double scale = -0.5 / (bandwidth * bandwidth);
  for (std::size_t m = 0; m < set.Points.size(); ++m)
  {
    if (m == exclude)
    {
      continue;
    }
    const double weight = std::exp(scale * SquaredDistance(set.Points[m], point));
    total += weight;
    for (std::size_t gene = 0; gene < set.Genes; ++gene)
    {
      out[gene] += weight * set.Values[m * set.Genes + gene];
    }
  }
  if (!(total > 1e-300))
  {
    // Every measured position is many bandwidths away: fall back to the nearest one.
    const auto nearest = ByDistance(set, point, exclude, 1);
    for (std::size_t gene = 0; gene < set.Genes; ++gene)
    {
      out[gene] = set.Values[nearest[0] * set.Genes + gene];
    }
    return;
  }
  for (std::size_t gene = 0; gene < set.Genes; ++gene)
  {
    out[gene] /= total;
  }
}

double
ChooseBandwidth(const MeasuredSet & set, double pitch)
{
  const double        factors[] = { 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0 };
  double              bestError = std::numeric_limits<double>::infinity();
  double              best = pitch;
  std::vector<double> estimate(set.Genes);
  for (const double factor : factors)
  {
    double error = 0.0;
    for (std::size_t m = 0; m < set.Points.size(); ++m)
    {
      KernelAverage(set, set.Points[m], m, factor * pitch, estimate.data());
      for (std::size_t gene = 0; gene < set.Genes; ++gene)
      {
        const double residual = estimate[gene] - set.Values[m * set.Genes + gene];
        error += residual * residual;
      }
    }
    if (error < bestError)
    {
      bestError = error;
      best = factor * pitch;
    }
  }
  return best;
}

std::vector<double>
InterpolatePhase(const MeasuredSet & set, const GridMaskType & measured, const SpotGrid & grid, bool cubic)
{
  std::array<int, 2> phase{};
  if (!SpatialImputationBaselines::IsStrideTwoPhaseMask(measured, &phase))
  {
    itkGenericExceptionMacro(<< "Bilinear and cubic B-spline fills need the measured positions on one stride-2 phase "
                                "(same column and row parity); use the kNN or Gaussian baseline for other masks");
  }
  using ScalarImageType = Image<float, 2>;
  const unsigned int compact[2] = { (grid.Size[0] - static_cast<unsigned int>(phase[0]) + 1) / 2,
                                    (grid.Size[1] - static_cast<unsigned int>(phase[1]) + 1) / 2 };
  // Each sub-lattice position's nearest measured position: itself where measured.
  std::vector<std::size_t> source(static_cast<std::size_t>(compact[0]) * compact[1]);
  for (unsigned int row = 0; row < compact[1]; ++row)
  {
    for (unsigned int column = 0; column < compact[0]; ++column)
    {
      const auto point = grid.PhysicalPosition(2 * column + phase[0], 2 * row + phase[1]);
      source[static_cast<std::size_t>(row) * compact[0] + column] = ByDistance(set, point, set.Points.size(), 1)[0];
    }
  }
  auto                        image = ScalarImageType::New();
  ScalarImageType::RegionType region;
  region.SetSize({ { compact[0], compact[1] } });
  image->SetRegions(region);
  image->Allocate();
  std::vector<double> result(grid.NumberOfPositions() * set.Genes);
  for (std::size_t gene = 0; gene < set.Genes; ++gene)
  {
    for (std::size_t c = 0; c < source.size(); ++c)
    {
      image->GetBufferPointer()[c] = static_cast<float>(set.Values[source[c] * set.Genes + gene]);
    }
    image->Modified();
    using Linear = LinearInterpolateImageFunction<ScalarImageType, double>;
    using Cubic = BSplineInterpolateImageFunction<ScalarImageType, double, double>;
    typename InterpolateImageFunction<ScalarImageType, double>::Pointer interpolator;
    if (cubic)
    {
      auto spline = Cubic::New();
      spline->SetSplineOrder(3);
      interpolator = spline;
    }
    else
    {
      interpolator = Linear::New();
    }
    interpolator->SetInputImage(image);
    for (unsigned int row = 0; row < grid.Size[1]; ++row)
    {
      for (unsigned int column = 0; column < grid.Size[0]; ++column)
      {
        ContinuousIndex<double, 2> index;
        // Clamp to the sub-lattice's extent: the last row or column of the grid may lie half a
        // step beyond it, where the interpolators hold the edge value.
        index[0] = std::min((static_cast<double>(column) - phase[0]) / 2.0, compact[0] - 1.0);
        index[1] = std::min((static_cast<double>(row) - phase[1]) / 2.0, compact[1] - 1.0);
        index[0] = std::max(index[0], 0.0);
        index[1] = std::max(index[1], 0.0);
        result[(static_cast<std::size_t>(row) * grid.Size[0] + column) * set.Genes + gene] =
          interpolator->EvaluateAtContinuousIndex(index);
      }
    }
  }
  return result;
}
} // namespace

std::string
SpatialImputationBaselines::Name(SpatialBaseline baseline)
{
  switch (baseline)
  {
    case SpatialBaseline::Mean:
      return "mean";
    case SpatialBaseline::Median:
      return "median";
    case SpatialBaseline::NearestNeighbours:
      return "knn";
    case SpatialBaseline::GaussianKernel:
      return "gaussian";
    case SpatialBaseline::Bilinear:
      return "bilinear";
    case SpatialBaseline::CubicBSpline:
      return "cubic-bspline";
  }
  return "unknown";
}

std::vector<SpatialBaseline>
SpatialImputationBaselines::All()
{
  return { SpatialBaseline::Mean,           SpatialBaseline::Median,   SpatialBaseline::NearestNeighbours,
           SpatialBaseline::GaussianKernel, SpatialBaseline::Bilinear, SpatialBaseline::CubicBSpline };
}

bool
SpatialImputationBaselines::IsStrideTwoPhaseMask(const GridMaskType & measured, std::array<int, 2> * phase)
{
  const auto            size = measured.GetLargestPossibleRegion().GetSize();
  const unsigned char * mask = measured.GetBufferPointer();
  int                   found[2] = { -1, -1 };
  for (unsigned int row = 0; row < size[1]; ++row)
  {
    for (unsigned int column = 0; column < size[0]; ++column)
    {
      if (mask[static_cast<std::size_t>(row) * size[0] + column] == 0)
      {
        continue;
      }
      const int parity[2] = { static_cast<int>(column % 2), static_cast<int>(row % 2) };
      if (found[0] < 0)
      {
        found[0] = parity[0];
        found[1] = parity[1];
      }
      else if (parity[0] != found[0] || parity[1] != found[1])
      {
        return false;
      }
    }
  }
  if (found[0] < 0)
  {
    return false;
  }
  if (phase != nullptr)
  {
    *phase = { { found[0], found[1] } };
  }
  return true;
}

SpatialBaselineResult
SpatialImputationBaselines::Impute(SpatialBaseline baseline, const GeneImageType & values,
                                   const GridMaskType & measured, const SpotGrid & grid)
{
  const MeasuredSet     set = CollectMeasured(values, measured, grid);
  SpatialBaselineResult result;
  result.Method = baseline;
  result.Imputed = NewLike(values);
  std::vector<double> perPosition;
  switch (baseline)
  {
    case SpatialBaseline::Mean:
    case SpatialBaseline::Median:
      perPosition = ConstantPerGene(set, baseline == SpatialBaseline::Median, grid.NumberOfPositions());
      break;
    case SpatialBaseline::NearestNeighbours: {
      const std::size_t k = set.Offsets.size() > 1 ? ChooseNeighbourCount(set) : 1;
      result.Parameter = static_cast<double>(k);
      perPosition = NearestNeighbourFill(set, grid, k);
      break;
    }
    case SpatialBaseline::GaussianKernel: {
      const double pitch = std::min(grid.Spacing[0], grid.Spacing[1]);
      const double bandwidth = set.Offsets.size() > 1 ? ChooseBandwidth(set, pitch) : pitch;
      result.Parameter = bandwidth;
      perPosition.resize(grid.NumberOfPositions() * set.Genes);
      for (unsigned int row = 0; row < grid.Size[1]; ++row)
      {
        for (unsigned int column = 0; column < grid.Size[0]; ++column)
        {
          const std::size_t offset = static_cast<std::size_t>(row) * grid.Size[0] + column;
          KernelAverage(set,
                        grid.PhysicalPosition(column, row),
                        set.Points.size(),
                        bandwidth,
                        perPosition.data() + offset * set.Genes);
        }
      }
      break;
    }
    case SpatialBaseline::Bilinear:
    case SpatialBaseline::CubicBSpline:
      perPosition = InterpolatePhase(set, measured, grid, baseline == SpatialBaseline::CubicBSpline);
      break;
  }
  StoreWithMeasured(*result.Imputed, perPosition, set);
  return result;
}

} // end namespace itk
