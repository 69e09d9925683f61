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
#ifndef itkTissueTileExtractor_h
#define itkTissueTileExtractor_h

#include "itkSpotPatchDataset.h"
#include "itkSpotPatchExtractor.h"

namespace itk
{

/** Which tiles of a slide's grid a tile set takes (see TissueTileSettings::HoldOutBlockTiles).
 * \ingroup SpatialTranscriptomics */
enum class TileGridPart
{
  All,
  Training,
  HeldOut
};

/** \brief How unlabeled tissue tiles are cut from a slide: a central model's corpus.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT TissueTileSettings
{
  /** Tile side in micrometres and pixels, and stain normalisation (SkipPartialPatches is ignored:
   * the grid lies inside the slide). */
  PatchExtractionSettings Extraction;
  /** At most this many tiles, chosen at random (Seed) among those with enough tissue. */
  unsigned int  MaximumTiles{ 2000 };
  std::uint32_t Seed{ 0 };
  /** A tile is tissue when at least this fraction of its pixels are darker than background (mean
   * of R, G, B below 220: H&E background is near white). */
  double MinimumTissueFraction{ 0.5 };
  /** A spatial hold-out: the grid is cut into square blocks of this many tiles a side, and the
   * blocks whose (column + row) is a multiple of 3 are the held-out third, spread over the whole
   * section so that both parts see the same tissue types, yet share no pixel. 0: no hold-out. */
  unsigned int HoldOutBlockTiles{ 0 };
  TileGridPart Part{ TileGridPart::All };
};

/** \class TissueTileExtractor
 * \brief Unlabeled tissue tiles of a slide on a grid of tile-sized cells: a central model's
 * corpus. The tiles of the settings' part with enough tissue, at most MaximumTiles of them chosen
 * at random (the same seed gives the same tiles), in grid order. Spots are named "tile-X-Y" after
 * their centres (level-0 pixels); the dataset has no expression. Throws when the slide is smaller
 * than one tile, the settings cannot work, or no tile has enough tissue.
 *
 * Tissue is measured on each tile cut at ScreeningPixels a side (or the tile size, when smaller)
 * in the slide's own colours, a few thousand tiles at a time; only the chosen tiles are cut at the
 * settings' size and stain-normalised (the slide's stains estimated over them). So memory holds the
 * chosen tiles, not the whole grid.
 *
 * Input: the slide (SetSlide, an opened SlideReader). Output: the SpotPatchDataset, named after
 * SlideName. ProgressEvent after each screening chunk and every 64 chosen tiles;
 * AbortGenerateDataOn() stops it there (ProcessAborted). Extract does the same in one call.
 *
 * \ingroup SpatialTranscriptomics */
class SpatialTranscriptomics_EXPORT TissueTileExtractor : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(TissueTileExtractor);

  using Self = TissueTileExtractor;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(TissueTileExtractor, ProcessObject);

  /** Side in pixels of the small version of each tile that tissue is measured on. */
  static constexpr unsigned int ScreeningPixels = 32;

  /** The slide, opened (SlideReader::Open). */
  itkSetConstObjectMacro(Slide, SlideReader);
  itkGetConstObjectMacro(Slide, SlideReader);

  /** The slide's name recorded in the dataset and in error messages (e.g. its file name). */
  itkSetStringMacro(SlideName);
  itkGetStringMacro(SlideName);

  void
  SetSettings(const TissueTileSettings & settings);
  const TissueTileSettings &
  GetSettings() const
  {
    return m_Settings;
  }

  SpotPatchDataset *
  GetOutput();

  /** The tiles of \p slide, without a pipeline. */
  static SpotPatchDataset::Pointer
  Extract(const SlideReader & slide, const TissueTileSettings & settings, const std::string & slideName);

  /** The fraction of \p count RGB pixels that are darker than background (mean of R, G, B below
   * 220). */
  static double
  TissueFraction(const RGBPixel<unsigned char> * pixels, std::size_t count);

protected:
  TissueTileExtractor();
  ~TissueTileExtractor() override = default;

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
  SlideReader::ConstPointer m_Slide;
  std::string               m_SlideName;
  TissueTileSettings        m_Settings;
};

} // end namespace itk

#endif
