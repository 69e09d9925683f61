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
#ifndef c2lTestHarness_h
#define c2lTestHarness_h

// Runs the c2l executable (C2L_EXECUTABLE, set by CMake) as a user would, in a scratch folder of its
// own, and checks the one-line error contract every command keeps.

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace c2lTest
{
struct RunResult
{
  int         exitCode;
  std::string output; // standard output and error together
};

/** A test fixture owning an empty scratch folder (removed afterwards, kept when the test failed) in which c2l
 * runs. */
class CommandFixture : public ::testing::Test
{
protected:
  /** \a folder is created empty; a leftover from an earlier crashed run is removed first. */
  void
  UseFolder(const std::filesystem::path & folder)
  {
    m_Folder = folder;
    std::filesystem::remove_all(m_Folder);
    std::filesystem::create_directories(m_Folder);
  }

  /** The folder goes, unless the test failed: then it stays for whoever looks into the failure. */
  void
  TearDown() override
  {
    if (m_Folder.empty())
    {
      return;
    }
    if (HasFailure())
    {
      std::cerr << "kept the failed test's folder " << m_Folder << std::endl;
      return;
    }
    std::filesystem::remove_all(m_Folder);
  }

  std::string
  Path(const std::string & name) const
  {
    return (m_Folder / name).string();
  }

  RunResult
  Run(const std::string & arguments) const
  {
    const std::string log = Path("log.txt");
    const std::string command = std::string(C2L_EXECUTABLE) + " " + arguments + " > " + log + " 2>&1";
    const int         status = std::system(command.c_str());
    return { WEXITSTATUS(status), FileBytes(log) };
  }

  /** Runs c2l as Run does, but no file it writes may grow past \p bytes: the kernel's file-size
   * limit (sh's ulimit counts 512-byte blocks), with SIGXFSZ ignored, fails every write beyond it
   * as a full disk would (EFBIG instead of ENOSPC). */
  RunResult
  RunWithFileSizeLimit(std::size_t bytes, const std::string & arguments) const
  {
    const std::string log = Path("log.txt");
    const std::string command = "ulimit -f " + std::to_string(bytes / 512) + "; trap '' XFSZ; exec " +
                                std::string(C2L_EXECUTABLE) + " " + arguments + " > " + log + " 2>&1";
    const int status = std::system(command.c_str());
    return { WEXITSTATUS(status), FileBytes(log) };
  }

  /** A failure prints exactly one line, "c2l: error: ...", and exits non-zero. */
  static void
  ExpectOneLineError(const RunResult & result, const std::string & mentions)
  {
    EXPECT_NE(result.exitCode, 0) << result.output;
    EXPECT_EQ(result.output.rfind("c2l: error: ", 0), 0u) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_NE(result.output.find(mentions), std::string::npos) << result.output;
  }

  static std::string
  FileBytes(const std::string & path)
  {
    std::ifstream     in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  std::filesystem::path m_Folder;
};
} // namespace c2lTest

#endif
