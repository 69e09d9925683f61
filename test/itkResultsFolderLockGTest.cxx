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

// One run at a time in a results folder, across threads and processes, and a holder killed with
// SIGKILL leaves no stale lock.

#include "itkResultsFolderLock.h"

#include "itkMacro.h"

#include "gtest/gtest.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

fs::path
Folder(const std::string & name)
{
  const auto folder = fs::temp_directory_path() / ("c2l-lock-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  return folder;
}

/** The message of the refusal to lock \p folder, or "" when it locks. */
std::string
Refusal(const fs::path & folder)
{
  try
  {
    const itk::ResultsFolderLock lock(folder.string(), "pipeline run");
  }
  catch (const itk::ExceptionObject & e)
  {
    return e.GetDescription();
  }
  return "";
}
} // namespace

TEST(ResultsFolderLock, ASecondRunIsRefusedUntilTheFirstEnds)
{
  const auto folder = Folder("threads");
  {
    const itk::ResultsFolderLock first(folder.string(), "pipeline run");
    EXPECT_TRUE(fs::is_directory(folder)) << "the lock makes the folder";
    const auto refusal = Refusal(folder);
    EXPECT_NE(refusal.find("Another pipeline run is writing into " + folder.string() + " (process " +
                           std::to_string(::getpid())),
              std::string::npos)
      << refusal;
    EXPECT_NE(refusal.find("choose another output folder"), std::string::npos) << refusal;
  }
  EXPECT_EQ(Refusal(folder), "") << "the folder is free again once the first run ends";
  fs::remove_all(folder);
}

TEST(ResultsFolderLock, AnotherProcessIsRefusedAndAKilledHolderLeavesNoLock)
{
  const auto folder = Folder("processes");
  fs::create_directories(folder);
  const auto  locked = folder / "child-has-it";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0)
  {
    const itk::ResultsFolderLock lock(folder.string(), "pipeline run");
    std::ofstream(locked.string()) << "yes";
    pause(); // until killed
    _exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(locked) && std::chrono::steady_clock::now() < deadline)
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(fs::exists(locked));
  const auto refusal = Refusal(folder);
  EXPECT_NE(refusal.find("(process " + std::to_string(child) + ", started "), std::string::npos) << refusal;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(Refusal(folder), "") << "the killed run's lock ended with it";
  fs::remove_all(folder);
}

TEST(ResultsFolderLock, AFileInsteadOfAFolderIsRefused)
{
  const auto file = Folder("file");
  std::ofstream(file.string()) << "a user's file";
  const auto refusal = Refusal(file);
  EXPECT_NE(refusal.find("is a file, not a folder"), std::string::npos) << refusal;
  EXPECT_TRUE(fs::is_regular_file(file)) << "the user's file is kept";
  fs::remove(file);
}
