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
// A disk that fills up while the module writes: the write fails with a clear exception naming the
// file and the system's reason, the file that was there is unchanged and no part of the new one is
// left. The kernel's per-process file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes every
// write past the limit fail as a full disk would (EFBIG instead of ENOSPC), with no privileges and
// no filesystem to mount.

#include "itkAnnDataWriter.h"
#include "itkAtomicFile.h"
#include "itkPatchDatasetExtractor.h"
#include "itkSpotPatchDataset.h"
#include "itkSyntheticSlide.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <csignal>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/resource.h>
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

/** While it lives, no file of this process may grow past \p bytes: a write beyond fails. */
class FileSizeLimit
{
public:
  explicit FileSizeLimit(rlim_t bytes)
  {
    getrlimit(RLIMIT_FSIZE, &m_Previous);
    m_PreviousHandler = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{ bytes, m_Previous.rlim_max };
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit()
  {
    setrlimit(RLIMIT_FSIZE, &m_Previous);
    std::signal(SIGXFSZ, m_PreviousHandler);
  }
  FileSizeLimit(const FileSizeLimit &) = delete;
  FileSizeLimit &
  operator=(const FileSizeLimit &) = delete;

private:
  rlimit m_Previous{};
  void (*m_PreviousHandler)(int){ SIG_DFL };
};

class WriteFailure : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("write-failure-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  /** The names in the folder, sorted. */
  std::vector<std::string>
  Names() const
  {
    std::vector<std::string> names;
    for (const auto & entry : fs::directory_iterator(m_Folder))
    {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  /** \p write must throw an itk::ExceptionObject that names \p file and says the file is too large. */
  static void
  ExpectFullDiskError(const std::function<void()> & write, const fs::path & file)
  {
    try
    {
      write();
      ADD_FAILURE() << "a write past the file-size limit succeeded";
    }
    catch (const itk::ExceptionObject & e)
    {
      const std::string description = e.GetDescription();
      EXPECT_NE(description.find(file.string()), std::string::npos) << description;
      EXPECT_NE(description.find("File too large"), std::string::npos) << description;
      EXPECT_NE(description.find("unchanged"), std::string::npos) << description;
    }
  }
  fs::path m_Folder;
};

TEST_F(WriteFailure, AnAtomicWriteKeepsTheOldFileAndLeavesNoPart)
{
  const auto path = m_Folder / "model.safetensors.checkpoint";
  itk::AtomicFile::Write(path.string(), "the previous checkpoint");
  const std::string larger(64 * 1024, 'x');
  {
    const FileSizeLimit limit(16 * 1024);
    ExpectFullDiskError([&] { itk::AtomicFile::Write(path.string(), larger, "the checkpoint"); }, path);
  }
  EXPECT_EQ(Contents(path), "the previous checkpoint");
  EXPECT_EQ(Names(), std::vector<std::string>{ "model.safetensors.checkpoint" });
  // With room again, the same write succeeds.
  itk::AtomicFile::Write(path.string(), larger, "the checkpoint");
  EXPECT_EQ(Contents(path), larger);
}

// HDF5 writes a file in memory and the module writes it out whole: a full disk half-way leaves
// neither a truncated dataset (which HDF5 itself, writing to disk, closed without an error) nor a
// file that HDF5 can no longer close.
TEST_F(WriteFailure, ADatasetOrAnnDataWriteKeepsTheOldFileAndLeavesNoPart)
{
  itk::SyntheticSlideSettings slide;
  slide.NumberOfSpots = 40;
  slide.Seed = 2;
  itk::SyntheticSlide::Write(itk::SyntheticSlide::Generate(slide), (m_Folder / "slide").string());
  itk::ExtractionStepSettings settings;
  settings.Slide = (m_Folder / "slide" / "image.tif").string();
  settings.Spots = (m_Folder / "slide" / "outs").string();
  settings.PatchPixels = 32;
  settings.Genes = 6;
  settings.Output = (m_Folder / "data.h5").string();
  auto extractor = itk::PatchDatasetExtractor::New();
  extractor->SetSettings(settings);
  extractor->Update();
  const auto previous = Contents(settings.Output);
  const auto dataset = itk::SpotPatchDataset::Read(settings.Output);
  ASSERT_GT(previous.size(), 40u * 1024u) << "the dataset must be larger than the limit below";

  const auto other = m_Folder / "other.h5";
  {
    const FileSizeLimit limit(32 * 1024);
    ExpectFullDiskError([&] { dataset->Write(settings.Output); }, settings.Output);
    ExpectFullDiskError([&] { dataset->Write(other.string()); }, other);
    auto         writer = itk::AnnDataWriter::New();
    const auto & spots = *dataset->GetSpots();
    writer->SetFileName((m_Folder / "data.h5ad").string());
    writer->SetSpots(spots.GetSpotIds(), spots.GetPixelPositions());
    writer->SetGenes(spots.GetPreprocessing().Genes);
    itk::Array2D<double> values(spots.GetNumberOfSpots(), spots.GetPreprocessing().Genes.size());
    values.fill(1.5);
    writer->SetValues(values);
    writer->SetText("padding", std::string(64 * 1024, 'p'));
    ExpectFullDiskError([&] { writer->Write(); }, m_Folder / "data.h5ad");
  }
  EXPECT_EQ(Contents(settings.Output), previous);
  EXPECT_EQ(Names(), (std::vector<std::string>{ "data.h5", "slide" }));
  // The process goes on: HDF5 holds no half-closed file, and the next write works.
  dataset->Write(other.string());
  EXPECT_EQ(itk::SpotPatchDataset::Read(other.string())->GetSpots()->GetSpotIds(), dataset->GetSpots()->GetSpotIds());
}

} // namespace
