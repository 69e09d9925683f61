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
#ifndef itkSlideReader_h
#define itkSlideReader_h

#include "SpatialTranscriptomicsExport.h"
#include "itkImage.h"
#include "itkObject.h"
#include "itkObjectFactory.h"
#include "itkRGBPixel.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace itk
{

/** \class SlideReader
 * \brief Region access to a slide: whole-slide formats through OpenSlide, other images through ITK.
 *
 * OpenSlide opens SVS, NDPI, MRXS, SCN, BIF, pyramidal and generic tiled TIFF and more, and reads
 * any region at any pyramid level without loading the slide. Other images (JPEG, PNG, MetaImage,
 * ...) go through ITK: formats ITK reads by region (uncompressed MetaImage) are read by region;
 * the others (JPEG, PNG) are held in memory once opened. ReadRegion is safe to call from several
 * threads at once.
 *
 * The pixel size (micrometres per level-0 pixel) comes from the slide when it states one
 * (OpenSlide's openslide.mpp-x, a MetaImage's or NRRD's spacing), else from SetPixelSize; it is
 * never assumed.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SlideReader : public Object
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SlideReader);

  using Self = SlideReader;
  using Superclass = Object;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using RGBImageType = Image<RGBPixel<unsigned char>, 2>;
  using SizeType = std::array<std::uint64_t, 2>;

  itkNewMacro(Self);
  itkTypeMacro(SlideReader, Object);

  /** Opens \p fileName; throws itk::ExceptionObject if neither OpenSlide nor ITK can read it, or
   * if it is not 8-bit RGB(A). */
  void
  Open(const std::string & fileName);
  itkGetStringMacro(FileName);

  /** "openslide" or "itk". */
  std::string
  GetBackend() const;
  unsigned int
  GetNumberOfLevels() const;
  SizeType
  GetLevelDimensions(unsigned int level) const;
  double
  GetLevelDownsample(unsigned int level) const;
  /** The level to read for a wanted downsample factor: the coarsest level not coarser than it
   * (within 1%, as pyramid downsamples are rounded). */
  unsigned int
  GetBestLevelForDownsample(double downsample) const;

  /** The pixel size the slide states (micrometres per level-0 pixel), or 0. */
  double
  GetStatedPixelSize() const;
  /** Give (or override) the pixel size in micrometres; 0 returns to the stated one. */
  itkSetMacro(PixelSize, double);
  /** The pixel size in use; throws if the slide states none and none was given. */
  double
  GetPixelSize() const;

  /** Interleaved RGB of the \p width x \p height pixels of \p level whose top-left pixel is at
   * level-0 coordinates (\p x, \p y); pixels outside the slide are white. */
  void
  ReadRegion(unsigned int level, std::int64_t x, std::int64_t y, std::uint64_t width, std::uint64_t height,
             unsigned char * rgb) const;
  RGBImageType::Pointer
  ReadRegion(unsigned int level, std::int64_t x, std::int64_t y, std::uint64_t width, std::uint64_t height) const;

  /** The whole of \p level (for small levels and small images). */
  RGBImageType::Pointer
  ReadLevel(unsigned int level) const;

protected:
  SlideReader();
  ~SlideReader() override;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  struct Backend;
  std::unique_ptr<Backend> m_Backend;
  std::string              m_FileName;
  double                   m_PixelSize{ 0.0 };
};

} // end namespace itk

#endif
