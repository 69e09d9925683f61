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
#include "itkResultsFolderLock.h"

#include "itkMacro.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace itk
{

const char *
ResultsFolderLock::FileName()
{
  return ".c2l-run.lock";
}

ResultsFolderLock::ResultsFolderLock(const std::string & folder, const std::string & what)
{
  std::error_code error;
  if (std::filesystem::exists(folder) && !std::filesystem::is_directory(folder))
  {
    itkGenericExceptionMacro(<< "The output " << folder << " is a file, not a folder");
  }
  if (!std::filesystem::create_directories(folder, error) && error)
  {
    itkGenericExceptionMacro(<< "Cannot make the output folder " << folder << ": " << error.message());
  }
  const std::string path = (std::filesystem::path(folder) / FileName()).string();
  m_Descriptor = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_Descriptor < 0)
  {
    itkGenericExceptionMacro(<< "Cannot make the lock file " << path << " (" << std::strerror(errno)
                             << "): the output folder must be writable");
  }
  if (flock(m_Descriptor, LOCK_EX | LOCK_NB) != 0)
  {
    const int  error = errno;
    char       holder[256] = {};
    const auto length = pread(m_Descriptor, holder, sizeof(holder) - 1, 0);
    close(m_Descriptor);
    m_Descriptor = -1;
    if (error == EWOULDBLOCK)
    {
      itkGenericExceptionMacro(<< "Another " << what << " is writing into " << folder << " ("
                               << (length > 0 ? std::string(holder, static_cast<std::size_t>(length)) : "")
                               << "): wait for it to end, or choose another output folder");
    }
    itkGenericExceptionMacro(<< "Cannot lock " << path << ": " << std::strerror(error));
  }
  // Who holds it, for the next run's message (the lock, not this text, is what excludes).
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char              started[64] = {};
  std::strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  const std::string record = "process " + std::to_string(getpid()) + ", started " + started;
  if (ftruncate(m_Descriptor, 0) != 0 || pwrite(m_Descriptor, record.data(), record.size(), 0) < 0)
  {
    // The record is only for messages: the lock holds without it.
  }
}

ResultsFolderLock::~ResultsFolderLock()
{
  if (m_Descriptor >= 0)
  {
    flock(m_Descriptor, LOCK_UN);
    close(m_Descriptor);
  }
}

} // end namespace itk
