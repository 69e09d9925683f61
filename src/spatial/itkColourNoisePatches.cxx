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
#include "itkColourNoisePatches.h"

#include <numeric>
#include <random>

namespace itk
{

SpotPatchDataset::PatchStackType::Pointer
ColourNoisePatches::MakePatches(const SpotPatchDataset::PatchStackType * source, std::size_t count, std::uint32_t seed)
{
  if (source == nullptr || source->GetBufferPointer() == nullptr ||
      source->GetBufferedRegion().GetNumberOfPixels() == 0)
  {
    itkGenericExceptionMacro(<< "Colour noise needs real patches to draw its colours from; the source stack is empty");
  }
  using StackType = SpotPatchDataset::PatchStackType;
  auto size = source->GetBufferedRegion().GetSize();
  size[2] = count;
  auto noise = StackType::New();
  noise->SetRegions(StackType::RegionType(source->GetBufferedRegion().GetIndex(), size));
  noise->SetSpacing(source->GetSpacing());
  noise->SetOrigin(source->GetOrigin());
  noise->Allocate();
  // Raw 32-bit draws scaled to the pixel count (std:: distributions differ between libraries).
  std::mt19937        generator(seed);
  const auto          available = source->GetBufferedRegion().GetNumberOfPixels();
  const auto *        from = source->GetBufferPointer();
  auto *              to = noise->GetBufferPointer();
  const SizeValueType total = noise->GetBufferedRegion().GetNumberOfPixels();
  for (SizeValueType i = 0; i < total; ++i)
  {
    to[i] = from[static_cast<SizeValueType>((generator() + 0.5) / 4294967296.0 * available)];
  }
  return noise;
}

SpotPatchDataset::Pointer
ColourNoisePatches::MakeControl(const SpotPatchDataset & pairs, const SpotPatchDataset::PatchStackType * realPatches,
                                std::uint32_t seed)
{
  std::vector<std::size_t> all(pairs.GetNumberOfPatches());
  std::iota(all.begin(), all.end(), std::size_t{ 0 });
  auto control = pairs.Select(all);
  if (realPatches == nullptr ||
      realPatches->GetBufferedRegion().GetSize(0) != control->GetPatches()->GetBufferedRegion().GetSize(0) ||
      realPatches->GetBufferedRegion().GetSize(1) != control->GetPatches()->GetBufferedRegion().GetSize(1))
  {
    itkGenericExceptionMacro(<< "The colour-noise control draws its colours from real patches of the pairs' size; "
                                "give real patches of that size");
  }
  auto noise = ColourNoisePatches::MakePatches(realPatches, pairs.GetNumberOfPatches(), seed);
  noise->SetSpacing(control->GetPatches()->GetSpacing());
  control->SetPatches(noise);
  return control;
}

} // end namespace itk
