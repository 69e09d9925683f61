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
#include "itkAtomicFileWriting.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace itk
{
namespace atomic_file
{

std::string
TemporaryNameFor(const std::string & path)
{
  static std::atomic<unsigned long> counter{ 0 };
  const std::string                 stem = path + ".partial-" + std::to_string(static_cast<long>(getpid())) + "-";
  for (;;)
  {
    std::string     candidate = stem + std::to_string(counter++);
    std::error_code ignored;
    if (!std::filesystem::exists(candidate, ignored))
    {
      return candidate;
    }
  }
}

void
Commit(const std::string & temporary, const std::string & path, const std::string & what)
{
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
  {
    std::remove(temporary.c_str());
    throw WriteError("Cannot move " + what + " into place at \"" + path +
                     "\"; check that its folder is writable and that the path is not a folder");
  }
}

void
Write(const std::string & path, const std::string & bytes, const std::string & what)
{
  const std::string temporary = TemporaryNameFor(path);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
    {
      std::remove(temporary.c_str());
      throw WriteError("Cannot write " + what + " to \"" + path +
                       "\"; check that its folder exists, is writable and has space");
    }
  }
  Commit(temporary, path, what);
}

} // namespace atomic_file
} // namespace itk
