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
#include "itkPatchCutting.h"
#include "itkSpotPatchDataset.h"

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
CutSpotPatches(const SlideReader & slide, const SpatialExpressionData & spots, const PatchExtractionSettings & settings,
               const ProgressCallback & progress)
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

  const auto cutPatch = [&](SizeValueType k) {
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
  };
  // In chunks, so that progress is reported (and an abort honoured) every few dozen patches; stain
  // normalisation, when asked, is the last fifth of the work.
  const double        cuttingShare = settings.NormalizationTarget ? 0.8 : 1.0;
  const auto          threader = MultiThreaderBase::New();
  const SizeValueType chunk = progress ? 64 : geometry.size();
  for (SizeValueType first = 0; first < geometry.size(); first += chunk)
  {
    const SizeValueType last = std::min<SizeValueType>(first + chunk, geometry.size());
    threader->ParallelizeArray(first, last, cutPatch, nullptr);
    if (progress)
    {
      progress(cuttingShare * static_cast<double>(last) / geometry.size());
    }
  }

  if (settings.NormalizationTarget)
  {
    const auto &      target = *settings.NormalizationTarget;
    const std::size_t pixels = result.Patches->GetBufferedRegion().GetNumberOfPixels();
    const auto        source = StainAnalysis::Estimate(stack, pixels, 3, target.Method);
    if (!source)
    {
      itkGenericExceptionMacro(<< "The patches show no tissue, so their stains cannot be normalised; check the "
                                  "spot positions and the slide");
    }
    result.SourceStains = *source;
    const StainColorMapper mapper(*source, target);
    const std::size_t      perPatch = std::size_t{ patch } * patch;
    threader->ParallelizeArray(
      0,
      geometry.size(),
      [&](SizeValueType k) { mapper.Map(stack + 3 * perPatch * k, stack + 3 * perPatch * k, perPatch, 3); },
      nullptr);
    if (progress)
    {
      progress(1.0);
    }
  }
  return result;
}

ProgressCallback
ReportProgressOf(ProcessObject * filter, float start, float end)
{
  return [filter, start, end](double fraction) {
    filter->UpdateProgress(start + static_cast<float>(fraction) * (end - start));
    if (filter->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription(std::string(filter->GetNameOfClass()) + " was aborted (AbortGenerateData)");
      throw aborted;
    }
  };
}

SpotPatches
SpotPatchExtractor::Extract(const SlideReader & slide, const SpatialExpressionData & spots,
                            const PatchExtractionSettings & settings)
{
  return CutSpotPatches(slide, spots, settings, ProgressCallback());
}

SpotPatchExtractor::SpotPatchExtractor()
{
  this->SetNumberOfRequiredInputs(1);
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

ProcessObject::DataObjectPointer
SpotPatchExtractor::MakeOutput(DataObjectPointerArraySizeType)
{
  return SpotPatchDataset::New().GetPointer();
}

void
SpotPatchExtractor::SetSpots(const SpatialExpressionData * spots)
{
  this->SetNthInput(0, const_cast<SpatialExpressionData *>(spots));
}

const SpatialExpressionData *
SpotPatchExtractor::GetSpots() const
{
  return static_cast<const SpatialExpressionData *>(this->GetInput(0));
}

SpotPatchDataset *
SpotPatchExtractor::GetOutput()
{
  return static_cast<SpotPatchDataset *>(this->ProcessObject::GetOutput(0));
}

void
SpotPatchExtractor::SetSettings(const PatchExtractionSettings & settings)
{
  m_Settings = settings;
  this->Modified();
}

void
SpotPatchExtractor::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_Slide.IsNull())
  {
    itkExceptionMacro(<< "No slide to cut patches from; SetSlide with an opened SlideReader");
  }
}

void
SpotPatchExtractor::GenerateData()
{
  const auto & spots = *this->GetSpots();
  this->UpdateProgress(0.0f);
  const auto patches = CutSpotPatches(*m_Slide, spots, m_Settings, ReportProgressOf(this, 0.0f, 1.0f));
  m_SkippedSpots = patches.SkippedSpots;
  m_SourceStains = patches.SourceStains;
  this->GetOutput()->Graft(SpotPatchDataset::FromExtraction(patches, spots, m_SlideName));
}

void
SpotPatchExtractor::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Slide: " << (m_Slide ? m_Slide->GetFileName() : "(none)") << std::endl;
  os << indent << "SlideName: " << m_SlideName << std::endl;
  os << indent << "PatchSizeMicrometres: " << m_Settings.PatchSizeMicrometres << std::endl;
  os << indent << "PatchSizePixels: " << m_Settings.PatchSizePixels << std::endl;
  os << indent << "SkipPartialPatches: " << m_Settings.SkipPartialPatches << std::endl;
  os << indent << "NormalizationTarget: "
     << (m_Settings.NormalizationTarget ? StainParameters::MethodToString(m_Settings.NormalizationTarget->Method)
                                        : std::string("none"))
     << std::endl;
  os << indent << "SkippedSpots: " << m_SkippedSpots.size() << std::endl;
  os << indent << "SourceStains: " << (m_SourceStains ? "estimated" : "none") << std::endl;
}

} // end namespace itk
