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
#ifndef itkStainTestUtilities_h
#define itkStainTestUtilities_h

// Small helpers shared by the stain tests: synthetic H&E images with known stains, and the
// location of the shared real data.

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkRGBPixel.h"
#include "itkSyntheticStainedTissue.h"

#include <cstdlib>
#include <fstream>
#include <string>

namespace itk
{
namespace StainTest
{

using RGBImageType = Image<RGBPixel<unsigned char>, 2>;

/** The shared data folder: $SpatialTranscriptomics_SHARED_DATA_DIR, else the configured path. */
inline std::string
SharedDataDirectory()
{
  if (const char * fromEnvironment = std::getenv("SpatialTranscriptomics_SHARED_DATA_DIR"))
  {
    return fromEnvironment;
  }
#ifdef SpatialTranscriptomics_SHARED_DATA_DIR
  return SpatialTranscriptomics_SHARED_DATA_DIR;
#else
  return "../shared/data";
#endif
}

inline bool
FileExists(const std::string & path)
{
  return std::ifstream(path).good();
}

/** An RGB image holding interleaved bytes, x fastest. */
inline RGBImageType::Pointer
MakeRGBImage(const std::vector<unsigned char> & rgb, unsigned int width, unsigned int height)
{
  auto                     image = RGBImageType::New();
  RGBImageType::RegionType region({ { 0, 0 } }, { { width, height } });
  image->SetRegions(region);
  image->Allocate();
  std::copy(rgb.begin(), rgb.end(), reinterpret_cast<unsigned char *>(image->GetBufferPointer()));
  return image;
}

/** Synthetic tissue rendered with a stain matrix. */
inline RGBImageType::Pointer
MakeSyntheticTissue(unsigned int width, unsigned int height, std::uint32_t seed,
                    const StainParameters::StainMatrixType & stains)
{
  const auto field = SyntheticStainField::Generate(width, height, seed);
  return MakeRGBImage(SyntheticStainField::Render(field, stains), width, height);
}

inline RGBImageType::Pointer
ReadRGB(const std::string & path)
{
  return itk::ReadImage<RGBImageType>(path);
}

/** mean(|a/255 - b/255|) over all pixels and channels: TIAToolbox's conformance measure. */
inline double
MeanAbsoluteDifference(const RGBImageType * a, const RGBImageType * b)
{
  const auto *      pa = reinterpret_cast<const unsigned char *>(a->GetBufferPointer());
  const auto *      pb = reinterpret_cast<const unsigned char *>(b->GetBufferPointer());
  const std::size_t n = 3 * a->GetBufferedRegion().GetNumberOfPixels();
  double            sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
  {
    sum += std::abs(int(pa[i]) - int(pb[i]));
  }
  return sum / 255.0 / n;
}

/** Angle in degrees between two 3-vectors. */
inline double
AngleDegrees(const std::array<double, 3> & a, const std::array<double, 3> & b)
{
  const double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const double na = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  const double nb = std::sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
  return std::acos(std::min(1.0, dot / (na * nb))) * 180.0 / 3.14159265358979323846;
}

} // end namespace StainTest
} // end namespace itk

#endif // itkStainTestUtilities_h
