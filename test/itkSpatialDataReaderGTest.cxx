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

// The readers against real files (../shared/data) and against fixtures that h5py writes
// independently (test/data/make_spatial_fixtures.py): counts, names and positions as the other
// implementation sees them, and a clear exception for each kind of bad input.

#include "itkSpatialDataReader.h"
#include "itkStainTestUtilities.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

std::string
VisiumFolder()
{
  return itk::StainTest::SharedDataDirectory() + "/visium-heart-subset";
}

/** Fixtures written once per test run by the h5py script into a temporary folder. */
class SpatialDataReaders : public ::testing::Test
{
protected:
  static void
  SetUpTestSuite()
  {
    // One folder per process: ctest runs each test in its own process, several at once.
    s_Folder = fs::temp_directory_path() / ("st-reader-fixtures-" + std::to_string(getpid()));
    fs::remove_all(s_Folder);
    fs::create_directories(s_Folder);
    std::string command = "/usr/bin/python3 " + std::string(SpatialTranscriptomics_SOURCE_DIR) +
                          "/test/data/make_spatial_fixtures.py " + s_Folder.string();
    if (fs::exists(VisiumFolder()))
    {
      command += " " + VisiumFolder();
    }
    s_FixturesMade = std::system((command + " > " + (s_Folder / "log.txt").string() + " 2>&1").c_str()) == 0;
  }
  static void
  TearDownTestSuite()
  {
    fs::remove_all(s_Folder);
  }
  void
  SetUp() override
  {
    ASSERT_TRUE(s_FixturesMade) << "make_spatial_fixtures.py failed (needs /usr/bin/python3 with h5py and numpy; "
                                   "scripts/install-debian-packages.sh installs them); see "
                                << (s_Folder / "log.txt").string();
  }

  /** expected.tsv: spot, x, y, then one count per gene. */
  struct Expected
  {
    std::vector<std::string>           genes;
    std::vector<std::string>           spots;
    std::vector<std::array<double, 2>> positions;
    std::vector<std::vector<float>>    counts;
  };
  static Expected
  ReadExpected()
  {
    Expected      e;
    std::ifstream in(s_Folder / "expected.tsv");
    std::string   line;
    std::getline(in, line);
    std::istringstream header(line);
    std::string        field;
    for (int i = 0; std::getline(header, field, '\t'); ++i)
    {
      if (i >= 3)
      {
        e.genes.push_back(field);
      }
    }
    while (std::getline(in, line))
    {
      std::istringstream row(line);
      std::getline(row, field, '\t');
      e.spots.push_back(field);
      std::array<double, 2> xy;
      row >> xy[0] >> xy[1];
      e.positions.push_back(xy);
      e.counts.emplace_back();
      float v;
      while (row >> v)
      {
        e.counts.back().push_back(v);
      }
    }
    return e;
  }

  static void
  ExpectMatchesFixture(const itk::SpatialExpressionData * data)
  {
    const auto e = ReadExpected();
    ASSERT_EQ(data->GetSpotIds(), e.spots);
    ASSERT_EQ(data->GetGeneNames(), e.genes);
    for (std::size_t s = 0; s < e.spots.size(); ++s)
    {
      EXPECT_EQ(data->GetPixelPositions()[s], e.positions[s]);
      for (std::size_t g = 0; g < e.genes.size(); ++g)
      {
        ASSERT_EQ(data->GetCounts().Get(s, g), e.counts[s][g]) << "spot " << s << " gene " << g;
      }
    }
  }

  static fs::path s_Folder;
  static bool     s_FixturesMade;
};
fs::path SpatialDataReaders::s_Folder;
bool     SpatialDataReaders::s_FixturesMade = false;

TEST_F(SpatialDataReaders, AnnDataCSRWithCategoricalGeneIds)
{
  const auto data = itk::SpatialDataReader::ReadAnnData((s_Folder / "anndata_csr.h5ad").string());
  ExpectMatchesFixture(data);
  EXPECT_EQ(data->GetGeneIds()[3], "ENSG00003");
  EXPECT_EQ(data->GetCounts().RowSum(3), 0.0); // the spot without counts
}

TEST_F(SpatialDataReaders, AnnDataLegacyCSCAndDense)
{
  ExpectMatchesFixture(itk::SpatialDataReader::ReadAnnData((s_Folder / "anndata_csc_legacy.h5ad").string()));
  ExpectMatchesFixture(itk::SpatialDataReader::ReadAnnData((s_Folder / "anndata_dense.h5ad").string()));
}

TEST_F(SpatialDataReaders, HESTSampleTakesPixelSizeFromMetadata)
{
  EXPECT_EQ(itk::SpatialDataReader::DetectFormat((s_Folder / "hest").string()), itk::SpatialDataFormat::HESTSample);
  const auto data = itk::SpatialDataReader::Read((s_Folder / "hest").string());
  ExpectMatchesFixture(data);
  EXPECT_EQ(data->GetPixelSize(), 0.2738);
  EXPECT_EQ(data->GetMetadata("hest_id"), "TENX99");
}

// The reader as a pipeline source: the same data as the static Read, the format found, and the
// sample id refused where it means nothing.
TEST_F(SpatialDataReaders, ReaderIsAPipelineSource)
{
  auto reader = itk::SpatialDataReader::New();
  reader->SetFileName((s_Folder / "hest").string());
  reader->SetSampleId("TENX99");
  reader->Update();
  ExpectMatchesFixture(reader->GetOutput());
  EXPECT_EQ(reader->GetFormat(), itk::SpatialDataFormat::HESTSample);
  EXPECT_EQ(reader->GetOutput()->GetPixelSize(), 0.2738);
  EXPECT_EQ(reader->GetOutput()->GetMetadata("hest_id"), "TENX99");

  reader->SetFileName((s_Folder / "anndata_dense.h5ad").string());
  EXPECT_THROW(reader->Update(), itk::ExceptionObject); // a sample id for an .h5ad
  reader->SetSampleId("");
  reader->Update();
  EXPECT_EQ(reader->GetFormat(), itk::SpatialDataFormat::AnnData);
  ExpectMatchesFixture(reader->GetOutput());

  auto unnamed = itk::SpatialDataReader::New();
  EXPECT_THROW(unnamed->Update(), itk::ExceptionObject);
}

TEST_F(SpatialDataReaders, VisiumHeartSubset)
{
  if (!fs::exists(VisiumFolder()))
  {
    GTEST_SKIP() << "Shared data not found at " << VisiumFolder();
  }
  const auto data = itk::SpatialDataReader::Read(VisiumFolder());
  EXPECT_EQ(data->GetNumberOfSpots(), 100u);
  EXPECT_EQ(data->GetNumberOfGenes(), 100u);
  EXPECT_EQ(data->GetCounts().NumberOfNonZeros(), 656u);
  EXPECT_EQ(itk::SpatialDataReader::ReadVisiumPositions(VisiumFolder() + "/spatial/tissue_positions_list.csv").size(),
            4992u);
  const auto factors =
    itk::SpatialDataReader::ReadVisiumScaleFactors(VisiumFolder() + "/spatial/scalefactors_json.json");
  EXPECT_EQ(factors.at("spot_diameter_fullres"), 89.42751063343188);
  EXPECT_EQ(factors.at("tissue_hires_scalef"), 0.150015);
  EXPECT_EQ(factors.at("fiducial_diameter_fullres"), 144.45982486939);
  EXPECT_EQ(factors.at("tissue_lowres_scalef"), 0.045004502);
  EXPECT_DOUBLE_EQ(data->GetPixelSize(), 65.0 / 89.42751063343188);
  // With that pixel size, neighbouring spots of a row (array columns 0 and 2) are Visium's 100 um apart.
  const auto positions =
    itk::SpatialDataReader::ReadVisiumPositions(VisiumFolder() + "/spatial/tissue_positions_list.csv");
  const auto at = [&](int row, int column) {
    return *std::find_if(positions.begin(), positions.end(), [&](const itk::VisiumSpotPosition & p) {
      return p.ArrayRow == row && p.ArrayColumn == column;
    });
  };
  const auto a = at(0, 0);
  const auto b = at(0, 2);
  const auto c = at(1, 1);
  EXPECT_NEAR(data->GetPixelSize() * std::hypot(a.PixelRow - b.PixelRow, a.PixelColumn - b.PixelColumn), 100.0, 1.5);
  EXPECT_NEAR(data->GetPixelSize() * std::hypot(a.PixelRow - c.PixelRow, a.PixelColumn - c.PixelColumn), 100.0, 1.5);
  EXPECT_EQ(data->GetGeneIds()[0].rfind("ENSG", 0), 0u);

  // Per-spot non-zeros and totals as h5py reads them.
  std::ifstream reference(s_Folder / "visium_reference.tsv");
  std::string   barcode;
  std::size_t   nonZeros;
  double        total;
  std::size_t   row = 0;
  while (reference >> barcode >> nonZeros >> total)
  {
    ASSERT_EQ(data->GetSpotIds()[row], barcode);
    EXPECT_EQ(data->GetCounts().RowStart[row + 1] - data->GetCounts().RowStart[row], nonZeros);
    EXPECT_EQ(data->GetCounts().RowSum(row), total);
    ++row;
  }
  EXPECT_EQ(row, 100u);

  // Positions joined by barcode: x is the full-resolution column, y the row.
  for (const auto & p :
       itk::SpatialDataReader::ReadVisiumPositions(VisiumFolder() + "/spatial/tissue_positions_list.csv"))
  {
    const auto at = std::find(data->GetSpotIds().begin(), data->GetSpotIds().end(), p.Barcode);
    if (at != data->GetSpotIds().end())
    {
      const auto & xy = data->GetPixelPositions()[at - data->GetSpotIds().begin()];
      EXPECT_EQ(xy[0], p.PixelColumn);
      EXPECT_EQ(xy[1], p.PixelRow);
    }
  }

  // Space Ranger 2's positions file (tissue_positions.csv, with a header) reads the same.
  const auto v2 = s_Folder / "visium_v2";
  fs::create_directories(v2 / "spatial");
  fs::copy_file(VisiumFolder() + "/filtered_feature_bc_matrix.h5", v2 / "filtered_feature_bc_matrix.h5");
  {
    std::ifstream v1(VisiumFolder() + "/spatial/tissue_positions_list.csv");
    std::ofstream out(v2 / "spatial" / "tissue_positions.csv");
    out << "barcode,in_tissue,array_row,array_col,pxl_row_in_fullres,pxl_col_in_fullres\n" << v1.rdbuf();
  }
  const auto withHeader = itk::SpatialDataReader::ReadVisiumOuts(v2.string());
  EXPECT_EQ(withHeader->GetPixelPositions(), data->GetPixelPositions());
  EXPECT_EQ(withHeader->GetPixelSize(), 0.0); // no scale factors there: the pixel size stays unknown

  // The same outs as a Matrix Market folder read the same.
  const auto mtx = itk::SpatialDataReader::ReadVisiumOuts((s_Folder / "visium_mtx").string());
  EXPECT_EQ(mtx->GetSpotIds(), data->GetSpotIds());
  EXPECT_EQ(mtx->GetGeneNames(), data->GetGeneNames());
  EXPECT_EQ(mtx->GetCounts().Values, data->GetCounts().Values);
  EXPECT_EQ(mtx->GetCounts().ColumnIndex, data->GetCounts().ColumnIndex);
}

TEST_F(SpatialDataReaders, Her2stTables)
{
  const std::string folder = itk::StainTest::SharedDataDirectory() + "/her2st-C2";
  if (!fs::exists(folder))
  {
    GTEST_SKIP() << "Shared data not found at " << folder;
  }
  const auto data = itk::SpatialDataReader::Read(folder);
  EXPECT_EQ(data->GetNumberOfSpots(), 187u);
  EXPECT_EQ(data->GetNumberOfGenes(), 15706u);
  const auto & ids = data->GetSpotIds();
  const auto   spot = std::find(ids.begin(), ids.end(), "25x13") - ids.begin();
  ASSERT_LT(spot, 187);
  EXPECT_EQ(data->GetPixelPositions()[spot][0], 6930.58);
  EXPECT_EQ(data->GetPixelPositions()[spot][1], 3510.24);
  // Spot 10x21 counts one ISG15 read (the 8th gene of the header).
  const auto   row = std::find(ids.begin(), ids.end(), "10x21") - ids.begin();
  const auto & genes = data->GetGeneNames();
  EXPECT_EQ(genes[7], "ISG15");
  EXPECT_EQ(data->GetCounts().Get(row, 7), 1.0f);
  EXPECT_EQ(data->GetCounts().Get(row, 0), 0.0f);
}

TEST_F(SpatialDataReaders, ReadingLeavesTheFilesUntouched)
{
  const auto path = s_Folder / "anndata_csr.h5ad";
  const auto before = fs::last_write_time(path);
  const auto size = fs::file_size(path);
  itk::SpatialDataReader::ReadAnnData(path.string());
  EXPECT_EQ(fs::last_write_time(path), before);
  EXPECT_EQ(fs::file_size(path), size);
}

TEST_F(SpatialDataReaders, BadInputSaysWhatIsWrong)
{
  const auto expectMessage = [](const auto & read, const std::string & fragment) {
    try
    {
      read();
      ADD_FAILURE() << "no exception; expected one mentioning \"" << fragment << "\"";
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(fragment), std::string::npos) << e.GetDescription();
    }
  };
  expectMessage([] { itk::SpatialDataReader::Read("/nonexistent/outs"); }, "No such file");
  expectMessage([&] { itk::SpatialDataReader::Read((s_Folder / "expected.tsv").string()); }, "not an .h5ad");

  // A truncated HDF5 file.
  const auto truncated = s_Folder / "truncated.h5ad";
  fs::copy_file(s_Folder / "anndata_csr.h5ad", truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  expectMessage([&] { itk::SpatialDataReader::ReadAnnData(truncated.string()); }, "truncated");
  // Found by hdf5_fuzzer: an indptr running past X's data, and sizes declared that are refused
  // before anything is allocated: beyond the limit, or more than the file stores.
  expectMessage([&] { itk::SpatialDataReader::ReadAnnData((s_Folder / "damaged_indptr.h5ad").string()); },
                "X's indptr decreases at row 1");
  expectMessage([&] { itk::SpatialDataReader::ReadAnnData((s_Folder / "huge_declared.h5ad").string()); },
                "declares more than 2147483648 values");
  expectMessage([&] { itk::SpatialDataReader::ReadAnnData((s_Folder / "unstored_declared.h5ad").string()); },
                "declares 1073741824 values but stores only 0 bytes");

  // Tables: a count row without a position, a negative count, a non-finite count.
  const auto writeTables = [&](const std::string & counts, const std::string & spots) {
    fs::create_directories(s_Folder / "table" / "counts");
    fs::create_directories(s_Folder / "table" / "spots");
    std::ofstream(s_Folder / "table" / "counts" / "c.tsv") << counts;
    std::ofstream(s_Folder / "table" / "spots" / "s.tsv") << spots;
    return (s_Folder / "table").string();
  };
  const std::string spots = "x\ty\tpixel_x\tpixel_y\n1\t2\t10.5\t20.5\n";
  expectMessage([&] { itk::SpatialDataReader::Read(writeTables("\tA\tB\n1x2\t1\t2\n3x3\t1\t1\n", spots)); },
                "no position");
  expectMessage([&] { itk::SpatialDataReader::Read(writeTables("\tA\tB\n1x2\t1\t-2\n", spots)); }, "non-negative");
  expectMessage([&] { itk::SpatialDataReader::Read(writeTables("\tA\tB\n1x2\t1\tnan\n", spots)); }, "non-negative");
  expectMessage([&] { itk::SpatialDataReader::Read(writeTables("\tA\tB\n1x2\t1\n", spots)); }, "1 counts for 2 genes");
  EXPECT_EQ(itk::SpatialDataReader::Read(writeTables("\tA\tB\n1x2\t1\t2\n", spots))->GetNumberOfSpots(), 1u);

  // Visium positions whose array coordinates are no integers a grid can hold (found by
  // visium_fuzzer: 4.4e49 was converted to int, undefined behaviour).
  const auto positions = s_Folder / "positions.csv";
  std::ofstream(positions) << "AAAC-1,1,4.44444e49,0,1000,2000\n";
  expectMessage([&] { itk::SpatialDataReader::ReadVisiumPositions(positions.string()); }, "array_row is 4.44444e49");
  std::ofstream(positions) << "AAAC-1,1,3,2.5,1000,2000\n";
  expectMessage([&] { itk::SpatialDataReader::ReadVisiumPositions(positions.string()); }, "array_col is 2.5");

  // Visium: a matrix barcode absent from the positions.
  if (fs::exists(VisiumFolder()))
  {
    const auto outs = s_Folder / "visium_missing";
    fs::create_directories(outs / "spatial");
    fs::copy_file(VisiumFolder() + "/filtered_feature_bc_matrix.h5", outs / "filtered_feature_bc_matrix.h5");
    std::ofstream(outs / "spatial" / "tissue_positions_list.csv") << "AAAA-1,1,0,0,10,10\n";
    expectMessage([&] { itk::SpatialDataReader::ReadVisiumOuts(outs.string()); }, "absent from");
  }
}

} // namespace
