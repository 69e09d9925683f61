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

#include "itkAnnDataWriter.h"
#include "itkMatrixOperations.h"
#include "itkSpatialDataReader.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

class AnnDataWriter : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("anndata-writer-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void
  TearDown() override
  {
    fs::remove_all(m_Folder);
  }

  static itk::Array2D<double>
  Matrix(std::size_t rows, std::size_t columns, const std::vector<double> & values)
  {
    return itk::MatrixOperations::FromRowMajor(rows, columns, values);
  }

  /** Three spots, two genes, a truth layer, an obs column and the preprocessing in uns. */
  itk::AnnDataWriter::Pointer
  SmallWriter(const std::string & name) const
  {
    auto writer = itk::AnnDataWriter::New();
    writer->SetFileName((m_Folder / name).string());
    writer->SetSpots({ "AAAC-1", "AAAG-1", "ÄÖ-1" }, { { { 10.5, 20.0 } }, { { 30.0, 40.25 } }, { { 50.0, 60.0 } } });
    writer->SetGenes({ "ERBB2", "KRT19" });
    writer->SetValues(Matrix(3, 2, { 1.5, 0.0, 2.25, -1.0, 3.0, 4.0 }));
    writer->SetLayer("truth", Matrix(3, 2, { 1.0, 0.5, 2.0, 0.0, 3.5, 4.5 }));
    writer->SetSpotColumn("measured", { 1.0, 0.0, 1.0 });
    writer->SetText("gene_preprocessing", "{\"target_sum\": 10000}");
    return writer;
  }

  fs::path m_Folder;
};

// The independent reference: anndata itself (Debian's python3-anndata), as a scanpy user opens it.
TEST_F(AnnDataWriter, AnndataOpensWhatItWrote)
{
  auto writer = SmallWriter("predictions.h5ad");
  writer->Write();
  const std::string output = (m_Folder / "anndata.json").string();
  const std::string command = std::string(SpatialTranscriptomics_PYTHON) + " " + SpatialTranscriptomics_SOURCE_DIR +
                              "/test/data/read_h5ad_with_anndata.py " + writer->GetFileName() + " > " + output +
                              " 2>&1";
  const int         status = std::system(command.c_str());
  std::ifstream     in(output);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_EQ(WEXITSTATUS(status), 0) << text.str() << "\n(needs Debian's python3-anndata; the install script has it)";
  const auto seen = nlohmann::json::parse(text.str());
  EXPECT_EQ(seen["shape"], nlohmann::json({ 3, 2 }));
  EXPECT_EQ(seen["obs_names"], nlohmann::json({ "AAAC-1", "AAAG-1", "ÄÖ-1" }));
  EXPECT_EQ(seen["var_names"], nlohmann::json({ "ERBB2", "KRT19" }));
  EXPECT_EQ(seen["X_dtype"], "float32");
  EXPECT_EQ(seen["X"], nlohmann::json({ { 1.5, 0.0 }, { 2.25, -1.0 }, { 3.0, 4.0 } }));
  EXPECT_EQ(seen["spatial"], nlohmann::json({ { 10.5, 20.0 }, { 30.0, 40.25 }, { 50.0, 60.0 } }));
  EXPECT_EQ(seen["layers"]["truth"], nlohmann::json({ { 1.0, 0.5 }, { 2.0, 0.0 }, { 3.5, 4.5 } }));
  EXPECT_EQ(seen["uns"]["gene_preprocessing"], "{\"target_sum\": 10000}");
  EXPECT_EQ(seen["obs"]["measured"], nlohmann::json({ 1.0, 0.0, 1.0 }));
}

// SpatialDataReader::ReadAnnData reads count data (non-negative X): the same spots, positions and genes come back.
TEST_F(AnnDataWriter, TheModulesOwnReaderReadsItBack)
{
  auto writer = SmallWriter("back.h5ad");
  writer->SetValues(Matrix(3, 2, { 1.0, 0.0, 2.0, 5.0, 3.0, 4.0 }));
  writer->Write();
  const auto spots = itk::SpatialDataReader::ReadAnnData(writer->GetFileName());
  ASSERT_EQ(spots->GetNumberOfSpots(), 3u);
  EXPECT_EQ(spots->GetSpotIds()[2], "ÄÖ-1");
  EXPECT_DOUBLE_EQ(spots->GetPixelPositions()[1][0], 30.0);
  EXPECT_DOUBLE_EQ(spots->GetPixelPositions()[1][1], 40.25);
  EXPECT_EQ(spots->GetGeneNames(), std::vector<std::string>({ "ERBB2", "KRT19" }));
  const std::vector<float> counts{ 1.0f, 0.0f, 2.0f, 5.0f, 3.0f, 4.0f };
  for (std::size_t k = 0; k < counts.size(); ++k)
  {
    EXPECT_EQ(spots->GetCounts().Get(k / 2, k % 2), counts[k]) << k;
  }
}

TEST_F(AnnDataWriter, PartsThatDoNotFitAreRefusedAndNothingIsWritten)
{
  auto writer = SmallWriter("bad.h5ad");
  writer->SetValues(Matrix(1, 2, { 1.0, 2.0 }));
  EXPECT_THROW(writer->Write(), itk::ExceptionObject);
  writer = SmallWriter("bad.h5ad");
  writer->SetLayer("truth", Matrix(1, 1, { 1.0 }));
  EXPECT_THROW(writer->Write(), itk::ExceptionObject);
  writer = SmallWriter("bad.h5ad");
  writer->SetGenes({ "ERBB2", "ERBB2" });
  EXPECT_THROW(writer->Write(), itk::ExceptionObject);
  writer = SmallWriter("bad.h5ad");
  writer->SetSpotColumn("measured", { 1.0 });
  EXPECT_THROW(writer->Write(), itk::ExceptionObject);
  writer = SmallWriter("bad.h5ad");
  writer->SetSpots({ "a", "b", "c" }, { { { 1.0, 2.0 } } });
  EXPECT_THROW(writer->Write(), itk::ExceptionObject);
  EXPECT_THROW(writer->SetLayer("a/b", Matrix(3, 2, std::vector<double>(6, 0.0))), itk::ExceptionObject);
  EXPECT_THROW(writer->SetSpotColumn("_index", {}), itk::ExceptionObject);
  EXPECT_TRUE(fs::is_empty(m_Folder));

  std::ostringstream printed;
  SmallWriter("x.h5ad")->Print(printed);
  for (const char * member :
       { "FileName: ", "SpotIds: 3 spots", "Genes: 2 genes", "Layers: truth", "SpotColumns: measured", "Texts: gene_" })
  {
    EXPECT_NE(printed.str().find(member), std::string::npos) << member << "\n" << printed.str();
  }
}

} // namespace
