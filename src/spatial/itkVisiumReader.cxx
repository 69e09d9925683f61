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

// 10x Genomics Space Ranger outputs: the feature-barcode matrix (HDF5 or Matrix Market), spot
// positions and scale factors.

#include "itkHDF5Support.h"
#include "itkReadableFile.h"
#include "itkSpatialDataReader.h"
#include "itkTextTable.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unordered_map>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

/** Rows (barcodes) of a matrix stored column-compressed with one column per barcode: sort each
 * row's genes, as SparseCountMatrix requires. */
SparseCountMatrix
RowsFromBarcodeColumns(std::size_t barcodes, std::size_t genes, const std::vector<std::int64_t> & start,
                       const std::vector<std::int64_t> & geneIndex, const std::vector<float> & values,
                       const std::string & path)
{
  if (start.size() != barcodes + 1 || geneIndex.size() != values.size() || start.front() != 0 ||
      start.back() != static_cast<std::int64_t>(values.size()))
  {
    itkGenericExceptionMacro(<< path << ": the matrix's indptr (" << start.size() << " entries), indices ("
                             << geneIndex.size() << ") and data (" << values.size() << ") disagree with its "
                             << barcodes << " barcodes; the file is damaged");
  }
  SparseCountMatrix counts;
  counts.Rows = barcodes;
  counts.Columns = genes;
  std::vector<std::size_t> order;
  for (std::size_t b = 0; b < barcodes; ++b)
  {
    if (start[b] > start[b + 1])
    {
      itkGenericExceptionMacro(<< path << ": the matrix's indptr decreases at barcode " << b
                               << "; the file is damaged");
    }
    order.resize(start[b + 1] - start[b]);
    std::iota(order.begin(), order.end(), start[b]);
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return geneIndex[x] < geneIndex[y]; });
    for (const auto k : order)
    {
      if (geneIndex[k] < 0 || static_cast<std::size_t>(geneIndex[k]) >= genes)
      {
        itkGenericExceptionMacro(<< path << ": gene index " << geneIndex[k] << " is outside the " << genes
                                 << " features; the file is damaged");
      }
      counts.ColumnIndex.push_back(static_cast<std::uint32_t>(geneIndex[k]));
      counts.Values.push_back(values[k]);
    }
    counts.RowStart.push_back(counts.Values.size());
  }
  counts.Validate(("count matrix of " + path).c_str());
  return counts;
}

/** The filtered_feature_bc_matrix/ folder: matrix.mtx.gz, features.tsv.gz (or v2's genes.tsv),
 * barcodes.tsv.gz. */
SpatialExpressionData::Pointer
ReadMatrixMarketFolder(const fs::path & folder)
{
  const auto pick = [&](std::initializer_list<const char *> names) {
    for (const char * name : names)
    {
      if (fs::exists(folder / name))
      {
        return (folder / name).string();
      }
    }
    itkGenericExceptionMacro(<< folder.string() << " has no " << *names.begin() << " (or uncompressed version)");
  };
  const auto matrixPath = pick({ "matrix.mtx.gz", "matrix.mtx" });
  const auto featuresPath = pick({ "features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv" });
  const auto barcodesPath = pick({ "barcodes.tsv.gz", "barcodes.tsv" });

  std::vector<std::string> barcodes;
  std::string              line;
  {
    text::LineReader reader(barcodesPath);
    while (reader.Next(line))
    {
      if (!line.empty())
      {
        barcodes.push_back(line);
      }
    }
  }
  std::vector<std::string> ids;
  std::vector<std::string> names;
  {
    text::LineReader reader(featuresPath);
    while (reader.Next(line))
    {
      const auto fields = text::SplitFields(line, '\t');
      ids.push_back(fields[0]);
      names.push_back(fields.size() > 1 ? fields[1] : fields[0]);
    }
  }
  text::LineReader reader(matrixPath);
  if (!reader.Next(line) || line.rfind("%%MatrixMarket matrix coordinate", 0) != 0)
  {
    itkGenericExceptionMacro(<< matrixPath << " is not a Matrix Market coordinate file");
  }
  while (reader.Next(line) && !line.empty() && line[0] == '%')
  {}
  std::size_t rows = 0, columns = 0, entries = 0;
  if (std::sscanf(line.c_str(), "%zu %zu %zu", &rows, &columns, &entries) != 3 || rows != ids.size() ||
      columns != barcodes.size())
  {
    itkGenericExceptionMacro(<< matrixPath << ": the size line \"" << line << "\" does not match " << ids.size()
                             << " features and " << barcodes.size() << " barcodes");
  }
  // Entries are (feature, barcode, count), 1-based; gather them per barcode.
  std::vector<std::vector<std::pair<std::uint32_t, float>>> perBarcode(columns);
  std::size_t                                               read = 0;
  while (reader.Next(line))
  {
    std::size_t feature = 0, barcode = 0;
    double      value = 0.0;
    if (line.empty())
    {
      continue;
    }
    if (std::sscanf(line.c_str(), "%zu %zu %lf", &feature, &barcode, &value) != 3 || feature == 0 || feature > rows ||
        barcode == 0 || barcode > columns)
    {
      itkGenericExceptionMacro(<< matrixPath << " line " << reader.LineNumber() << ": \"" << line
                               << "\" is not a valid entry");
    }
    perBarcode[barcode - 1].emplace_back(static_cast<std::uint32_t>(feature - 1), static_cast<float>(value));
    ++read;
  }
  if (read != entries)
  {
    itkGenericExceptionMacro(<< matrixPath << " announces " << entries << " entries but holds " << read
                             << "; the file is truncated");
  }
  SparseCountMatrix counts;
  counts.Rows = columns;
  counts.Columns = rows;
  for (auto & entriesOfBarcode : perBarcode)
  {
    std::sort(entriesOfBarcode.begin(), entriesOfBarcode.end());
    for (const auto & entry : entriesOfBarcode)
    {
      counts.ColumnIndex.push_back(entry.first);
      counts.Values.push_back(entry.second);
    }
    counts.RowStart.push_back(counts.Values.size());
  }
  auto data = SpatialExpressionData::New();
  data->SetSpots(barcodes, std::vector<SpatialExpressionData::PositionType>(barcodes.size(), { { 0.0, 0.0 } }));
  data->SetGenes(names, ids);
  counts.Validate(("count matrix of " + matrixPath).c_str());
  data->SetCounts(std::move(counts));
  return data;
}
} // namespace

SpatialExpressionData::Pointer
SpatialDataReader::Read10xMatrixH5(const std::string & path)
{
  const auto file = hdf5::File::OpenForReading(path);
  // Cell Ranger 3+ / Space Ranger: /matrix with features/; Cell Ranger 2: /<genome> with genes.
  std::string group = "matrix";
  std::string idsName = "matrix/features/id";
  std::string namesName = "matrix/features/name";
  if (!file.Exists("matrix"))
  {
    itkGenericExceptionMacro(<< path << " has no /matrix group: it is not a 10x feature-barcode matrix (v3 layout)");
  }
  const auto barcodes = file.ReadStrings(group + "/barcodes");
  const auto shape = file.ReadIntegers(group + "/shape");
  if (shape.size() != 2 || shape[1] != static_cast<std::int64_t>(barcodes.size()))
  {
    itkGenericExceptionMacro(<< path << ": /matrix/shape does not match its " << barcodes.size() << " barcodes");
  }
  auto names = file.ReadStrings(namesName);
  auto ids = file.ReadStrings(idsName);
  if (names.size() != static_cast<std::size_t>(shape[0]) || ids.size() != names.size())
  {
    itkGenericExceptionMacro(<< path << ": " << names.size() << " feature names for " << shape[0] << " features");
  }
  auto counts = RowsFromBarcodeColumns(barcodes.size(),
                                       names.size(),
                                       file.ReadIntegers(group + "/indptr"),
                                       file.ReadIntegers(group + "/indices"),
                                       file.ReadFloats(group + "/data"),
                                       path);
  auto data = SpatialExpressionData::New();
  data->SetSpots(barcodes, std::vector<SpatialExpressionData::PositionType>(barcodes.size(), { { 0.0, 0.0 } }));
  data->SetGenes(std::move(names), std::move(ids));
  data->SetCounts(std::move(counts));
  return data;
}

namespace
{
/** An array coordinate of a positions file: an integer of at most a million in size (Visium's are
 * below 128; a larger or fractional one means the file is not what it claims). */
int
ArrayCoordinate(const std::string & field, const std::string & path, std::size_t line, const char * column)
{
  const double value = text::ParseNumber(field, path, line);
  if (!(std::abs(value) <= 1e6) || value != std::floor(value))
  {
    itkGenericExceptionMacro(<< path << " line " << line << ": " << column << " is " << field
                             << ", not an array coordinate (an integer of at most 1,000,000 in size)");
  }
  return static_cast<int>(value);
}
} // namespace

std::vector<VisiumSpotPosition>
SpatialDataReader::ReadVisiumPositions(const std::string & path)
{
  text::LineReader                reader(path);
  std::vector<VisiumSpotPosition> positions;
  std::string                     line;
  while (reader.Next(line))
  {
    if (line.empty() || (reader.LineNumber() == 1 && line.rfind("barcode", 0) == 0))
    {
      continue; // the v2 header
    }
    const auto fields = text::SplitFields(line, ',');
    if (fields.size() != 6)
    {
      itkGenericExceptionMacro(<< path << " line " << reader.LineNumber() << " has " << fields.size()
                               << " fields; a Visium positions file has 6 (barcode, in_tissue, array_row, "
                                  "array_col, pxl_row_in_fullres, pxl_col_in_fullres)");
    }
    VisiumSpotPosition p;
    p.Barcode = fields[0];
    p.InTissue = text::ParseNumber(fields[1], path, reader.LineNumber()) != 0.0;
    p.ArrayRow = ArrayCoordinate(fields[2], path, reader.LineNumber(), "array_row");
    p.ArrayColumn = ArrayCoordinate(fields[3], path, reader.LineNumber(), "array_col");
    p.PixelRow = text::ParseNumber(fields[4], path, reader.LineNumber());
    p.PixelColumn = text::ParseNumber(fields[5], path, reader.LineNumber());
    positions.push_back(p);
  }
  return positions;
}

std::map<std::string, double>
SpatialDataReader::ReadVisiumScaleFactors(const std::string & path)
{
  const std::string problem = ReadableFileProblem(path);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot open " << path << ": " << problem);
  }
  std::ifstream                 in(path);
  std::map<std::string, double> factors;
  try
  {
    const auto json = nlohmann::json::parse(in);
    for (const auto & item : json.items())
    {
      if (item.value().is_number())
      {
        factors[item.key()] = item.value().get<double>();
      }
    }
  }
  catch (const nlohmann::json::exception & e)
  {
    itkGenericExceptionMacro(<< path << " is not valid JSON: " << e.what());
  }
  return factors;
}

SpatialExpressionData::Pointer
SpatialDataReader::ReadVisiumOuts(const std::string & folderName)
{
  fs::path folder(folderName);
  if (!fs::exists(folder / "spatial") && fs::exists(folder / "outs"))
  {
    folder /= "outs";
  }
  SpatialExpressionData::Pointer data;
  if (fs::exists(folder / "filtered_feature_bc_matrix.h5"))
  {
    data = SpatialDataReader::Read10xMatrixH5((folder / "filtered_feature_bc_matrix.h5").string());
  }
  else if (fs::is_directory(folder / "filtered_feature_bc_matrix"))
  {
    data = ReadMatrixMarketFolder(folder / "filtered_feature_bc_matrix");
  }
  else
  {
    itkGenericExceptionMacro(<< folder.string()
                             << " has neither filtered_feature_bc_matrix.h5 nor filtered_feature_bc_matrix/; "
                                "give a Space Ranger outs/ folder");
  }
  fs::path positionsPath = folder / "spatial" / "tissue_positions.csv";
  if (!fs::exists(positionsPath))
  {
    positionsPath = folder / "spatial" / "tissue_positions_list.csv";
  }
  if (!fs::exists(positionsPath))
  {
    itkGenericExceptionMacro(<< folder.string() << "/spatial has no tissue_positions.csv or tissue_positions_list.csv");
  }
  std::unordered_map<std::string, VisiumSpotPosition> byBarcode;
  for (auto & p : SpatialDataReader::ReadVisiumPositions(positionsPath.string()))
  {
    byBarcode.emplace(p.Barcode, p);
  }
  std::vector<SpatialExpressionData::PositionType> positions;
  std::vector<std::string>                         absent;
  for (const auto & barcode : data->GetSpotIds())
  {
    const auto found = byBarcode.find(barcode);
    if (found == byBarcode.end())
    {
      absent.push_back(barcode);
      continue;
    }
    positions.push_back({ { found->second.PixelColumn, found->second.PixelRow } });
  }
  if (!absent.empty())
  {
    itkGenericExceptionMacro(<< absent.size() << " barcode(s) of the matrix are absent from " << positionsPath.string()
                             << " (first: " << absent.front()
                             << "); the matrix and positions come from different runs");
  }
  data->SetSpots(data->GetSpotIds(), std::move(positions));
  const auto scaleFactorsPath = folder / "spatial" / "scalefactors_json.json";
  if (fs::exists(scaleFactorsPath))
  {
    const auto factors = SpatialDataReader::ReadVisiumScaleFactors(scaleFactorsPath.string());
    for (const auto & factor : factors)
    {
      data->SetMetadata("scalefactor:" + factor.first, std::to_string(factor.second));
    }
    const auto diameter = factors.find("spot_diameter_fullres");
    if (diameter != factors.end() && diameter->second > 0.0)
    {
      // Space Ranger's spot_diameter_fullres spans a theoretical 65 um spot (the printed spots are
      // 55 um): with 65, neighbouring spots come out 100 um apart, Visium's pitch (tested).
      data->SetPixelSize(65.0 / diameter->second);
    }
  }
  data->SetMetadata("format", "visium");
  data->SetMetadata("source", folder.string());
  // The array coordinates in it place the spots on their hexagonal grid (SpotGrid::FromSpots).
  data->SetMetadata("positions", positionsPath.string());
  return data;
}

} // end namespace itk
