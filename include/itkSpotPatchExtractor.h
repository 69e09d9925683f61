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
#ifndef itkSpotPatchExtractor_h
#define itkSpotPatchExtractor_h

#include "itkSlideReader.h"
#include "itkSpatialExpressionData.h"
#include "itkStainParameters.h"

#include <optional>

namespace itk
{

/** \brief How patches are cut at spots. The default is HEST's: 224 pixels at 0.5 um per pixel.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PatchExtractionSettings
{
  /** Side of the patch on the tissue, in micrometres. */
  double PatchSizeMicrometres{ 112.0 };
  /** Side of the patch in output pixels (so the output pixel size is their ratio). */
  unsigned int PatchSizePixels{ 224 };
  /** Patches that leave the slide: false pads them with white, true leaves their spots out. */
  bool SkipPartialPatches{ false };
  /** Stain-normalise the patches to these target parameters (estimating the slide's own stains
   * over all its patches), with the target's method. */
  std::optional<StainParameters> NormalizationTarget;
};

/** The patches of a slide's spots, with what happened at the edges. */
struct SpatialTranscriptomics_EXPORT SpotPatches
{
  using PatchStackType = Image<RGBPixel<unsigned char>, 3>;
  /** x, y, then one patch per kept spot; spacing is the output pixel size in micrometres. */
  PatchStackType::Pointer Patches;
  /** The spots kept (indices into the input spots), in patch order. */
  std::vector<std::size_t> SpotIndices;
  /** Ids of spots whose patch left the slide: padded with white, or left out. */
  std::vector<std::string> PaddedSpots;
  std::vector<std::string> SkippedSpots;
  /** Top-left corner of each patch in level-0 slide pixels (HEST's "coords"). */
  std::vector<std::array<std::int64_t, 2>> Corners;
  /** Micrometres per output pixel. */
  double PixelSize{ 0.0 };
  /** The slide's stain parameters, when the patches were normalised. */
  std::optional<StainParameters> SourceStains;
};

/** \brief Cut a patch at every spot of \p spots from \p slide, resampled to the settings' pixel
 * size with antialiasing.
 *
 * The patch of a spot at pixel position (x, y) covers [x - S/2, x + S/2) x [y - S/2, y + S/2) in
 * level-0 pixels, S the patch side in slide pixels; it is read from the coarsest pyramid level
 * that is still at least as fine as the output, and resampled separably with a triangle filter
 * widened by the downsampling factor (area-weighted, so no aliasing; a plain crop when the pixel
 * sizes match and the corner falls on a pixel). Patches are cut in parallel. A spot whose centre
 * lies outside the slide is an error (positions and slide do not belong together, or the
 * positions are in another image's pixels).
 *
 * \ingroup SpatialTranscriptomics
 */
SpatialTranscriptomics_EXPORT SpotPatches
ExtractSpotPatches(const SlideReader & slide, const SpatialExpressionData & spots,
                   const PatchExtractionSettings & settings = PatchExtractionSettings());

} // end namespace itk

#endif
