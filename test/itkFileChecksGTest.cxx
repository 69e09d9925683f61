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

#include "itkFileChecks.h"

#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

class FileChecks : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("file-checks-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }
  template <typename TPixel>
  std::string
  WriteImage(const std::string & name, unsigned int width, unsigned int height)
  {
    using ImageType = itk::Image<TPixel, 2>;
    auto                           image = ImageType::New();
    typename ImageType::RegionType region;
    region.SetSize({ { width, height } });
    image->SetRegions(region);
    image->Allocate(true);
    const auto path = (m_Folder / name).string();
    itk::WriteImage(image, path);
    return path;
  }
  fs::path m_Folder;
};

TEST_F(FileChecks, InspectsAnImageHeader)
{
  const auto info = itk::FileChecks::InspectImage(WriteImage<itk::RGBPixel<unsigned char>>("rgb.png", 5, 3));
  EXPECT_EQ(info.Dimension, 2u);
  EXPECT_EQ(info.Components, 3u);
  EXPECT_EQ(info.NumberOfPixels, 15u);
  EXPECT_TRUE(info.EightBitColor);
  EXPECT_NO_THROW(itk::FileChecks::RequireColorImage((m_Folder / "rgb.png").string(), "target"));
}

TEST_F(FileChecks, RefusesWhatIsNotAnEightBitColourImage)
{
  const auto gray = WriteImage<unsigned short>("gray.png", 4, 4);
  EXPECT_FALSE(itk::FileChecks::InspectImage(gray).EightBitColor);
  EXPECT_THROW(itk::FileChecks::RequireColorImage(gray, "target"), itk::ExceptionObject);
  std::ofstream(m_Folder / "notes.png") << "not an image";
  EXPECT_THROW(itk::FileChecks::InspectImage((m_Folder / "notes.png").string()), itk::ExceptionObject);
  EXPECT_THROW(itk::FileChecks::InspectImage((m_Folder / "missing.png").string()), itk::ExceptionObject);
}

TEST_F(FileChecks, AnExistingOutputIsReplacedOnlyWhenAskedAndNeverIsTheInput)
{
  const auto output = (m_Folder / "out.h5").string();
  EXPECT_NO_THROW(itk::FileChecks::RequireWritable(output, false));
  std::ofstream(output) << "a user's file";
  EXPECT_THROW(itk::FileChecks::RequireWritable(output, false), itk::ExceptionObject);
  EXPECT_NO_THROW(itk::FileChecks::RequireWritable(output, true));
  EXPECT_THROW(itk::FileChecks::RequireWritable(output, true, (m_Folder / "." / "out.h5").string()),
               itk::ExceptionObject);
  EXPECT_EQ(itk::FileChecks::ReadText(output), "a user's file");
  EXPECT_TRUE(itk::FileChecks::Exists(output));
  EXPECT_FALSE(itk::FileChecks::Exists((m_Folder / "none").string()));
  EXPECT_THROW(itk::FileChecks::ReadText((m_Folder / "none").string()), itk::ExceptionObject);
}

} // namespace
