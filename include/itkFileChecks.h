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
#ifndef itkFileChecks_h
#define itkFileChecks_h

#include "SpatialTranscriptomicsExport.h"

#include <cstddef>
#include <string>

namespace itk
{

/** What an image file holds, read from its header only.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ImageFileInfo
{
  unsigned int Dimension{ 0 };
  unsigned int Components{ 0 };
  std::size_t  NumberOfPixels{ 0 };
  std::string  ComponentType;
  bool         EightBitColor{ false }; ///< unsigned char with 3 (RGB) or 4 (RGBA) components
};

/** \class FileChecks
 * \brief The checks every step makes before it reads or writes a file: what an image file holds,
 * and never overwriting anything a user wrote unless asked to. Each raises itk::ExceptionObject
 * saying what is wrong and what to do.
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT FileChecks
{
public:
  /** Whether \p path exists (false where it cannot be examined). */
  static bool
  Exists(const std::string & path);

  /** The header of the image at \p path; throws when it is missing or not an image ITK reads. */
  static ImageFileInfo
  InspectImage(const std::string & path);

  /** As InspectImage, and throws unless it is an 8-bit RGB(A) 2-D image or 3-D stack; \p role
   * names it in the message ("target"). */
  static ImageFileInfo
  RequireColorImage(const std::string & path, const std::string & role);

  /** Throws when \p path exists and \p replace is false, or when it is \p inputPath itself. */
  static void
  RequireWritable(const std::string & path, bool replace, const std::string & inputPath = std::string());

  /** The whole text of \p path; throws when it cannot be read. */
  static std::string
  ReadText(const std::string & path);
};

} // end namespace itk

#endif
