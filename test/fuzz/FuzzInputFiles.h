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
#ifndef FuzzInputFiles_h
#define FuzzInputFiles_h

// What the file-reading harnesses share: the fuzzer's bytes cut into the files of one input (each
// part but the last prefixed by its length, two bytes little-endian, so that mutations keep the
// parts apart), and a scratch folder of this process to write them into (under /dev/shm when it
// exists: the readers read real files, and a RAM disk keeps that fast).

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fuzz
{

/** \p count parts of \p data: each but the last is its 2-byte length, then its bytes; the last
 * is what remains. Missing parts are empty. */
inline std::vector<std::string>
SplitParts(const std::uint8_t * data, std::size_t size, std::size_t count)
{
  std::vector<std::string> parts;
  std::size_t              at = 0;
  for (std::size_t k = 0; k + 1 < count; ++k)
  {
    std::size_t length = 0;
    if (at + 2 <= size)
    {
      length = data[at] | (static_cast<std::size_t>(data[at + 1]) << 8);
      at += 2;
    }
    else
    {
      at = size;
    }
    length = std::min(length, size - at);
    parts.emplace_back(reinterpret_cast<const char *>(data + at), length);
    at += length;
  }
  parts.emplace_back(reinterpret_cast<const char *>(data + at), size - at);
  return parts;
}

/** This process's scratch folder, emptied (created on first use). */
inline std::filesystem::path
ScratchFolder()
{
  static const std::filesystem::path folder = [] {
    const std::filesystem::path base =
      std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    return base / ("st-fuzz-" + std::to_string(getpid()));
  }();
  std::error_code ignored;
  std::filesystem::remove_all(folder, ignored);
  std::filesystem::create_directories(folder);
  return folder;
}

inline void
WriteFile(const std::filesystem::path & path, const std::string & bytes)
{
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

} // namespace fuzz

#endif
