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

// Whether an X display can be reached, and a virtual one for child processes. Kept apart from the
// VTK code: Xlib's macros (Status, Bool, None, ...) clash with VTK's headers.

#include "itkReportFigures.h"

#include <X11/Xlib.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

extern char ** environ;

namespace itk::report
{
namespace
{
std::string
FindInPath(const std::string & program)
{
  const char * path = std::getenv("PATH");
  std::string  folders = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t  start = 0;
  while (start <= folders.size())
  {
    const std::size_t end = std::min(folders.find(':', start), folders.size());
    const std::string folder = folders.substr(start, end - start);
    const std::string candidate = (folder.empty() ? std::string(".") : folder) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0)
    {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}
} // namespace

bool
DisplayAvailable()
{
  // The probe's connection stays open: an X server without -noreset (plain `xvfb-run`) resets when
  // its last client disconnects and refuses connections meanwhile, so closing here would make the
  // render window's connection, opened right after, fail or crash VTK.
  static std::mutex                 mutex;
  static Display *                  held = nullptr;
  static std::string                heldName;
  const std::lock_guard<std::mutex> lock(mutex);

  const char *      variable = std::getenv("DISPLAY");
  const std::string name = variable != nullptr ? variable : "";
  if (held != nullptr && name == heldName)
  {
    return true;
  }
  if (held != nullptr)
  {
    XCloseDisplay(held);
    held = nullptr;
  }
  if (name.empty())
  {
    return false;
  }
  Display * display = XOpenDisplay(name.c_str());
  if (display == nullptr)
  {
    return false;
  }
  // VTK's render window needs GLX on that server, not just a connection.
  int opcode = 0;
  int firstEvent = 0;
  int firstError = 0;
  if (XQueryExtension(display, "GLX", &opcode, &firstEvent, &firstError) == 0)
  {
    XCloseDisplay(display);
    return false;
  }
  held = display;
  heldName = name;
  return true;
}

int
RunUnderVirtualDisplay(const std::vector<std::string> & command)
{
  if (command.empty())
  {
    throw ReportError("RunUnderVirtualDisplay: the command is empty; pass the program and its arguments");
  }
  const std::string xvfbRun = FindInPath("xvfb-run");
  if (xvfbRun.empty())
  {
    throw ReportError("xvfb-run is not in PATH, so figures cannot be rendered without a display: install "
                      "Debian's xvfb package, or run under an X session");
  }
  // A 24-bit screen (GLX visuals of lower depths lack the RGB channels VTK wants), and no server reset
  // when the last client disconnects, which would refuse the next figure's connection.
  std::vector<std::string> arguments{ xvfbRun, "-a", "-s", "-screen 0 1920x1080x24 -noreset" };
  arguments.insert(arguments.end(), command.begin(), command.end());
  std::vector<char *> argv;
  for (auto & argument : arguments)
  {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  pid_t     child = 0;
  const int spawnError = posix_spawn(&child, xvfbRun.c_str(), nullptr, nullptr, argv.data(), environ);
  if (spawnError != 0)
  {
    throw ReportError("Cannot start " + xvfbRun + ": " + std::strerror(spawnError));
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
  {
    if (errno != EINTR)
    {
      throw ReportError(std::string("Waiting for xvfb-run failed: ") + std::strerror(errno));
    }
  }
  if (WIFEXITED(status))
  {
    return WEXITSTATUS(status);
  }
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

} // namespace itk::report
