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
#include "itkSlideReader.h"
#include "itkReadableFile.h"

#include "itkImageFileReader.h"
#include "itkImageIORegistration.h"
#include "itkImageIOFactory.h"
#include "itkVectorImage.h"

#include <openslide.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace itk
{

/** Either an OpenSlide handle, or an ITK image (held whole, or read by region when ITK can). */
struct SlideReader::Backend
{
  using VectorImageType = VectorImage<unsigned char, 2>;

  openslide_t *            Slide{ nullptr };
  VectorImageType::Pointer Whole;
  bool                     StreamableITK{ false };
  unsigned int             Components{ 3 };
  SizeType                 Size{ { 0, 0 } };
  double                   StatedPixelSize{ 0.0 };

  ~Backend()
  {
    if (Slide != nullptr)
    {
      openslide_close(Slide);
    }
  }
};

SlideReader::SlideReader() = default;
SlideReader::~SlideReader() = default;

void
SlideReader::Open(const std::string & fileName)
{
  RegisterSpatialTranscriptomicsImageIO();
  m_Backend.reset();
  m_FileName = fileName;
  auto              backend = std::make_unique<Backend>();
  const std::string problem = ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    itkExceptionMacro(<< "Cannot open the slide " << fileName << ": " << problem);
  }

  if (openslide_detect_vendor(fileName.c_str()) != nullptr)
  {
    backend->Slide = openslide_open(fileName.c_str());
    const char * error = backend->Slide != nullptr ? openslide_get_error(backend->Slide) : "cannot open";
    if (backend->Slide == nullptr || error != nullptr)
    {
      itkExceptionMacro(<< "OpenSlide cannot read " << fileName << ": " << (error ? error : "unknown error"));
    }
    int64_t w = 0, h = 0;
    openslide_get_level0_dimensions(backend->Slide, &w, &h);
    backend->Size = { { static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h) } };
    const char * mpp = openslide_get_property_value(backend->Slide, OPENSLIDE_PROPERTY_NAME_MPP_X);
    if (mpp != nullptr)
    {
      backend->StatedPixelSize = std::atof(mpp);
    }
    m_Backend = std::move(backend);
    this->Modified();
    return;
  }

  auto io = ImageIOFactory::CreateImageIO(fileName.c_str(), ImageIOFactory::IOFileModeEnum::ReadMode);
  if (!io)
  {
    itkExceptionMacro(<< fileName << " is neither a slide OpenSlide reads nor an image ITK reads");
  }
  io->SetFileName(fileName);
  io->ReadImageInformation();
  if (io->GetComponentType() != IOComponentEnum::UCHAR || io->GetNumberOfComponents() < 3 ||
      io->GetNumberOfDimensions() != 2)
  {
    itkExceptionMacro(<< "The slide " << fileName << " is " << io->GetNumberOfDimensions() << "-D with "
                      << io->GetNumberOfComponents() << " "
                      << ImageIOBase::GetComponentTypeAsString(io->GetComponentType())
                      << " component(s); slides must be 2-D 8-bit RGB or RGBA");
  }
  backend->Components = io->GetNumberOfComponents();
  backend->Size = { { io->GetDimensions(0), io->GetDimensions(1) } };
  const std::string extension = fileName.substr(fileName.find_last_of('.') + 1);
  // Only formats that store physical spacing on purpose state a pixel size (a JPEG's DPI does not).
  if ((extension == "mha" || extension == "mhd" || extension == "nrrd" || extension == "nhdr") &&
      io->GetSpacing(0) != 1.0)
  {
    backend->StatedPixelSize = io->GetSpacing(0);
  }
  backend->StreamableITK = io->CanStreamRead();
  if (!backend->StreamableITK)
  {
    backend->Whole = ReadImage<Backend::VectorImageType>(fileName);
  }
  m_Backend = std::move(backend);
  this->Modified();
}

std::string
SlideReader::GetBackend() const
{
  if (!m_Backend)
  {
    return "none";
  }
  return m_Backend->Slide != nullptr ? "openslide" : "itk";
}

unsigned int
SlideReader::GetNumberOfLevels() const
{
  if (!m_Backend)
  {
    itkExceptionMacro(<< "No slide is open");
  }
  return m_Backend->Slide != nullptr ? static_cast<unsigned int>(openslide_get_level_count(m_Backend->Slide)) : 1;
}

auto
SlideReader::GetLevelDimensions(unsigned int level) const -> SizeType
{
  if (level >= GetNumberOfLevels())
  {
    itkExceptionMacro(<< "Level " << level << " does not exist; " << m_FileName << " has " << GetNumberOfLevels());
  }
  if (m_Backend->Slide == nullptr)
  {
    return m_Backend->Size;
  }
  int64_t w = 0, h = 0;
  openslide_get_level_dimensions(m_Backend->Slide, static_cast<int32_t>(level), &w, &h);
  return { { static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h) } };
}

double
SlideReader::GetLevelDownsample(unsigned int level) const
{
  GetLevelDimensions(level); // checks the level
  return m_Backend->Slide != nullptr ? openslide_get_level_downsample(m_Backend->Slide, static_cast<int32_t>(level))
                                     : 1.0;
}

unsigned int
SlideReader::GetBestLevelForDownsample(double downsample) const
{
  unsigned int best = 0;
  for (unsigned int level = 0; level < GetNumberOfLevels(); ++level)
  {
    // Pyramid sizes are rounded, so a "2x" level may report 2.0003: accept levels up to 1% coarser
    // (the resampling then enlarges by at most 1%).
    if (GetLevelDownsample(level) <= downsample * 1.01)
    {
      best = level;
    }
  }
  return best;
}

double
SlideReader::GetStatedPixelSize() const
{
  return m_Backend ? m_Backend->StatedPixelSize : 0.0;
}

double
SlideReader::GetPixelSize() const
{
  if (m_PixelSize > 0.0)
  {
    return m_PixelSize;
  }
  if (GetStatedPixelSize() > 0.0)
  {
    return GetStatedPixelSize();
  }
  itkExceptionMacro(<< "The slide " << m_FileName
                    << " states no pixel size; give it in micrometres per pixel (SetPixelSize; c2l: --pixel-size)");
}

void
SlideReader::ReadRegion(unsigned int level, std::int64_t x, std::int64_t y, std::uint64_t width, std::uint64_t height,
                        unsigned char * rgb) const
{
  const auto size = GetLevelDimensions(level);
  std::fill(rgb, rgb + 3 * width * height, static_cast<unsigned char>(255));
  if (width == 0 || height == 0)
  {
    return;
  }
  if (m_Backend->Slide != nullptr)
  {
    std::vector<std::uint32_t> argb(width * height);
    openslide_read_region(m_Backend->Slide, argb.data(), x, y, static_cast<int32_t>(level), width, height);
    if (const char * error = openslide_get_error(m_Backend->Slide))
    {
      itkExceptionMacro(<< "OpenSlide failed reading " << m_FileName << ": " << error);
    }
    for (std::size_t i = 0; i < argb.size(); ++i)
    {
      // Premultiplied ARGB; transparent pixels (outside the scanned area) become white.
      const std::uint32_t p = argb[i];
      const unsigned      a = p >> 24;
      if (a == 0)
      {
        continue;
      }
      for (int c = 0; c < 3; ++c)
      {
        const unsigned v = (p >> (16 - 8 * c)) & 0xff;
        rgb[3 * i + c] = static_cast<unsigned char>(std::min(255u, v + (255 - a))); // composited over white
      }
    }
    return;
  }
  // ITK: the part of the region inside the image.
  const std::int64_t x0 = std::max<std::int64_t>(0, x);
  const std::int64_t y0 = std::max<std::int64_t>(0, y);
  const std::int64_t x1 = std::min<std::int64_t>(size[0], x + static_cast<std::int64_t>(width));
  const std::int64_t y1 = std::min<std::int64_t>(size[1], y + static_cast<std::int64_t>(height));
  if (x0 >= x1 || y0 >= y1)
  {
    return;
  }
  Backend::VectorImageType::ConstPointer image = m_Backend->Whole;
  Backend::VectorImageType::RegionType   region({ { x0, y0 } }, { { std::size_t(x1 - x0), std::size_t(y1 - y0) } });
  if (!image)
  {
    auto reader = ImageFileReader<Backend::VectorImageType>::New();
    reader->SetFileName(m_FileName);
    reader->GetOutput()->SetRequestedRegion(region);
    reader->Update();
    image = reader->GetOutput();
  }
  const unsigned int components = m_Backend->Components;
  const auto *       buffer = image->GetBufferPointer();
  for (std::int64_t row = y0; row < y1; ++row)
  {
    const auto * in = buffer + image->ComputeOffset({ { x0, row } }) * components;
    auto *       out = rgb + 3 * ((row - y) * width + (x0 - x));
    for (std::int64_t col = x0; col < x1; ++col, in += components, out += 3)
    {
      out[0] = in[0];
      out[1] = in[1];
      out[2] = in[2];
    }
  }
}

auto
SlideReader::ReadRegion(unsigned int level, std::int64_t x, std::int64_t y, std::uint64_t width,
                        std::uint64_t height) const -> RGBImageType::Pointer
{
  auto image = RGBImageType::New();
  image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { width, height } }));
  image->Allocate();
  ReadRegion(level, x, y, width, height, reinterpret_cast<unsigned char *>(image->GetBufferPointer()));
  return image;
}

auto
SlideReader::ReadLevel(unsigned int level) const -> RGBImageType::Pointer
{
  const auto size = GetLevelDimensions(level);
  return ReadRegion(level, 0, 0, size[0], size[1]);
}

void
SlideReader::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << m_FileName << std::endl;
  os << indent << "Backend: " << GetBackend() << std::endl;
  os << indent << "PixelSize (given): " << m_PixelSize << std::endl;
  if (m_Backend)
  {
    os << indent << "StatedPixelSize: " << m_Backend->StatedPixelSize << std::endl;
    os << indent << "Level0: " << m_Backend->Size[0] << " x " << m_Backend->Size[1] << std::endl;
    os << indent << "Levels: " << GetNumberOfLevels() << std::endl;
    os << indent << "StreamableITK: " << m_Backend->StreamableITK << std::endl;
  }
}

} // end namespace itk
