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
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace itk
{
namespace atomic_file
{

namespace
{
constexpr const char * TemporaryMark = ".partial-";

/** The process id in a name TemporaryNameFor made ("X.partial-<pid>-<n>"); 0 for any other name. */
pid_t
WriterOfTemporary(const std::string & name)
{
  const auto mark = name.rfind(TemporaryMark);
  if (mark == std::string::npos)
  {
    return 0;
  }
  const std::string rest = name.substr(mark + std::strlen(TemporaryMark));
  const auto        dash = rest.find('-');
  const auto        digits = [](const std::string & text, std::size_t most) {
    return !text.empty() && text.size() <= most && text.find_first_not_of("0123456789") == std::string::npos;
  };
  if (dash == std::string::npos || !digits(rest.substr(0, dash), 9) || !digits(rest.substr(dash + 1), 20))
  {
    return 0;
  }
  return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
}
} // namespace

std::string
TemporaryNameFor(const std::string & path)
{
  static std::atomic<unsigned long> counter{ 0 };
  const std::string                 stem = path + TemporaryMark + std::to_string(static_cast<long>(getpid())) + "-";
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

namespace
{
/** Whether process \p pid still runs: kill(pid, 0) finds it (sending nothing; EPERM is a process of
 * another user) and it is no zombie (killed, but not yet reaped by its parent: it writes nothing any
 * more, and a parent that reaps late, such as a container's first process, may keep it for a while). */
bool
IsRunning(pid_t pid)
{
  if (::kill(pid, 0) != 0 && errno == ESRCH)
  {
    return false;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string   line;
  if (std::getline(stat, line))
  {
    // "pid (command) state ...": the command may itself hold spaces and parentheses.
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size())
    {
      const char state = line[close + 2];
      return state != 'Z' && state != 'X';
    }
  }
  return true;
}
} // namespace

std::size_t
RemoveAbandonedTemporaries(const std::string & folder)
{
  std::size_t     removed = 0;
  std::error_code error;
  for (std::filesystem::recursive_directory_iterator entry(folder, error), end; !error && entry != end;
       entry.increment(error))
  {
    const pid_t writer = WriterOfTemporary(entry->path().filename().string());
    if (writer > 0 && entry->is_regular_file(error) && !IsRunning(writer) &&
        std::filesystem::remove(entry->path(), error))
    {
      ++removed;
    }
  }
  return removed;
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
  const int         file = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (file < 0)
  {
    const int error = errno;
    throw WriteError("Cannot write " + what + " to \"" + path + "\": " + std::strerror(error) +
                     "; check that its folder exists and is writable");
  }
  // POSIX calls rather than a stream: a full disk must be told apart from a missing folder, and the
  // bytes must be on the disk (fsync) before the rename makes them the file.
  int          error = 0;
  const char * next = bytes.data();
  std::size_t  left = bytes.size();
  while (left > 0 && error == 0)
  {
    const ssize_t written = ::write(file, next, left);
    if (written < 0)
    {
      error = errno == EINTR ? 0 : errno;
      continue;
    }
    next += written;
    left -= static_cast<std::size_t>(written);
  }
  if (error == 0 && ::fsync(file) != 0)
  {
    error = errno;
  }
  if (::close(file) != 0 && error == 0)
  {
    error = errno;
  }
  if (error != 0)
  {
    std::remove(temporary.c_str());
    const bool full = error == ENOSPC || error == EDQUOT || error == EFBIG;
    throw WriteError("Cannot write " + what + " to \"" + path + "\": " + std::strerror(error) +
                     (full ? "; free some space (or raise the file-size limit) and run again: nothing was "
                             "written and the file that was there is unchanged"
                           : "; check that its folder is writable and has space"));
  }
  Commit(temporary, path, what);
}

} // namespace atomic_file
} // namespace itk
