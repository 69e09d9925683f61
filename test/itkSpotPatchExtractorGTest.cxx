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

// Slides, patches at spots and patch datasets: exact crops where the geometry allows one,
// antialiasing when downsampling, OpenSlide against ITK on the same pixels, the her2st slide at a
// known spot, HEST-layout round trips, and the bad inputs.

#include "itkSpatialDataReader.h"
#include "itkSpotGrid.h"
#include "itkSpotPatchDataset.h"
#include "itkStainAnalysis.h"
#include "itkStainTestUtilities.h"
#include "itkSyntheticSlide.h"

#include "itkImageFileWriter.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;
using RGBImageType = itk::SlideReader::RGBImageType;

/** A folder of its own for each test process (ctest runs tests in parallel processes), removed
 * at the end of the test. */
class TestFolder
{
public:
  explicit TestFolder(const std::string & name)
    : m_Path(fs::temp_directory_path() / ("st-patches-" + name + "-" + std::to_string(getpid())))
  {
    fs::remove_all(m_Path);
    fs::create_directories(m_Path);
  }
  ~TestFolder() { fs::remove_all(m_Path); }
  fs::path
  operator/(const std::string & name) const
  {
    return m_Path / name;
  }
  operator const fs::path &() const { return m_Path; }

private:
  fs::path m_Path;
};

/** A slide image whose pixel (x, y) encodes its position, written as MetaImage (read by region). */
std::string
WriteCodedSlide(const fs::path & folder, unsigned int width, unsigned int height, double spacing,
                const char * name = "coded.mha")
{
  auto image = RGBImageType::New();
  image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { width, height } }));
  image->Allocate();
  for (unsigned int y = 0; y < height; ++y)
  {
    for (unsigned int x = 0; x < width; ++x)
    {
      RGBImageType::PixelType p;
      p.Set(static_cast<unsigned char>(x % 251),
            static_cast<unsigned char>(y % 241),
            static_cast<unsigned char>((x + y) % 7));
      image->SetPixel({ { x, y } }, p);
    }
  }
  const double s[2] = { spacing, spacing };
  image->SetSpacing(s);
  const auto path = (folder / name).string();
  itk::WriteImage(image, path);
  return path;
}

itk::SpatialExpressionData::Pointer
SpotsAt(const std::vector<itk::SpatialExpressionData::PositionType> & positions)
{
  auto                     spots = itk::SpatialExpressionData::New();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < positions.size(); ++i)
  {
    ids.push_back("spot" + std::to_string(i));
  }
  spots->SetSpots(ids, positions);
  return spots;
}

TEST(SpotPatchExtractor, SamePixelSizeIsAnExactCrop)
{
  const TestFolder folder("crop");
  auto             slide = itk::SlideReader::New();
  slide->Open(WriteCodedSlide(folder, 300, 200, 0.5));
  EXPECT_EQ(slide->GetBackend(), "itk");
  EXPECT_EQ(slide->GetStatedPixelSize(), 0.5);
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = 16.0;
  settings.PatchSizePixels = 32; // 0.5 um per pixel: the slide's own
  const auto patches =
    itk::SpotPatchExtractor::Extract(*slide, *SpotsAt({ { { 100, 60 } }, { { 201, 150 } } }), settings);
  ASSERT_EQ(patches.Patches->GetLargestPossibleRegion().GetSize(2), 2u);
  EXPECT_EQ(patches.Corners[0], (std::array<std::int64_t, 2>{ { 84, 44 } }));
  for (unsigned int k = 0; k < 2; ++k)
  {
    const auto corner = patches.Corners[k];
    for (unsigned int y = 0; y < 32; ++y)
    {
      for (unsigned int x = 0; x < 32; ++x)
      {
        const auto p = patches.Patches->GetPixel({ { x, y, k } });
        ASSERT_EQ(p[0], (corner[0] + x) % 251) << "patch " << k << " at " << x << "," << y;
        ASSERT_EQ(p[1], (corner[1] + y) % 241);
      }
    }
  }
  EXPECT_TRUE(patches.PaddedSpots.empty());
}

TEST(SpotPatchExtractor, DownsamplingAveragesInsteadOfAliasing)
{
  // A one-pixel checkerboard at 0.25 um/px, cut at 1 um/px: every output pixel is the mean grey,
  // where point sampling would return pure black or white.
  const TestFolder folder("alias");
  auto             image = RGBImageType::New();
  image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 256, 256 } }));
  image->Allocate();
  for (unsigned int y = 0; y < 256; ++y)
  {
    for (unsigned int x = 0; x < 256; ++x)
    {
      image->SetPixel({ { x, y } }, RGBImageType::PixelType((x + y) % 2 ? 255 : 0));
    }
  }
  const double s[2] = { 0.25, 0.25 };
  image->SetSpacing(s);
  itk::WriteImage(image, (folder / "checker.mha").string());
  auto slide = itk::SlideReader::New();
  slide->Open((folder / "checker.mha").string());
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = 32.0;
  settings.PatchSizePixels = 32;
  const auto patches = itk::SpotPatchExtractor::Extract(*slide, *SpotsAt({ { { 128, 128 } } }), settings);
  for (unsigned int y = 0; y < 32; ++y)
  {
    for (unsigned int x = 0; x < 32; ++x)
    {
      ASSERT_NEAR(patches.Patches->GetPixel({ { x, y, 0 } })[0], 127.5, 1.0);
    }
  }
}

TEST(SpotPatchExtractor, EdgesArePaddedOrSkippedAndOutsideSpotsThrow)
{
  const TestFolder folder("edges");
  auto             slide = itk::SlideReader::New();
  slide->Open(WriteCodedSlide(folder, 100, 100, 1.0));
  slide->SetPixelSize(1.0); // a spacing of 1 is not taken as a stated size
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = 20.0;
  settings.PatchSizePixels = 20;
  const auto spots = SpotsAt({ { { 50, 50 } }, { { 3, 50 } } });
  const auto padded = itk::SpotPatchExtractor::Extract(*slide, *spots, settings);
  EXPECT_EQ(padded.PaddedSpots, std::vector<std::string>{ "spot1" });
  EXPECT_EQ(padded.Patches->GetPixel({ { 0, 10, 1 } }), RGBImageType::PixelType(255)); // white outside
  settings.SkipPartialPatches = true;
  const auto skipped = itk::SpotPatchExtractor::Extract(*slide, *spots, settings);
  EXPECT_EQ(skipped.SkippedSpots, std::vector<std::string>{ "spot1" });
  EXPECT_EQ(skipped.SpotIndices, std::vector<std::size_t>{ 0 });
  EXPECT_THROW(itk::SpotPatchExtractor::Extract(*slide, *SpotsAt({ { { 50, 50 } }, { { 130, 20 } } }), settings),
               itk::ExceptionObject);
}

TEST(SpotPatchExtractor, SlideWithoutPixelSizeThrows)
{
  const TestFolder folder("nopixel");
  auto             image = RGBImageType::New();
  image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 40, 40 } }));
  image->Allocate();
  image->FillBuffer(RGBImageType::PixelType(200));
  itk::WriteImage(image, (folder / "plain.png").string());
  auto slide = itk::SlideReader::New();
  slide->Open((folder / "plain.png").string());
  EXPECT_EQ(slide->GetStatedPixelSize(), 0.0);
  EXPECT_THROW(itk::SpotPatchExtractor::Extract(*slide, *SpotsAt({ { { 20, 20 } } })), itk::ExceptionObject);
  EXPECT_THROW(slide->Open((folder / "missing.png").string()), itk::ExceptionObject);
}

TEST(SpotPatchExtractor, OpenSlideReadsATiledPyramidLikeITK)
{
  const TestFolder folder("openslide");
  const auto       coded = WriteCodedSlide(folder, 700, 500, 0.5);
  const auto       png = WriteCodedSlide(folder, 700, 500, 0.5, "coded.png"); // vips does not read MetaImage
  const auto       tiled = (folder / "tiled.tif").string();
  const int        converted = std::system(("vips tiffsave " + png + " " + tiled +
                                     " --tile --tile-width 128 --tile-height 128 --pyramid --compression none > " +
                                     (folder / "vips.log").string() + " 2>&1")
                                      .c_str());
  if (converted != 0)
  {
    GTEST_SKIP() << "vips (libvips-tools) is needed to write a pyramidal TIFF";
  }
  auto viaOpenSlide = itk::SlideReader::New();
  viaOpenSlide->Open(tiled);
  ASSERT_EQ(viaOpenSlide->GetBackend(), "openslide");
  EXPECT_GT(viaOpenSlide->GetNumberOfLevels(), 1u);
  EXPECT_EQ(viaOpenSlide->GetLevelDimensions(0), (itk::SlideReader::SizeType{ { 700, 500 } }));
  auto viaITK = itk::SlideReader::New();
  viaITK->Open(coded);
  // A region across tiles and over the right edge.
  const auto a = viaOpenSlide->ReadRegion(0, 610, 100, 150, 130);
  const auto b = viaITK->ReadRegion(0, 610, 100, 150, 130);
  EXPECT_EQ(itk::StainTest::MeanAbsoluteDifference(a, b), 0.0);
  EXPECT_EQ(a->GetPixel({ { 149, 0 } }), RGBImageType::PixelType(255));
}

TEST(SpotPatchExtractor, Her2stPatchAtAKnownSpotMatchesADirectCrop)
{
  const std::string folder = itk::StainTest::SharedDataDirectory() + "/her2st-C2/";
  if (!fs::exists(folder))
  {
    GTEST_SKIP() << "Shared data not found at " << folder;
  }
  const std::string jpeg = folder + "images/C2_5714_HE_BT_C2.jpg";
  auto              slide = itk::SlideReader::New();
  slide->Open(jpeg);
  slide->SetPixelSize(0.69);
  // Spot 25x13 is at pixel (6930.58, 3510.24). At the slide's own pixel size the patch is the crop
  // whose corner is the centre minus half the side, up to sub-pixel interpolation.
  itk::PatchExtractionSettings settings;
  settings.PatchSizePixels = 224;
  settings.PatchSizeMicrometres = 224 * 0.69;
  const auto patches = itk::SpotPatchExtractor::Extract(*slide, *SpotsAt({ { { 6930.58, 3510.24 } } }), settings);
  auto       patch = RGBImageType::New();
  patch->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 224, 224 } }));
  patch->Allocate();
  std::copy(
    patches.Patches->GetBufferPointer(), patches.Patches->GetBufferPointer() + 224 * 224, patch->GetBufferPointer());
  const auto   crop = slide->ReadRegion(0, 6930 - 112, 3510 - 112, 224, 224); // corner 6818.58 -> 6818
  const auto   shifted = slide->ReadRegion(0, 6930 - 112 + 20, 3510 - 112, 224, 224);
  const double atSpot = itk::StainTest::MeanAbsoluteDifference(patch, crop);
  const double elsewhere = itk::StainTest::MeanAbsoluteDifference(patch, shifted);
  std::cout << "mean |patch - crop| / 255 = " << atSpot << ", 20 px away: " << elsewhere << std::endl;
  EXPECT_LT(atSpot, 0.03);
  EXPECT_GT(elsewhere, 3 * atSpot);
}

TEST(SpotPatchDataset, RoundTripKeepsEverything)
{
  const TestFolder            folder("dataset");
  itk::SyntheticSlideSettings synthetic;
  synthetic.NumberOfSpots = 24;
  const auto slide = itk::SyntheticSlide::Generate(synthetic);
  auto       reader = itk::SlideReader::New();
  itk::WriteImage(slide.Image, (folder / "slide.mha").string());
  reader->Open((folder / "slide.mha").string());
  reader->SetPixelSize(0.5);
  auto spots = slide.Spots;
  spots->MakeRandomSplit(0.25, 4);
  itk::GenePreprocessingSettings preprocessing;
  preprocessing.TopGenes = 10;
  spots->Preprocess(preprocessing);
  itk::PatchExtractionSettings settings;
  settings.PatchSizePixels = 64;
  settings.PatchSizeMicrometres = 32;
  const auto dataset = itk::SpotPatchDataset::FromExtraction(
    itk::SpotPatchExtractor::Extract(*reader, *spots, settings), *spots, "slide.mha");
  const auto path = (folder / "data.h5").string();
  dataset->Write(path);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const auto read = itk::SpotPatchDataset::Read(path);
  EXPECT_EQ(read->GetNumberOfPatches(), 24u);
  EXPECT_EQ(read->GetPixelSize(), 0.5);
  EXPECT_EQ(read->GetPatchSizeMicrometres(), 32.0);
  EXPECT_EQ(read->GetCorners(), dataset->GetCorners());
  EXPECT_TRUE(std::equal(read->GetPatches()->GetBufferPointer(),
                         read->GetPatches()->GetBufferPointer() + 64 * 64 * 24,
                         dataset->GetPatches()->GetBufferPointer()));
  const auto & a = *read->GetSpots();
  const auto & b = *dataset->GetSpots();
  EXPECT_EQ(a.GetSpotIds(), b.GetSpotIds());
  EXPECT_EQ(a.GetPixelPositions(), b.GetPixelPositions());
  EXPECT_EQ(a.GetExpression(), b.GetExpression());
  EXPECT_EQ(a.GetPreprocessing(), b.GetPreprocessing());
  EXPECT_EQ(a.GetSplit(), b.GetSplit());
  EXPECT_EQ(a.GetCounts().Values, b.GetCounts().Values);
  EXPECT_EQ(a.GetGeneNames(), b.GetGeneNames());
  EXPECT_EQ(a.GetMetadata("split_seed"), "4");

  // HEST's patch files (img, coords, barcode only) load too; written here with h5py.
  const auto hest = (folder / "hest_patches.h5").string();
  const auto script = "import h5py, numpy as np\n"
                      "with h5py.File('" +
                      hest +
                      "', 'w') as f:\n"
                      "    f['img'] = np.arange(3*8*8*3, dtype=np.uint8).reshape(3, 8, 8, 3)\n"
                      "    f['coords'] = np.array([[10, 20], [30, 40], [50, 60]])\n"
                      "    f['barcode'] = np.array([[b'A-1'], [b'B-1'], [b'C-1']])\n";
  std::ofstream((folder / "hest.py").string()) << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + (folder / "hest.py").string()).c_str()), 0);
  const auto hestData = itk::SpotPatchDataset::Read(hest);
  EXPECT_EQ(hestData->GetNumberOfPatches(), 3u);
  EXPECT_EQ(hestData->GetSpots()->GetSpotIds(), (std::vector<std::string>{ "A-1", "B-1", "C-1" }));
  EXPECT_EQ(hestData->GetCorners()[2], (std::array<std::int64_t, 2>{ { 50, 60 } }));
  EXPECT_EQ(hestData->GetPatches()->GetPixel({ { 1, 0, 0 } })[0], 3); // x fastest, as img[n, y, x, c]
  EXPECT_EQ(hestData->GetPatches()->GetPixel({ { 0, 1, 0 } })[0], 24);

  // Truncated and foreign files.
  fs::copy_file(path, folder / "truncated.h5");
  fs::resize_file(folder / "truncated.h5", fs::file_size(path) / 3);
  EXPECT_THROW(itk::SpotPatchDataset::Read((folder / "truncated.h5").string()), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotPatchDataset::Read((folder / "hest.py").string()), itk::ExceptionObject);
}

TEST(SyntheticSlide, DeterministicAndItsProgramsShowInTheTissue)
{
  itk::SyntheticSlideSettings settings;
  settings.NumberOfSpots = 120;
  const auto a = itk::SyntheticSlide::Generate(settings);
  const auto b = itk::SyntheticSlide::Generate(settings);
  EXPECT_EQ(a.Spots->GetCounts().Values, b.Spots->GetCounts().Values);
  EXPECT_TRUE(std::equal(a.Image->GetBufferPointer(),
                         a.Image->GetBufferPointer() + a.Image->GetBufferedRegion().GetNumberOfPixels(),
                         b.Image->GetBufferPointer()));
  settings.Seed = 2;
  EXPECT_NE(itk::SyntheticSlide::Generate(settings).Spots->GetCounts().Values, a.Spots->GetCounts().Values);

  // Morphology read back from each spot's patch follows the programs. Stain amounts come from the
  // patches by colour deconvolution with the slide's (known) stain matrix: the hematoxylin area
  // should follow the nuclear area the programs ask for (density x size^2 outside stroma, plus
  // immune cells), and eosin the stroma program.
  auto             reader = itk::SlideReader::New();
  const TestFolder folder("synthetic");
  itk::WriteImage(a.Image, (folder / "slide.mha").string());
  reader->Open((folder / "slide.mha").string());
  reader->SetPixelSize(0.5);
  const auto           patches = itk::SpotPatchExtractor::Extract(*reader, *a.Spots);
  const auto *         bytes = reinterpret_cast<const unsigned char *>(patches.Patches->GetBufferPointer());
  itk::StainParameters stains;
  stains.Method = itk::StainNormalizationMethod::Ruifrok;
  stains.StainMatrix = itk::SyntheticStainField::TypicalHEStainMatrix();
  stains.MaxConcentrations = { { 1.0, 1.0 } };
  const itk::StainColorMapper deconvolution(stains, stains);
  std::vector<float>          h(224 * 224), e(224 * 224);
  std::vector<double>         nuclearArea, expectedArea, eosin, stroma;
  for (std::size_t s = 0; s < a.Spots->GetNumberOfSpots(); ++s)
  {
    deconvolution.Concentrations(bytes + 3 * s * 224 * 224, 224 * 224, 3, h.data(), e.data());
    nuclearArea.push_back(std::count_if(h.begin(), h.end(), [](float v) { return v > 0.5f; }) / (224.0 * 224.0));
    eosin.push_back(std::accumulate(e.begin(), e.end(), 0.0) / e.size());
    const auto & p = a.ProgramAtSpot[s];
    const double radius = 2.5 + 3.0 * p[1];
    expectedArea.push_back((0.0015 + 0.009 * p[0]) * (1.0 - 0.6 * p[2]) * radius * radius +
                           0.008 * p[3] * p[3] * 2.2 * 2.2);
    stroma.push_back(p[2]);
  }
  const auto pearson = [](const std::vector<double> & x, const std::vector<double> & y) {
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
    {
      mx += x[i] / x.size();
      my += y[i] / y.size();
    }
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
    {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / std::sqrt(sxx * syy);
  };
  const double nuclearR = pearson(nuclearArea, expectedArea);
  const double stromaR = pearson(eosin, stroma);
  std::cout << "Pearson(hematoxylin area, programs' nuclear area) = " << nuclearR
            << "; Pearson(mean eosin, stroma program) = " << stromaR << std::endl;
  EXPECT_GT(nuclearR, 0.8);
  EXPECT_GT(stromaR, 0.8);

  // Counts follow their program; unrelated genes do not.
  const auto & genes = a.Spots->GetGeneNames();
  for (std::size_t g = 0; g < genes.size(); ++g)
  {
    std::vector<double> counts, programValue;
    for (std::size_t s = 0; s < a.Spots->GetNumberOfSpots(); ++s)
    {
      counts.push_back(std::log1p(a.Spots->GetCounts().Get(s, g)));
      programValue.push_back(a.ProgramAtSpot[s][a.GeneProgram[g] < 0 ? 0 : a.GeneProgram[g]]);
    }
    const double rg = pearson(counts, programValue);
    if (a.GeneProgram[g] >= 0)
    {
      EXPECT_GT(rg * a.GeneEffect[g], 0.3) << genes[g];
    }
  }
}

} // namespace

// The extractor as a pipeline filter: the same patches as Extract, a dataset named after the slide,
// progress that rises to 1, and an abort that stops it with ProcessAborted.
TEST(SyntheticSlide, WritesTheVisiumArrayCoordinatesOfItsHexagonalGrid)
{
  // 60 spots in rows of 9 (odd rows shifted by half a pitch): Space Ranger's numbering, so that the
  // spot grid of the written outs/ folder is the slide's own (the pipeline's imputation runs on it).
  itk::SyntheticSlideSettings settings;
  settings.NumberOfSpots = 60;
  settings.PixelSize = 2.0;
  const auto       slide = itk::SyntheticSlide::Generate(settings);
  const TestFolder folder("synthetic-grid");
  itk::SyntheticSlide::Write(slide, (folder / "slide").string());
  const auto spots = itk::SpatialDataReader::Read((folder / "slide" / "outs").string());
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  EXPECT_EQ(grid.Source, "array coordinates");
  EXPECT_EQ(grid.Size[0], 9u);
  EXPECT_EQ(grid.Size[1], 7u);
  for (std::size_t s = 0; s < 60; ++s)
  {
    EXPECT_EQ(slide.ArrayCoordinates[s][1] % 2, slide.ArrayCoordinates[s][0] % 2) << s; // Visium's parity
    EXPECT_EQ(grid.SpotIndex[s][0], static_cast<long>(s % 9)) << s;
    EXPECT_EQ(grid.SpotIndex[s][1], static_cast<long>(s / 9)) << s;
  }
}

TEST(SpotPatchExtractor, PipelineFilterReportsProgressAndHonoursAbort)
{
  const TestFolder folder("filter");
  auto             slide = itk::SlideReader::New();
  slide->Open(WriteCodedSlide(folder, 300, 200, 0.5));
  std::vector<itk::SpatialExpressionData::PositionType> positions;
  for (unsigned int k = 0; k < 150; ++k) // three chunks of 64 patches
  {
    positions.push_back({ { 20.0 + (k % 15) * 17.0, 20.0 + (k / 15) * 16.0 } });
  }
  const auto                   spots = SpotsAt(positions);
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = 8.0;
  settings.PatchSizePixels = 16;

  auto extractor = itk::SpotPatchExtractor::New();
  extractor->SetSlide(slide);
  extractor->SetSpots(spots);
  extractor->SetSettings(settings);
  extractor->SetSlideName("coded.mha");
  std::vector<float> progress;
  extractor->AddObserver(itk::ProgressEvent(),
                         [&](const itk::EventObject &) { progress.push_back(extractor->GetProgress()); });
  extractor->Update();

  const auto reference = itk::SpotPatchExtractor::Extract(*slide, *spots, settings);
  const auto dataset = extractor->GetOutput();
  ASSERT_EQ(dataset->GetNumberOfPatches(), 150u);
  EXPECT_EQ(std::string(dataset->GetSlideFileName()), "coded.mha");
  const auto * a = dataset->GetPatches()->GetBufferPointer();
  const auto * b = reference.Patches->GetBufferPointer();
  EXPECT_TRUE(std::equal(a, a + 150 * 16 * 16, b));
  ASSERT_GE(progress.size(), 3u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);

  auto aborting = itk::SpotPatchExtractor::New();
  aborting->SetSlide(slide);
  aborting->SetSpots(spots);
  aborting->SetSettings(settings);
  aborting->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
    if (aborting->GetProgress() > 0.0f)
    {
      aborting->AbortGenerateDataOn();
    }
  });
  EXPECT_THROW(aborting->Update(), itk::ProcessAborted);

  auto noSlide = itk::SpotPatchExtractor::New();
  noSlide->SetSpots(spots);
  EXPECT_THROW(noSlide->Update(), itk::ExceptionObject);
}
