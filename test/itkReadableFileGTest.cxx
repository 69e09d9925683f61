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

// Every reader of outside files refuses a directory, a FIFO, a device or a missing path with a
// message naming the path and what it is, before it reads a byte (a FIFO would otherwise block the
// test until ctest's timeout).

#include "itkReadableFile.h"
#include "itkSlideReader.h"
#include "itkSpatialDataReader.h"
#include "itkSpotPatchDataset.h"
#include "itkStainParameters.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <functional>

#include <sys/stat.h>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

/** A scratch folder holding a subfolder, a FIFO and a regular file. */
class ReadableFile : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("itk-readable-file-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder / "folder.h5");
    ASSERT_EQ(::mkfifo(Path("pipe.h5").c_str(), 0600), 0);
    std::ofstream(Path("file.txt")) << "text\n";
    std::ofstream(Path("spots.tsv")) << "spot\tpixel_x\tpixel_y\nA\t1\t2\n";
    std::ofstream(Path("counts.tsv")) << "\tGENE\nA\t3\n";
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  std::string
  Path(const std::string & name) const
  {
    return (m_Folder / name).string();
  }

  /** \p read on each path that is not a readable file throws an ITK exception naming the path and
   * saying what it is. */
  void
  ExpectEachRefused(const std::function<void(const std::string &)> & read) const
  {
    for (const auto & [path, what] :
         std::vector<std::pair<std::string, std::string>>{ { Path("folder.h5"), "is a directory" },
                                                           { Path("pipe.h5"), "is a FIFO" },
                                                           { "/dev/null", "is a device" },
                                                           { Path("absent.h5"), "does not exist" } })
    {
      try
      {
        read(path);
        ADD_FAILURE() << "read " << path;
      }
      catch (const itk::ExceptionObject & e)
      {
        const std::string message = e.GetDescription();
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(what), std::string::npos) << message;
      }
    }
  }

  fs::path m_Folder;
};
} // namespace

TEST_F(ReadableFile, SaysWhatAPathIsWhenItIsNotAReadableFile)
{
  EXPECT_EQ(itk::ReadableFileProblem(Path("file.txt")), "");
  EXPECT_EQ(itk::ReadableFileProblem(Path("folder.h5")), "it is a directory, not a file");
  EXPECT_EQ(itk::ReadableFileProblem(Path("pipe.h5")), "it is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(itk::ReadableFileProblem("/dev/null"), "it is a device, not a regular file");
  EXPECT_EQ(itk::ReadableFileProblem(Path("absent.h5")), "it does not exist");
  EXPECT_EQ(itk::ReadableFileProblem(""), "no file name was given");
  // A symbolic link is judged by what it points to.
  fs::create_symlink(Path("file.txt"), Path("link.txt"));
  EXPECT_EQ(itk::ReadableFileProblem(Path("link.txt")), "");
  fs::create_symlink(Path("folder.h5"), Path("link-to-folder"));
  EXPECT_EQ(itk::ReadableFileProblem(Path("link-to-folder")), "it is a directory, not a file");
  // Without read permission (root reads anything, so only checked for other users).
  if (::geteuid() != 0)
  {
    fs::permissions(Path("file.txt"), fs::perms::none);
    EXPECT_EQ(itk::ReadableFileProblem(Path("file.txt")), "it cannot be opened for reading (check its permissions)");
  }
}

TEST_F(ReadableFile, HDF5ReadersRefuseThem)
{
  ExpectEachRefused([](const std::string & path) { itk::SpatialDataReader::ReadAnnData(path); });
  ExpectEachRefused([](const std::string & path) { itk::SpatialDataReader::Read10xMatrixH5(path); });
  ExpectEachRefused([](const std::string & path) { itk::SpotPatchDataset::Read(path); });
}

TEST_F(ReadableFile, TableReadersRefuseThem)
{
  EXPECT_EQ(itk::SpatialDataReader::ReadCountTable(Path("counts.tsv"), Path("spots.tsv"))->GetNumberOfSpots(), 1u);
  ExpectEachRefused(
    [this](const std::string & path) { itk::SpatialDataReader::ReadCountTable(path, Path("spots.tsv")); });
  ExpectEachRefused(
    [this](const std::string & path) { itk::SpatialDataReader::ReadCountTable(Path("counts.tsv"), path); });
  ExpectEachRefused([](const std::string & path) { itk::SpatialDataReader::ReadVisiumPositions(path); });
}

TEST_F(ReadableFile, JSONReadersRefuseThem)
{
  ExpectEachRefused([](const std::string & path) { itk::StainParameters::ReadJSONFile(path); });
  ExpectEachRefused([](const std::string & path) { itk::SpatialDataReader::ReadVisiumScaleFactors(path); });
}

TEST_F(ReadableFile, SlideReaderRefusesThem)
{
  ExpectEachRefused([](const std::string & path) { itk::SlideReader::New()->Open(path); });
}
