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
#ifndef itkColourNoisePatches_h
#define itkColourNoisePatches_h

#include "itkSpotPatchDataset.h"

#include <cstdint>

namespace itk
{

/** \class ColourNoisePatches
 * \brief Colour-noise controls: patches that keep each real patch's colours and lose its structure, the control every
 * synthesis must beat. \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT ColourNoisePatches
{
public:
  ColourNoisePatches() = delete; // a family of functions: nothing to construct

  /** \brief Patches that carry real tissue's colours and nothing else: every pixel drawn at random
   * (with replacement, seeded) from the pixels of \p source. The control that tells what a generator
   * adds beyond colour: a regressor co-trained on such pairs learns only regularisation towards the
   * profiles, and the sample measures (ClassifierTwoSampleResult::Compute, MorphologyComparison::Compare) must reject
   * them. The stack has \p count patches of \p source's size and spacing. Throws when \p source is empty. \ingroup
   * SpatialTranscriptomics */
  static SpotPatchDataset::PatchStackType::Pointer
  MakePatches(const SpotPatchDataset::PatchStackType * source, std::size_t count, std::uint32_t seed);

  /** \brief A copy of \p pairs (its spots, expression profiles and settings) whose patches are
   * MakePatches of \p realPatches: the colour-noise control of a synthetic pair set.
   * \ingroup SpatialTranscriptomics */
  static SpotPatchDataset::Pointer
  MakeControl(const SpotPatchDataset & pairs, const SpotPatchDataset::PatchStackType * realPatches, std::uint32_t seed);
};

} // end namespace itk

#endif
