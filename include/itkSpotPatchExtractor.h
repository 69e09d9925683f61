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

#include "itkProcessObject.h"
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

class SpotPatchDataset;

/** \class SpotPatchExtractor
 * \brief Cuts a patch at every spot from a slide, resampled to the settings' pixel size with
 * antialiasing, and stain-normalised when the settings ask: a SpotPatchDataset of (patch, spot)
 * pairs.
 *
 * The patch of a spot at pixel position (x, y) covers [x - S/2, x + S/2) x [y - S/2, y + S/2) in
 * level-0 pixels, S the patch side in slide pixels; it is read from the coarsest pyramid level
 * that is still at least as fine as the output, and resampled separably with a triangle filter
 * widened by the downsampling factor (area-weighted, so no aliasing; a plain crop when the pixel
 * sizes match and the corner falls on a pixel). Patches are cut in parallel. A spot whose centre
 * lies outside the slide is an error (positions and slide do not belong together, or the
 * positions are in another image's pixels).
 *
 * Inputs: the spots (SetSpots, a SpatialExpressionData: positions in the slide's level-0 pixels)
 * and the slide (SetSlide, an opened SlideReader). Output: the SpotPatchDataset, named after
 * SlideName. ProgressEvent every 64 patches; AbortGenerateDataOn() stops it there (ProcessAborted).
 * Extract does the same in one call, without a pipeline.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SpotPatchExtractor : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpotPatchExtractor);

  using Self = SpotPatchExtractor;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(SpotPatchExtractor, ProcessObject);

  /** The spots to cut patches at. */
  void
  SetSpots(const SpatialExpressionData * spots);
  const SpatialExpressionData *
  GetSpots() const;

  /** The slide, opened (SlideReader::Open). */
  itkSetConstObjectMacro(Slide, SlideReader);
  itkGetConstObjectMacro(Slide, SlideReader);

  /** The slide's name recorded in the dataset (e.g. its file name). */
  itkSetStringMacro(SlideName);
  itkGetStringMacro(SlideName);

  /** Patch size, edges and stain normalisation. */
  void
  SetSettings(const PatchExtractionSettings & settings);
  const PatchExtractionSettings &
  GetSettings() const
  {
    return m_Settings;
  }

  SpotPatchDataset *
  GetOutput();

  /** After Update: the spots left out because their patch left the slide (SkipPartialPatches), and
   * the slide's stain parameters when the patches were normalised. */
  const std::vector<std::string> &
  GetSkippedSpots() const
  {
    return m_SkippedSpots;
  }
  const std::optional<StainParameters> &
  GetSourceStains() const
  {
    return m_SourceStains;
  }

  /** The patches of \p spots cut from \p slide, without a pipeline. */
  static SpotPatches
  Extract(const SlideReader & slide, const SpatialExpressionData & spots,
          const PatchExtractionSettings & settings = PatchExtractionSettings());

protected:
  SpotPatchExtractor();
  ~SpotPatchExtractor() override = default;

  using Superclass::MakeOutput;
  DataObjectPointer
  MakeOutput(DataObjectPointerArraySizeType index) override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  GenerateData() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  SlideReader::ConstPointer      m_Slide;
  std::string                    m_SlideName;
  PatchExtractionSettings        m_Settings;
  std::vector<std::string>       m_SkippedSpots;
  std::optional<StainParameters> m_SourceStains;
};

} // end namespace itk

#endif
