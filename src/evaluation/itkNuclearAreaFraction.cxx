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
#include "itkNuclearAreaFraction.h"

#include "itkStainStatistics.h"

#include <cmath>
#include <limits>

namespace itk
{
namespace
{
/** The interleaved RGB bytes of an image's buffer and its pixel count. */
template <typename TImage>
const unsigned char *
Bytes(const TImage * image, std::size_t & pixels)
{
  static_assert(sizeof(typename TImage::PixelType) == 3, "RGBPixel<unsigned char> is three contiguous bytes");
  pixels = image->GetBufferedRegion().GetNumberOfPixels();
  return reinterpret_cast<const unsigned char *>(image->GetBufferPointer());
}

void
CheckStack(const NuclearAreaFraction::PatchStackType * patches, const char * role)
{
  if (patches == nullptr)
  {
    itkGenericExceptionMacro(<< "No " << role << " patches were given; pass a stack of patches (x, y, patch index)");
  }
  if (patches->GetBufferedRegion().GetNumberOfPixels() == 0 || patches->GetBufferPointer() == nullptr)
  {
    itkGenericExceptionMacro(<< "The " << role << " patch stack is empty; give at least one patch with pixels");
  }
}

void
CheckSettings(const NuclearAreaFractionSettings & settings)
{
  if (!(settings.ThresholdFraction > 0.0) || !std::isfinite(settings.ThresholdFraction) ||
      !(settings.ReferencePercentile > 0.0 && settings.ReferencePercentile <= 100.0) || !(settings.Threshold >= 0.0) ||
      !std::isfinite(settings.Threshold))
  {
    itkGenericExceptionMacro(<< "Nuclear area fraction settings out of range: ThresholdFraction "
                             << settings.ThresholdFraction << " (needs > 0), ReferencePercentile "
                             << settings.ReferencePercentile << " (needs (0, 100]), Threshold " << settings.Threshold
                             << " (needs >= 0; 0 derives it from the real patches)");
  }
}
} // end anonymous namespace

NuclearAreaFraction
NuclearAreaFraction::Fit(const PatchStackType * real, const PatchStackType * synthetic,
                         const NuclearAreaFractionSettings & settings)
{
  CheckStack(real, "real");
  if (synthetic != nullptr)
  {
    CheckStack(synthetic, "synthetic");
  }
  CheckSettings(settings);

  std::size_t                realPixels = 0;
  const unsigned char *      realBytes = Bytes(real, realPixels);
  std::vector<unsigned char> union_;
  const unsigned char *      estimationBytes = realBytes;
  std::size_t                estimationPixels = realPixels;
  if (synthetic != nullptr)
  {
    std::size_t           syntheticPixels = 0;
    const unsigned char * syntheticBytes = Bytes(synthetic, syntheticPixels);
    union_.reserve(3 * (realPixels + syntheticPixels));
    union_.insert(union_.end(), realBytes, realBytes + 3 * realPixels);
    union_.insert(union_.end(), syntheticBytes, syntheticBytes + 3 * syntheticPixels);
    estimationBytes = union_.data();
    estimationPixels = realPixels + syntheticPixels;
  }
  const auto stains = StainAnalysis::Estimate(
    estimationBytes, estimationPixels, 3, StainNormalizationMethod::Macenko, settings.Estimation);
  if (!stains)
  {
    itkGenericExceptionMacro(<< "The patches hold no tissue (fewer than " << settings.Estimation.MinimumTissuePixels
                             << " stained pixels), so no stain vectors can be estimated; give patches of tissue");
  }

  NuclearAreaFraction measurement;
  measurement.Stains = *stains;
  measurement.MinimumOpticalDensity = settings.Estimation.MinimumOpticalDensity;
  if (settings.Threshold > 0.0)
  {
    measurement.Threshold = settings.Threshold;
    return measurement;
  }

  // The percentile of hematoxylin over the real tissue pixels, without storing a value per pixel.
  const StainColorMapper        mapper(*stains, *stains);
  const std::array<double, 256> opticalDensity = stain::OpticalDensityTable();
  const double                  minimumOpticalDensity = measurement.MinimumOpticalDensity;
  const auto                    hematoxylinOf = [&](std::size_t i, float & value) {
    const unsigned char * p = realBytes + 3 * i;
    if (opticalDensity[p[0]] + opticalDensity[p[1]] + opticalDensity[p[2]] < minimumOpticalDensity)
    {
      return false;
    }
    float eosin;
    mapper.Concentrations(p, 1, 3, &value, &eosin);
    return true;
  };
  // Bounds of the least-squares hematoxylin over all 8-bit colours, for the percentile's histogram.
  const auto pseudoInverse = stain::ConcentrationMatrix(stains->StainMatrix);
  double     low = 0.0;
  double     high = 0.0;
  for (int c = 0; c < 3; ++c)
  {
    const double a = pseudoInverse[0][c] * opticalDensity[255];
    const double b = pseudoInverse[0][c] * opticalDensity[0];
    low += std::min(a, b);
    high += std::max(a, b);
  }
  std::uint64_t tissuePixels = 0;
  const double  reference =
    stain::Percentiles(realPixels, hematoxylinOf, low, high, { settings.ReferencePercentile }, tissuePixels)[0];
  if (tissuePixels == 0)
  {
    itkGenericExceptionMacro(<< "The real patches hold no tissue pixels (summed optical density >= "
                             << minimumOpticalDensity << "), so no hematoxylin threshold can be set from them; "
                             << "give real tissue patches or set Threshold explicitly");
  }
  measurement.Threshold = settings.ThresholdFraction * reference;
  if (!(measurement.Threshold > 0.0))
  {
    itkGenericExceptionMacro(<< "The real patches' " << settings.ReferencePercentile << "th hematoxylin percentile is "
                             << reference << ", not positive: they show no hematoxylin; set Threshold explicitly");
  }
  return measurement;
}

namespace
{
/** Classifies \p numberOfPixels RGB pixels, with the stain mapper and the optical density table built
 * once by the caller (a stack measures thousands of patches with one of each): \p visit(i, tissue,
 * nuclear) for each pixel i, nuclear meaning a tissue pixel above the hematoxylin threshold. */
template <typename TVisitor>
void
ClassifyPixels(const StainColorMapper & mapper, const std::array<double, 256> & opticalDensity,
               const unsigned char * rgb, std::size_t numberOfPixels, double threshold, double minimumOpticalDensity,
               TVisitor && visit)
{
  constexpr std::size_t chunk = 4096;
  float                 hematoxylin[chunk];
  float                 eosin[chunk];
  for (std::size_t begin = 0; begin < numberOfPixels; begin += chunk)
  {
    const std::size_t count = std::min(chunk, numberOfPixels - begin);
    mapper.Concentrations(rgb + 3 * begin, count, 3, hematoxylin, eosin);
    for (std::size_t i = 0; i < count; ++i)
    {
      const unsigned char * p = rgb + 3 * (begin + i);
      const bool tissue = opticalDensity[p[0]] + opticalDensity[p[1]] + opticalDensity[p[2]] >= minimumOpticalDensity;
      visit(begin + i, tissue, tissue && hematoxylin[i] > threshold);
    }
  }
}

/** The share of tissue pixels above the hematoxylin threshold (NaN without tissue). */
double
NuclearShare(const StainColorMapper & mapper, const std::array<double, 256> & opticalDensity, const unsigned char * rgb,
             std::size_t numberOfPixels, double threshold, double minimumOpticalDensity)
{
  std::size_t tissue = 0;
  std::size_t nuclear = 0;
  ClassifyPixels(mapper,
                 opticalDensity,
                 rgb,
                 numberOfPixels,
                 threshold,
                 minimumOpticalDensity,
                 [&](std::size_t, bool isTissue, bool isNuclear) {
                   tissue += isTissue;
                   nuclear += isNuclear;
                 });
  return tissue == 0 ? std::numeric_limits<double>::quiet_NaN()
                     : static_cast<double>(nuclear) / static_cast<double>(tissue);
}

void
RequireThreshold(double threshold)
{
  if (!(threshold > 0.0))
  {
    itkGenericExceptionMacro(<< "The nuclear area fraction has no threshold; call NuclearAreaFraction::Fit first");
  }
}
} // namespace

double
NuclearAreaFraction::Measure(const unsigned char * rgb, std::size_t numberOfPixels) const
{
  RequireThreshold(Threshold);
  return NuclearShare(StainColorMapper(Stains, Stains),
                      stain::OpticalDensityTable(),
                      rgb,
                      numberOfPixels,
                      Threshold,
                      MinimumOpticalDensity);
}

double
NuclearAreaFraction::Measure(const PatchType * patch) const
{
  if (patch == nullptr || patch->GetBufferPointer() == nullptr)
  {
    itkGenericExceptionMacro(<< "No patch was given to measure; pass an RGB patch with pixels");
  }
  std::size_t           pixels = 0;
  const unsigned char * bytes = Bytes(patch, pixels);
  return Measure(bytes, pixels);
}

void
NuclearAreaFraction::NuclearMask(const unsigned char * rgb, std::size_t numberOfPixels, unsigned char * mask) const
{
  RequireThreshold(Threshold);
  ClassifyPixels(StainColorMapper(Stains, Stains),
                 stain::OpticalDensityTable(),
                 rgb,
                 numberOfPixels,
                 Threshold,
                 MinimumOpticalDensity,
                 [mask](std::size_t i, bool, bool nuclear) { mask[i] = nuclear ? 1 : 0; });
}

std::vector<double>
NuclearAreaFraction::Measure(const PatchStackType * patches) const
{
  CheckStack(patches, "measured");
  const auto        size = patches->GetBufferedRegion().GetSize();
  const std::size_t patchPixels = std::size_t{ size[0] } * size[1];
  std::size_t       pixels = 0;
  const auto *      bytes = Bytes(patches, pixels);
  const std::size_t count = size[2];
  RequireThreshold(Threshold);
  const StainColorMapper        mapper(Stains, Stains);
  const std::array<double, 256> opticalDensity = stain::OpticalDensityTable();
  std::vector<double>           fractions(count);
  // Patches are independent; each block of the thread pool measures whole patches.
  stain::ParallelBlocks(pixels, [&](std::size_t begin, std::size_t end) {
    for (std::size_t k = (begin + patchPixels - 1) / patchPixels; k < count && k * patchPixels < end; ++k)
    {
      fractions[k] = NuclearShare(
        mapper, opticalDensity, bytes + 3 * k * patchPixels, patchPixels, Threshold, MinimumOpticalDensity);
    }
  });
  return fractions;
}

NuclearAreaFractions
NuclearAreaFractions::Compute(const NuclearAreaFraction::PatchStackType * real,
                              const NuclearAreaFraction::PatchStackType * synthetic,
                              const NuclearAreaFractionSettings &         settings)
{
  NuclearAreaFractions result;
  result.Measurement = NuclearAreaFraction::Fit(real, synthetic, settings);
  result.Real = result.Measurement.Measure(real);
  if (synthetic != nullptr)
  {
    result.Synthetic = result.Measurement.Measure(synthetic);
  }
  return result;
}

} // end namespace itk
