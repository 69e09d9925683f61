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
#include "itkSpotPatchExtractor.h"

#include "itkMultiThreaderBase.h"
#include "itkStainAnalysis.h"

#include <cmath>

namespace itk
{
namespace
{
/** The source pixels and weights of each output pixel along one axis. */
struct FilterTaps
{
  std::vector<std::int64_t> First; // first source pixel of each output pixel, relative to the region
  std::vector<float>        Weights;
  int                       Width{ 0 };
};

/** Triangle-filter taps for \p count output pixels whose first left edge is at \p start (source
 * pixels, relative to the region origin), \p step source pixels apart. The filter's half-width
 * grows with the step when downsampling, which makes it an area average (antialiasing). */
FilterTaps
ComputeTaps(double start, double step, unsigned int count)
{
  const double support = std::max(step, 1.0);
  FilterTaps   taps;
  taps.Width = static_cast<int>(std::ceil(2.0 * support)) + 2;
  taps.First.resize(count);
  taps.Weights.assign(std::size_t{ count } * taps.Width, 0.0f);
  for (unsigned int j = 0; j < count; ++j)
  {
    const double       centre = start + (j + 0.5) * step;
    const std::int64_t first = static_cast<std::int64_t>(std::floor(centre - support - 0.5));
    double             sum = 0.0;
    for (int k = 0; k < taps.Width; ++k)
    {
      const double distance = std::abs((first + k + 0.5 - centre) / support);
      const double weight = std::max(0.0, 1.0 - distance);
      taps.Weights[j * taps.Width + k] = static_cast<float>(weight);
      sum += weight;
    }
    for (int k = 0; k < taps.Width; ++k)
    {
      taps.Weights[j * taps.Width + k] = static_cast<float>(taps.Weights[j * taps.Width + k] / sum);
    }
    taps.First[j] = first;
  }
  return taps;
}

/** Where one patch is read from, in the pixels of the chosen level. */
struct PatchGeometry
{
  std::int64_t RegionX; // region's top-left, level pixels
  std::int64_t RegionY;
  std::int64_t RegionWidth;
  std::int64_t RegionHeight;
  double       StartX; // left edge of output pixel 0, relative to the region
  double       StartY;
};
} // namespace

SpotPatches
ExtractSpotPatches(const SlideReader & slide, const SpatialExpressionData & spots,
                   const PatchExtractionSettings & settings)
{
  if (!(settings.PatchSizeMicrometres > 0.0) || settings.PatchSizePixels == 0 || settings.PatchSizePixels > 8192)
  {
    itkGenericExceptionMacro(<< "Patch size must be positive (got " << settings.PatchSizeMicrometres << " um, "
                             << settings.PatchSizePixels << " pixels)");
  }
  if (spots.GetNumberOfSpots() == 0)
  {
    itkGenericExceptionMacro(<< "There are no spots to cut patches at");
  }
  const unsigned int patch = settings.PatchSizePixels;
  const double       slidePixel = slide.GetPixelSize();
  SpotPatches        result;
  result.PixelSize = settings.PatchSizeMicrometres / patch;
  const double       scale = result.PixelSize / slidePixel; // level-0 pixels per output pixel
  const unsigned int level = slide.GetBestLevelForDownsample(scale);
  const double       downsample = slide.GetLevelDownsample(level);
  const double       step = scale / downsample; // level pixels per output pixel
  const auto         size0 = slide.GetLevelDimensions(0);
  const double       footprint = patch * scale; // level-0 pixels
  const int          margin = static_cast<int>(std::ceil(std::max(step, 1.0))) + 2;

  std::vector<PatchGeometry> geometry;
  std::vector<std::string>   outside;
  for (std::size_t i = 0; i < spots.GetNumberOfSpots(); ++i)
  {
    const auto & xy = spots.GetPixelPositions()[i];
    if (xy[0] < 0.0 || xy[1] < 0.0 || xy[0] >= size0[0] || xy[1] >= size0[1])
    {
      outside.push_back(spots.GetSpotIds()[i]);
      continue;
    }
    const double left = xy[0] - footprint / 2.0;
    const double top = xy[1] - footprint / 2.0;
    const bool   partial = left < 0.0 || top < 0.0 || left + footprint > size0[0] || top + footprint > size0[1];
    if (partial)
    {
      (settings.SkipPartialPatches ? result.SkippedSpots : result.PaddedSpots).push_back(spots.GetSpotIds()[i]);
      if (settings.SkipPartialPatches)
      {
        continue;
      }
    }
    PatchGeometry g;
    const double  leftLevel = left / downsample;
    const double  topLevel = top / downsample;
    g.RegionX = static_cast<std::int64_t>(std::floor(leftLevel)) - margin;
    g.RegionY = static_cast<std::int64_t>(std::floor(topLevel)) - margin;
    g.RegionWidth = static_cast<std::int64_t>(std::ceil(patch * step)) + 2 * margin + 1;
    g.RegionHeight = g.RegionWidth;
    g.StartX = leftLevel - g.RegionX;
    g.StartY = topLevel - g.RegionY;
    geometry.push_back(g);
    result.SpotIndices.push_back(i);
    result.Corners.push_back(
      { { static_cast<std::int64_t>(std::llround(left)), static_cast<std::int64_t>(std::llround(top)) } });
  }
  if (!outside.empty())
  {
    itkGenericExceptionMacro(<< outside.size() << " spot(s) lie outside the " << size0[0] << " x " << size0[1]
                             << " slide (first: " << outside.front()
                             << "); are the positions in this slide's full-resolution pixels?");
  }
  if (geometry.empty())
  {
    itkGenericExceptionMacro(<< "Every spot's patch leaves the slide and partial patches are skipped");
  }

  using StackType = SpotPatches::PatchStackType;
  result.Patches = StackType::New();
  result.Patches->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { patch, patch, geometry.size() } }));
  const double spacing[3] = { result.PixelSize, result.PixelSize, 1.0 };
  result.Patches->SetSpacing(spacing);
  result.Patches->Allocate();
  auto * stack = reinterpret_cast<unsigned char *>(result.Patches->GetBufferPointer());

  MultiThreaderBase::New()->ParallelizeArray(
    0,
    geometry.size(),
    [&](SizeValueType k) {
      const auto &               g = geometry[k];
      std::vector<unsigned char> region(3 * g.RegionWidth * g.RegionHeight);
      slide.ReadRegion(level,
                       static_cast<std::int64_t>(std::llround(g.RegionX * downsample)),
                       static_cast<std::int64_t>(std::llround(g.RegionY * downsample)),
                       g.RegionWidth,
                       g.RegionHeight,
                       region.data());
      const auto horizontal = ComputeTaps(g.StartX, step, patch);
      const auto vertical = ComputeTaps(g.StartY, step, patch);
      // Horizontal pass over every region row, then vertical pass into the patch.
      std::vector<float> rows(3 * patch * g.RegionHeight);
      for (std::int64_t y = 0; y < g.RegionHeight; ++y)
      {
        const unsigned char * in = region.data() + 3 * y * g.RegionWidth;
        float *               out = rows.data() + 3 * y * patch;
        for (unsigned int j = 0; j < patch; ++j)
        {
          float         sum[3] = { 0.0f, 0.0f, 0.0f };
          const float * w = horizontal.Weights.data() + j * horizontal.Width;
          for (int t = 0; t < horizontal.Width; ++t)
          {
            const std::int64_t x =
              std::min<std::int64_t>(std::max<std::int64_t>(horizontal.First[j] + t, 0), g.RegionWidth - 1);
            for (int c = 0; c < 3; ++c)
            {
              sum[c] += w[t] * in[3 * x + c];
            }
          }
          for (int c = 0; c < 3; ++c)
          {
            out[3 * j + c] = sum[c];
          }
        }
      }
      unsigned char * out = stack + 3 * std::size_t{ patch } * patch * k;
      for (unsigned int i = 0; i < patch; ++i)
      {
        const float * w = vertical.Weights.data() + i * vertical.Width;
        for (unsigned int j = 0; j < patch; ++j)
        {
          float sum[3] = { 0.0f, 0.0f, 0.0f };
          for (int t = 0; t < vertical.Width; ++t)
          {
            const std::int64_t y =
              std::min<std::int64_t>(std::max<std::int64_t>(vertical.First[i] + t, 0), g.RegionHeight - 1);
            const float * in = rows.data() + 3 * (y * patch + j);
            for (int c = 0; c < 3; ++c)
            {
              sum[c] += w[t] * in[c];
            }
          }
          for (int c = 0; c < 3; ++c)
          {
            out[3 * (i * patch + j) + c] =
              static_cast<unsigned char>(std::min(255.0f, std::max(0.0f, std::nearbyint(sum[c]))));
          }
        }
      }
    },
    nullptr);

  if (settings.NormalizationTarget)
  {
    const auto &      target = *settings.NormalizationTarget;
    const std::size_t pixels = result.Patches->GetBufferedRegion().GetNumberOfPixels();
    const auto        source = EstimateStainParameters(stack, pixels, 3, target.Method);
    if (!source)
    {
      itkGenericExceptionMacro(<< "The patches show no tissue, so their stains cannot be normalised; check the "
                                  "spot positions and the slide");
    }
    result.SourceStains = *source;
    const StainColorMapper mapper(*source, target);
    const std::size_t      perPatch = std::size_t{ patch } * patch;
    MultiThreaderBase::New()->ParallelizeArray(
      0,
      geometry.size(),
      [&](SizeValueType k) { mapper.Map(stack + 3 * perPatch * k, stack + 3 * perPatch * k, perPatch, 3); },
      nullptr);
  }
  return result;
}

} // end namespace itk
