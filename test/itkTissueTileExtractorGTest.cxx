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

// Tissue tiles: the grid's tiles with enough tissue, a spatial hold-out whose two parts partition
// them by the block rule, a seeded cap, and the refusals.

#include "itkTissueTileExtractor.h"

#include "itkImageFileWriter.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;
using RGBImageType = itk::SlideReader::RGBImageType;

/** A 240 x 180 slide at 1 um/px: purple "tissue" where x < 120, white background elsewhere. With
 * 20 um tiles the grid is 12 x 9 and its 6 x 9 left columns are tissue. */
class TissueTiles : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("st-tissue-tiles-" + std::to_string(::getpid()));
    fs::create_directories(m_Folder);
    m_Slide = itk::SlideReader::New();
    m_Slide->Open(WriteSlide("half.mha", 120));
    m_Slide->SetPixelSize(1.0); // a MetaImage spacing of 1 is not taken as a stated pixel size
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }

  std::string
  WriteSlide(const std::string & name, unsigned int tissueColumns) const
  {
    auto image = RGBImageType::New();
    image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 240, 180 } }));
    image->Allocate();
    itk::RGBPixel<unsigned char> white, purple;
    white.Set(245, 245, 245);
    purple.Set(150, 90, 170);
    for (unsigned int y = 0; y < 180; ++y)
    {
      for (unsigned int x = 0; x < 240; ++x)
      {
        image->SetPixel({ { x, y } }, x < tissueColumns ? purple : white);
      }
    }
    const double spacing[2] = { 1.0, 1.0 };
    image->SetSpacing(spacing);
    const auto path = (m_Folder / name).string();
    itk::WriteImage(image, path);
    return path;
  }

  static itk::TissueTileSettings
  Settings()
  {
    itk::TissueTileSettings settings;
    settings.Extraction.PatchSizeMicrometres = 20.0;
    settings.Extraction.PatchSizePixels = 10;
    settings.MaximumTiles = 1000;
    return settings;
  }

  /** The grid cells (column, row) of a tile set, from its spot ids' centres. */
  static std::set<std::pair<int, int>>
  Cells(const itk::SpotPatchDataset & tiles)
  {
    std::set<std::pair<int, int>> cells;
    for (const auto & position : tiles.GetSpots()->GetPixelPositions())
    {
      cells.emplace(static_cast<int>(position[0]) / 20, static_cast<int>(position[1]) / 20);
    }
    EXPECT_EQ(cells.size(), tiles.GetNumberOfPatches());
    return cells;
  }

  fs::path                  m_Folder;
  itk::SlideReader::Pointer m_Slide;
};
} // namespace

TEST_F(TissueTiles, TakesEveryTileWithEnoughTissueAndNoOther)
{
  const auto                    tiles = itk::TissueTileExtractor::Extract(*m_Slide, Settings(), "half.mha");
  std::set<std::pair<int, int>> expected;
  for (int row = 0; row < 9; ++row)
  {
    for (int column = 0; column < 6; ++column)
    {
      expected.emplace(column, row);
    }
  }
  EXPECT_EQ(Cells(*tiles), expected);
  const auto size = tiles->GetPatches()->GetLargestPossibleRegion().GetSize();
  EXPECT_EQ(size[0], 10u);
  EXPECT_EQ(size[1], 10u);
  EXPECT_NEAR(tiles->GetPixelSize(), 2.0, 1e-12);
  EXPECT_EQ(tiles->GetSpots()->GetSpotIds().front(), "tile-10-10");
}

TEST_F(TissueTiles, HoldOutPartsPartitionTheTilesByBlocks)
{
  auto settings = Settings();
  settings.HoldOutBlockTiles = 2;
  settings.Part = itk::TileGridPart::Training;
  const auto training = Cells(*itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"));
  settings.Part = itk::TileGridPart::HeldOut;
  const auto  heldOut = Cells(*itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"));
  std::size_t expectedHeldOut = 0;
  for (int row = 0; row < 9; ++row)
  {
    for (int column = 0; column < 6; ++column)
    {
      const bool held = (column / 2 + row / 2) % 3 == 0;
      expectedHeldOut += held;
      EXPECT_EQ(heldOut.count({ column, row }), held ? 1u : 0u) << column << ", " << row;
      EXPECT_EQ(training.count({ column, row }), held ? 0u : 1u) << column << ", " << row;
    }
  }
  EXPECT_EQ(heldOut.size(), expectedHeldOut);
  EXPECT_EQ(training.size() + heldOut.size(), 54u);
}

TEST_F(TissueTiles, TheCapChoosesTheSameTilesForTheSameSeed)
{
  auto settings = Settings();
  settings.MaximumTiles = 10;
  settings.Seed = 4;
  const auto first = Cells(*itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"));
  EXPECT_EQ(first.size(), 10u);
  EXPECT_EQ(Cells(*itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha")), first);
  settings.Seed = 5;
  const auto other = Cells(*itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"));
  EXPECT_EQ(other.size(), 10u);
  EXPECT_NE(other, first);
  for (const auto & cell : other)
  {
    EXPECT_LT(cell.first, 6) << "a background tile was chosen";
  }
}

TEST_F(TissueTiles, TissueFractionCountsPixelsDarkerThanBackground)
{
  std::vector<itk::RGBPixel<unsigned char>> pixels(8);
  for (std::size_t i = 0; i < pixels.size(); ++i)
  {
    // Mean of R, G, B: 219 (tissue) for the first three, 220 (background) for the rest.
    pixels[i].Set(i < 3 ? 219 : 220, i < 3 ? 219 : 221, i < 3 ? 219 : 219);
  }
  EXPECT_DOUBLE_EQ(itk::TissueTileExtractor::TissueFraction(pixels.data(), pixels.size()), 3.0 / 8.0);
  EXPECT_DOUBLE_EQ(itk::TissueTileExtractor::TissueFraction(pixels.data(), 0), 0.0);
}

// The extractor as a pipeline source: the same tiles as Extract, progress rising to 1, an abort
// that stops it with ProcessAborted.
TEST_F(TissueTiles, PipelineSourceReportsProgressAndHonoursAbort)
{
  auto extractor = itk::TissueTileExtractor::New();
  extractor->SetSlide(m_Slide);
  extractor->SetSettings(Settings());
  std::vector<float> progress;
  extractor->AddObserver(itk::ProgressEvent(),
                         [&](const itk::EventObject &) { progress.push_back(extractor->GetProgress()); });
  extractor->Update();
  EXPECT_EQ(Cells(*extractor->GetOutput()), Cells(*itk::TissueTileExtractor::Extract(*m_Slide, Settings(), "x")));
  EXPECT_EQ(std::string(extractor->GetOutput()->GetSlideFileName()),
            m_Slide->GetFileName()); // no SlideName: the file's
  ASSERT_GE(progress.size(), 2u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);

  auto aborting = itk::TissueTileExtractor::New();
  aborting->SetSlide(m_Slide);
  aborting->SetSettings(Settings());
  aborting->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
    if (aborting->GetProgress() > 0.0f)
    {
      aborting->AbortGenerateDataOn();
    }
  });
  EXPECT_THROW(aborting->Update(), itk::ProcessAborted);
  EXPECT_THROW(itk::TissueTileExtractor::New()->Update(), itk::ExceptionObject); // no slide
}

TEST_F(TissueTiles, RefusesWhatCannotWork)
{
  const auto expectRefused = [](const std::function<void()> & call, const std::string & words) {
    try
    {
      call();
      ADD_FAILURE() << "no exception; expected one mentioning " << words;
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(words), std::string::npos) << e.GetDescription();
    }
  };
  auto blank = itk::SlideReader::New();
  blank->Open(WriteSlide("blank.mha", 0));
  blank->SetPixelSize(1.0);
  expectRefused([&] { itk::TissueTileExtractor::Extract(*blank, Settings(), "blank.mha"); }, "No tile of blank.mha");
  auto settings = Settings();
  settings.Part = itk::TileGridPart::HeldOut;
  expectRefused([&] { itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"); }, "HoldOutBlockTiles");
  settings = Settings();
  settings.Extraction.PatchSizeMicrometres = 500.0;
  expectRefused([&] { itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"); }, "smaller than one");
  settings = Settings();
  settings.MaximumTiles = 0;
  expectRefused([&] { itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"); }, "positive");
  settings = Settings();
  settings.MinimumTissueFraction = 1.5;
  expectRefused([&] { itk::TissueTileExtractor::Extract(*m_Slide, settings, "half.mha"); }, "[0, 1]");
}
