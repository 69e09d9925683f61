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
#ifndef c2lImageFiles_h
#define c2lImageFiles_h

// File checks shared by the c2l commands: what an image file holds, and never overwriting
// anything a user wrote unless asked to.

#include <cstddef>
#include <string>

namespace c2l
{

/** What an image file holds, read from its header only. */
struct ImageFileInfo
{
  unsigned int Dimension{ 0 };
  unsigned int Components{ 0 };
  std::size_t  NumberOfPixels{ 0 };
  std::string  ComponentType;
  bool         EightBitColor{ false }; ///< unsigned char with 3 (RGB) or 4 (RGBA) components
};

/** Throws itk::ExceptionObject if \p path is missing or no ITK reader can read it. */
ImageFileInfo
InspectImageFile(const std::string & path);

/** Throws unless \p path holds a 2-D or 3-D 8-bit RGB or RGBA image; \p role names it in messages. */
ImageFileInfo
RequireColorImage(const std::string & path, const std::string & role);

/** Throws if \p path exists and \p force is false; never lets an output replace an input. */
void
RequireWritable(const std::string & path, bool force, const std::string & inputPath = std::string());

bool
PathExists(const std::string & path);

} // namespace c2l

#endif
