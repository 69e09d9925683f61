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
#include "itkPatchMorphology.h"

#include "itkConnectedComponentImageFilter.h"
#include "itkRelabelComponentImageFilter.h"

#include <algorithm>
#include <cmath>

namespace itk
{
namespace
{
using MaskType = Image<unsigned char, 2>;
using LabelType = Image<unsigned int, 2>;

/** The areas of the 4-connected regions of \p mask (width x height bytes, 1 = nuclear) of at least
 * \p minimumPixels pixels, each times \p pixelArea. */
std::vector<double>
RegionAreas(const unsigned char * mask, unsigned int width, unsigned int height, std::size_t minimumPixels,
            double pixelArea)
{
  auto image = MaskType::New();
  image->SetRegions(MaskType::RegionType({ { 0, 0 } }, { { width, height } }));
  image->Allocate();
  std::copy(mask, mask + std::size_t{ width } * height, image->GetBufferPointer());

  auto components = ConnectedComponentImageFilter<MaskType, LabelType>::New();
  components->SetInput(image);
  components->SetFullyConnected(false);
  components->SetNumberOfWorkUnits(1); // patches are small; the caller's loop is the parallel one
  auto relabel = RelabelComponentImageFilter<LabelType, LabelType>::New();
  relabel->SetInput(components->GetOutput());
  relabel->SetMinimumObjectSize(minimumPixels);
  relabel->SetNumberOfWorkUnits(1);
  relabel->Update();
  std::vector<double> areas;
  for (const auto pixels : relabel->GetSizeOfObjectsInPixels())
  {
    areas.push_back(static_cast<double>(pixels) * pixelArea);
  }
  return areas;
}

double
Median(std::vector<double> values)
{
  if (values.empty())
  {
    return std::nan("");
  }
  const auto middle = values.begin() + values.size() / 2;
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1)
  {
    return *middle;
  }
  return 0.5 * (*middle + *std::max_element(values.begin(), middle));
}

/** Mean nuclei per patch, median nucleus area and mean gradient energy of a set. */
void
Summarise(const std::vector<PatchMorphology> & set, double & nucleiPerPatch, double & medianArea, double & energy)
{
  std::vector<double> areas;
  double              nuclei = 0.0;
  energy = 0.0;
  for (const auto & patch : set)
  {
    nuclei += static_cast<double>(patch.NucleusAreas.size());
    energy += patch.GradientEnergy;
    areas.insert(areas.end(), patch.NucleusAreas.begin(), patch.NucleusAreas.end());
  }
  nucleiPerPatch = nuclei / static_cast<double>(set.size());
  energy /= static_cast<double>(set.size());
  medianArea = Median(std::move(areas));
}
} // namespace

double
PatchMorphology::LuminanceGradientEnergy(const unsigned char * rgb, unsigned int width, unsigned int height)
{
  if (width < 2 || height < 2)
  {
    return 0.0;
  }
  const auto luminance = [rgb, width](unsigned int x, unsigned int y) {
    const unsigned char * p = rgb + 3 * (std::size_t{ y } * width + x);
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  };
  double sum = 0.0;
  for (unsigned int y = 0; y + 1 < height; ++y)
  {
    for (unsigned int x = 0; x + 1 < width; ++x)
    {
      const double here = luminance(x, y);
      const double dx = luminance(x + 1, y) - here;
      const double dy = luminance(x, y + 1) - here;
      sum += std::sqrt(dx * dx + dy * dy);
    }
  }
  return sum / (static_cast<double>(width - 1) * static_cast<double>(height - 1));
}

std::vector<PatchMorphology>
PatchMorphology::Measure(const NuclearAreaFraction & nuclei, const NuclearAreaFraction::PatchStackType * patches,
                         double minimumNucleusArea)
{
  if (patches == nullptr || patches->GetBufferedRegion().GetNumberOfPixels() == 0)
  {
    itkGenericExceptionMacro(<< "No patches to measure; pass a stack of patches (x, y, patch index)");
  }
  if (!(minimumNucleusArea >= 0.0))
  {
    itkGenericExceptionMacro(<< "The minimum nucleus area must be non-negative, not " << minimumNucleusArea);
  }
  const auto         size = patches->GetBufferedRegion().GetSize();
  const unsigned int width = static_cast<unsigned int>(size[0]);
  const unsigned int height = static_cast<unsigned int>(size[1]);
  const std::size_t  pixels = std::size_t{ width } * height;
  const double       pixelArea = patches->GetSpacing()[0] * patches->GetSpacing()[1];
  const auto minimumPixels = static_cast<std::size_t>(std::max(1.0, std::ceil(minimumNucleusArea / pixelArea - 1e-9)));
  const auto * bytes = reinterpret_cast<const unsigned char *>(patches->GetBufferPointer());

  std::vector<PatchMorphology> result(size[2]);
  std::vector<unsigned char>   mask(pixels);
  for (std::size_t k = 0; k < size[2]; ++k)
  {
    const unsigned char * patch = bytes + 3 * k * pixels;
    result[k].GradientEnergy = PatchMorphology::LuminanceGradientEnergy(patch, width, height);
    nuclei.NuclearMask(patch, pixels, mask.data());
    result[k].NucleusAreas = RegionAreas(mask.data(), width, height, minimumPixels, pixelArea);
  }
  return result;
}

double
MorphologyComparison::NucleiPerPatchDifference() const
{
  return (OtherNucleiPerPatch - RealNucleiPerPatch) / RealNucleiPerPatch;
}

double
MorphologyComparison::GradientEnergyDifference() const
{
  return (OtherGradientEnergy - RealGradientEnergy) / RealGradientEnergy;
}

MorphologyComparison
MorphologyComparison::Compare(const NuclearAreaFraction::PatchStackType * real,
                              const NuclearAreaFraction::PatchStackType * other,
                              const PatchMorphologySettings &             settings)
{
  if (other == nullptr)
  {
    itkGenericExceptionMacro(<< "No patches to compare with the real ones; pass a second stack");
  }
  MorphologyComparison comparison;
  comparison.Nuclei = NuclearAreaFraction::Fit(real, other, settings.Nuclei);
  comparison.Real = PatchMorphology::Measure(comparison.Nuclei, real, settings.MinimumNucleusArea);
  comparison.Other = PatchMorphology::Measure(comparison.Nuclei, other, settings.MinimumNucleusArea);
  Summarise(
    comparison.Real, comparison.RealNucleiPerPatch, comparison.RealMedianNucleusArea, comparison.RealGradientEnergy);
  Summarise(comparison.Other,
            comparison.OtherNucleiPerPatch,
            comparison.OtherMedianNucleusArea,
            comparison.OtherGradientEnergy);
  return comparison;
}

} // end namespace itk
