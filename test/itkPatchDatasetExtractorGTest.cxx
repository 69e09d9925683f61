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

#include "itkPatchDatasetExtractor.h"
#include "itkSyntheticSlide.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

class PatchDatasetExtractor : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("patch-dataset-extractor-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    itk::SyntheticSlideSettings slide;
    slide.NumberOfSpots = 40;
    slide.Seed = 2;
    itk::SyntheticSlide::Write(itk::SyntheticSlide::Generate(slide), (m_Folder / "slide").string());
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  itk::ExtractionStepSettings
  Settings() const
  {
    itk::ExtractionStepSettings settings;
    settings.Slide = (m_Folder / "slide" / "image.tif").string();
    settings.Spots = (m_Folder / "slide" / "outs").string();
    settings.PatchPixels = 16;
    settings.Genes = 6;
    settings.Fraction = 0.5;
    settings.Seed = 4;
    return settings;
  }
  fs::path m_Folder;
};

TEST_F(PatchDatasetExtractor, ExtractsInMemoryAndWritesOnlyWhenAsked)
{
  auto extractor = itk::PatchDatasetExtractor::New();
  EXPECT_STREQ(extractor->GetNameOfClass(), "PatchDatasetExtractor");
  extractor->SetSettings(Settings());
  extractor->Update();
  const auto * dataset = extractor->GetOutput();
  ASSERT_EQ(dataset->GetNumberOfPatches(), 40u);
  EXPECT_EQ(dataset->GetPatches()->GetLargestPossibleRegion().GetSize(0), 16u);
  EXPECT_EQ(dataset->GetSpots()->GetSpotIndices(true).size(), 20u);
  EXPECT_EQ(dataset->GetSpots()->GetPreprocessing().Genes.size(), 6u);
  EXPECT_NE(std::string(extractor->GetSummary()).find("extracted 40 patches of 16 px"), std::string::npos)
    << extractor->GetSummary();
  EXPECT_EQ(std::distance(fs::directory_iterator(m_Folder), fs::directory_iterator()), 1); // only slide/

  // Written when asked, and the file holds the same dataset.
  auto settings = Settings();
  settings.Output = (m_Folder / "data.h5").string();
  auto writer = itk::PatchDatasetExtractor::New();
  writer->SetSettings(settings);
  writer->Update();
  const auto read = itk::SpotPatchDataset::Read(settings.Output);
  EXPECT_EQ(read->GetSpots()->GetSpotIds(), dataset->GetSpots()->GetSpotIds());
  EXPECT_EQ(read->GetSpots()->GetExpression(), dataset->GetSpots()->GetExpression());

  // ... and never over a file that exists, unless Force.
  auto again = itk::PatchDatasetExtractor::New();
  again->SetSettings(settings);
  EXPECT_THROW(again->Update(), itk::ExceptionObject);
  settings.Force = true;
  again->SetSettings(settings);
  EXPECT_NO_THROW(again->Update());
}

TEST_F(PatchDatasetExtractor, TilesInsteadOfSpots)
{
  auto settings = Settings();
  settings.Spots.clear();
  settings.Tiles = 12;
  settings.PixelSize = 0.5; // the synthetic slide's TIFF states none (its outs/ does)
  auto extractor = itk::PatchDatasetExtractor::New();
  extractor->SetSettings(settings);
  extractor->Update();
  EXPECT_EQ(extractor->GetOutput()->GetNumberOfPatches(), 12u);
  EXPECT_FALSE(extractor->GetOutput()->GetSpots()->HasExpression());
}

TEST_F(PatchDatasetExtractor, SettingsThatCannotWorkAreRefused)
{
  auto extractor = itk::PatchDatasetExtractor::New();
  auto settings = Settings();
  settings.Tiles = 10; // and Spots: one of them only
  extractor->SetSettings(settings);
  EXPECT_THROW(extractor->Update(), itk::ExceptionObject);
  settings = Settings();
  settings.Slide.clear();
  extractor->SetSettings(settings);
  EXPECT_THROW(extractor->Update(), itk::ExceptionObject);
  settings = Settings();
  settings.Slide = (m_Folder / "missing.tif").string();
  extractor->SetSettings(settings);
  EXPECT_THROW(extractor->Update(), itk::ExceptionObject);

  std::ostringstream printed;
  extractor->Print(printed);
  EXPECT_NE(printed.str().find("Settings: slide "), std::string::npos);
  EXPECT_NE(printed.str().find("Summary: "), std::string::npos);
}

} // namespace
