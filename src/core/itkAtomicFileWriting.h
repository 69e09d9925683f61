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
#ifndef itkAtomicFileWriting_h
#define itkAtomicFileWriting_h

// The module's one way to write a file whole or not at all, with no ITK and no LibTorch in it so
// that the diffusion engine (built alone on a GPU machine) and the report use it too. Library code
// calls it through itk::AtomicFile (include/itkAtomicFile.h), which raises itk::ExceptionObject.

#include <stdexcept>
#include <cstddef>
#include <string>

namespace itk
{
namespace atomic_file
{

/** A failed write; what() says which file and what to check. */
class WriteError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** A new name beside \p path (same folder, so the rename is atomic), unique to this process and
 * call, that is not an existing file: a user's "X.tmp" is never overwritten. */
std::string
TemporaryNameFor(const std::string & path);

/** Renames \p temporary over \p path; on failure removes \p temporary and throws WriteError. */
void
Commit(const std::string & temporary, const std::string & path, const std::string & what);

/** Removes, in \p folder and its subfolders, the temporaries of writers that are no longer
 * running (a process killed while writing cannot remove its own); returns how many. A temporary of
 * a running process is kept, whoever it is. */
std::size_t
RemoveAbandonedTemporaries(const std::string & folder);

/** Writes \p bytes to a temporary beside \p path, then renames it over \p path. */
void
Write(const std::string & path, const std::string & bytes, const std::string & what);

} // namespace atomic_file
} // namespace itk

#endif
