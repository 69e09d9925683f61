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
#ifndef itkReadableFile_h
#define itkReadableFile_h

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

// Every reader of outside files asks this before it opens one. Opening is not enough: a directory
// opens as a stream of zero readable bytes whose "size" is garbage, and opening a FIFO blocks until
// some other process writes to it. No ITK and no LibTorch here: the diffusion engine, which builds
// without ITK, uses it too, and each caller raises its own error type with the reason.

namespace itk
{

/** Why \p path cannot be read as a file, as the end of a sentence ("it is a directory, not a
 * file"), or an empty string when it is a regular file that opens for reading. Looks at the path
 * with stat() only, so a FIFO or a device is refused without being opened. */
inline std::string
ReadableFileProblem(const std::string & path)
{
  namespace fs = std::filesystem;
  if (path.empty())
  {
    return "no file name was given";
  }
  std::error_code ec;
  const auto      status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found)
  {
    return "it does not exist";
  }
  if (ec)
  {
    return "it cannot be examined (" + ec.message() + ")";
  }
  switch (status.type())
  {
    case fs::file_type::regular:
      break;
    case fs::file_type::directory:
      return "it is a directory, not a file";
    case fs::file_type::fifo:
      return "it is a FIFO (named pipe), not a regular file";
    case fs::file_type::socket:
      return "it is a socket, not a regular file";
    case fs::file_type::block:
    case fs::file_type::character:
      return "it is a device, not a regular file";
    default:
      return "it is not a regular file";
  }
  std::ifstream probe(path, std::ios::binary);
  if (!probe)
  {
    return "it cannot be opened for reading (check its permissions)";
  }
  return {};
}

} // namespace itk

#endif
