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
#ifndef itkAtomicFile_h
#define itkAtomicFile_h

#include "SpatialTranscriptomicsExport.h"

#include <cstddef>
#include <string>

namespace itk
{

/** \class AtomicFile
 * \brief Writes a file whole or not at all: the bytes go to a temporary file beside it, which is
 * then renamed over it, so a reader (or a run killed half-way) sees the old file or the new one,
 * never a part.
 *
 * The temporary's name is unique to the process and the call and is never an existing file, so a
 * user's "model.safetensors.tmp" is not overwritten, and two processes writing beside each other do
 * not collide. Every file the module writes goes through this class.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT AtomicFile
{
public:
  /** Writes \p bytes to \p path atomically. \p what names the file in errors ("the stain
   * parameters"). Throws itk::ExceptionObject when the folder is missing or not writable. */
  static void
  Write(const std::string & path, const std::string & bytes, const std::string & what = "the file");

  /** A new temporary name beside \p path, for writers that make the file themselves (HDF5, PNG):
   * write it, then Commit it. */
  static std::string
  TemporaryNameFor(const std::string & path);

  /** Removes, in \p folder and its subfolders, the temporaries of writers that are no longer
   * running (a process killed while writing cannot remove its own); returns how many. A temporary
   * of a running process is kept. */
  static std::size_t
  RemoveAbandonedTemporaries(const std::string & folder);

  /** Renames \p temporary over \p path; on failure removes \p temporary and throws. */
  static void
  Commit(const std::string & temporary, const std::string & path, const std::string & what = "the file");
};

} // end namespace itk

#endif
