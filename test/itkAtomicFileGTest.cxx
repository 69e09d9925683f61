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

#include "itkAtomicFile.h"
#include "itkMacro.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

std::string
Contents(const fs::path & path)
{
  std::ifstream     in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

class AtomicFile : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("atomic-file-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  /** Every file in the folder. */
  std::size_t
  NumberOfFiles() const
  {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(m_Folder), fs::directory_iterator()));
  }
  fs::path m_Folder;
};

TEST_F(AtomicFile, WritesTheBytesAndReplacesAnOldFileLeavingNoTemporary)
{
  const auto        path = m_Folder / "result.json";
  const std::string bytes("{\"a\": 1}\n\0binary", 17);
  itk::AtomicFile::Write(path.string(), bytes);
  EXPECT_EQ(Contents(path), bytes);
  itk::AtomicFile::Write(path.string(), "second");
  EXPECT_EQ(Contents(path), "second");
  EXPECT_EQ(NumberOfFiles(), 1u);
}

TEST_F(AtomicFile, NeverUsesAnExistingFileAsItsTemporary)
{
  const auto path = m_Folder / "model.safetensors";
  // A user's files beside the output, with the names other writers used as temporaries.
  std::ofstream(m_Folder / "model.safetensors.tmp") << "user";
  const std::string first = itk::AtomicFile::TemporaryNameFor(path.string());
  std::ofstream(first) << "user too";
  const std::string second = itk::AtomicFile::TemporaryNameFor(path.string());
  EXPECT_NE(first, second);
  EXPECT_EQ(fs::path(first).parent_path(), m_Folder); // beside it: the rename stays on one file system
  itk::AtomicFile::Write(path.string(), "weights");
  EXPECT_EQ(Contents(path), "weights");
  EXPECT_EQ(Contents(m_Folder / "model.safetensors.tmp"), "user");
  EXPECT_EQ(Contents(first), "user too");
}

TEST_F(AtomicFile, AMissingFolderIsAnErrorThatNamesThePathAndWritesNothing)
{
  const auto path = m_Folder / "missing" / "out.tsv";
  try
  {
    itk::AtomicFile::Write(path.string(), "x", "the predictions");
    FAIL() << "no exception";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find(path.string()), std::string::npos) << e.GetDescription();
    EXPECT_NE(std::string(e.GetDescription()).find("the predictions"), std::string::npos) << e.GetDescription();
  }
  EXPECT_EQ(NumberOfFiles(), 0u);
}

TEST_F(AtomicFile, ACommitOverAFolderFailsAndRemovesTheTemporary)
{
  fs::create_directories(m_Folder / "taken" / "inside");
  const std::string temporary = itk::AtomicFile::TemporaryNameFor((m_Folder / "taken").string());
  std::ofstream(temporary) << "x";
  EXPECT_THROW(itk::AtomicFile::Commit(temporary, (m_Folder / "taken").string()), itk::ExceptionObject);
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_TRUE(fs::is_directory(m_Folder / "taken" / "inside"));
}

TEST_F(AtomicFile, RemovesTheTemporariesOfWritersThatAreGoneAndKeepsEveryOtherFile)
{
  // A process that has ended: its id names no running process (until the system reuses it).
  const pid_t gone = fork();
  if (gone == 0)
  {
    _exit(0);
  }
  ASSERT_GT(gone, 0);
  waitpid(gone, nullptr, 0);
  const auto mine = std::to_string(::getpid());
  const auto dead = std::to_string(gone);
  fs::create_directories(m_Folder / "evaluation");
  for (const auto & name : { "model.safetensors.checkpoint.partial-" + dead + "-0",
                             "evaluation/predictions.tsv.partial-" + dead + "-12",
                             "dataset.h5.partial-" + mine + "-1", // a writer still running: kept
                             std::string("notes.partial-draft"),  // a user's file: kept
                             std::string("data.partial-12-x") })
  {
    std::ofstream(m_Folder / name) << "part";
  }
  EXPECT_EQ(itk::AtomicFile::RemoveAbandonedTemporaries(m_Folder.string()), 2u);
  EXPECT_FALSE(fs::exists(m_Folder / ("model.safetensors.checkpoint.partial-" + dead + "-0")));
  EXPECT_FALSE(fs::exists(m_Folder / ("evaluation/predictions.tsv.partial-" + dead + "-12")));
  EXPECT_TRUE(fs::exists(m_Folder / ("dataset.h5.partial-" + mine + "-1")));
  EXPECT_TRUE(fs::exists(m_Folder / "notes.partial-draft"));
  EXPECT_TRUE(fs::exists(m_Folder / "data.partial-12-x"));
  EXPECT_EQ(itk::AtomicFile::RemoveAbandonedTemporaries((m_Folder / "missing").string()), 0u);

  // A writer killed but not yet reaped (a zombie: its parent has not waited for it) writes nothing
  // any more: its temporary goes too.
  const pid_t zombie = fork();
  if (zombie == 0)
  {
    _exit(0);
  }
  ASSERT_GT(zombie, 0);
  const auto zombieState = [zombie] {
    std::ifstream stat("/proc/" + std::to_string(zombie) + "/stat");
    std::string   line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
  };
  for (int i = 0; i < 500 && zombieState() != 'Z'; ++i)
  {
    usleep(2000);
  }
  ASSERT_EQ(zombieState(), 'Z');
  const std::string name = "report.png.partial-" + std::to_string(zombie) + "-3";
  std::ofstream(m_Folder / name) << "part";
  EXPECT_EQ(itk::AtomicFile::RemoveAbandonedTemporaries(m_Folder.string()), 1u);
  EXPECT_FALSE(fs::exists(m_Folder / name));
  waitpid(zombie, nullptr, 0);
}

} // namespace
