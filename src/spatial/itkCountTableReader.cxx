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

// Plain tables: a counts table (spots x genes) joined to a spot table with pixel coordinates, as
// the her2st data and many lab pipelines provide them.

#include "itkSpatialDataReader.h"
#include "itkTextTable.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace itk
{
namespace
{
/** Index of the first header field named one of \p names (case-insensitive), or -1. */
int
FindColumn(const std::vector<std::string> & header, std::initializer_list<const char *> names)
{
  for (const char * name : names)
  {
    for (std::size_t c = 0; c < header.size(); ++c)
    {
      std::string field = header[c];
      std::transform(field.begin(), field.end(), field.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (field == name)
      {
        return static_cast<int>(c);
      }
    }
  }
  return -1;
}

/** Spot id -> pixel position (x, y) from the spot table. */
std::unordered_map<std::string, SpatialExpressionData::PositionType>
ReadSpotTable(const std::string & path)
{
  text::LineReader reader(path);
  std::string      line;
  if (!reader.Next(line))
  {
    itkGenericExceptionMacro(<< path << " is empty; the spot table needs a header row");
  }
  const char delimiter = text::DetectDelimiter(line);
  const auto header = text::SplitFields(line, delimiter);
  const int  id = FindColumn(header, { "spot", "spot_id", "barcode", "id" });
  const int  arrayX = FindColumn(header, { "x" });
  const int  arrayY = FindColumn(header, { "y" });
  const int  pixelX = FindColumn(header, { "pixel_x", "pxl_col_in_fullres", "x_pixel", "imagecol" });
  const int  pixelY = FindColumn(header, { "pixel_y", "pxl_row_in_fullres", "y_pixel", "imagerow" });
  if (pixelX < 0 || pixelY < 0 || (id < 0 && (arrayX < 0 || arrayY < 0)))
  {
    itkGenericExceptionMacro(<< path
                             << ": the spot table needs pixel columns (pixel_x and pixel_y, or "
                                "pxl_col_in_fullres and pxl_row_in_fullres) and an id column (spot, "
                                "barcode or id) or array columns x and y");
  }
  std::unordered_map<std::string, SpatialExpressionData::PositionType> spots;
  while (reader.Next(line))
  {
    if (line.empty())
    {
      continue;
    }
    const auto fields = text::SplitFields(line, delimiter);
    if (fields.size() < header.size())
    {
      itkGenericExceptionMacro(<< path << " line " << reader.LineNumber() << " has " << fields.size()
                               << " fields; the header has " << header.size());
    }
    const std::string key = id >= 0 ? fields[id] : fields[arrayX] + "x" + fields[arrayY];
    spots[key] = { { text::ParseNumber(fields[pixelX], path, reader.LineNumber()),
                     text::ParseNumber(fields[pixelY], path, reader.LineNumber()) } };
  }
  return spots;
}
} // namespace

SpatialExpressionData::Pointer
SpatialDataReader::ReadCountTable(const std::string & countsPath, const std::string & spotsPath)
{
  const auto       positionsById = ReadSpotTable(spotsPath);
  text::LineReader reader(countsPath);
  std::string      line;
  if (!reader.Next(line))
  {
    itkGenericExceptionMacro(<< countsPath << " is empty; the counts table needs a header row of gene names");
  }
  const char               delimiter = text::DetectDelimiter(line);
  auto                     header = text::SplitFields(line, delimiter);
  std::vector<std::string> genes(header.begin() + 1, header.end());
  if (genes.empty())
  {
    itkGenericExceptionMacro(<< countsPath << ": the header names no genes");
  }

  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  SparseCountMatrix                                counts;
  counts.Columns = genes.size();
  std::vector<std::string> unplaced;
  while (reader.Next(line))
  {
    if (line.empty())
    {
      continue;
    }
    const auto fields = text::SplitFields(line, delimiter);
    if (fields.size() != genes.size() + 1)
    {
      itkGenericExceptionMacro(<< countsPath << " line " << reader.LineNumber() << " has " << fields.size() - 1
                               << " counts for " << genes.size() << " genes");
    }
    const auto found = positionsById.find(fields[0]);
    if (found == positionsById.end())
    {
      unplaced.push_back(fields[0]);
      continue;
    }
    for (std::size_t g = 0; g < genes.size(); ++g)
    {
      const std::string & field = fields[g + 1];
      if (field == "0")
      {
        continue; // the common case, without parsing
      }
      const double value = text::ParseNumber(field, countsPath, reader.LineNumber());
      if (!std::isfinite(value) || value < 0.0)
      {
        itkGenericExceptionMacro(<< countsPath << " line " << reader.LineNumber() << ": gene " << genes[g]
                                 << " has count " << field << "; counts must be finite and non-negative");
      }
      if (value != 0.0)
      {
        counts.ColumnIndex.push_back(static_cast<std::uint32_t>(g));
        counts.Values.push_back(static_cast<float>(value));
      }
    }
    counts.RowStart.push_back(counts.Values.size());
    ids.push_back(fields[0]);
    positions.push_back(found->second);
  }
  if (!unplaced.empty())
  {
    itkGenericExceptionMacro(<< unplaced.size() << " spot(s) of " << countsPath << " have no position in " << spotsPath
                             << " (first: " << unplaced.front() << "); check that the tables belong together");
  }
  counts.Rows = ids.size();
  auto data = SpatialExpressionData::New();
  data->SetSpots(std::move(ids), std::move(positions));
  data->SetGenes(std::move(genes));
  data->SetCounts(std::move(counts));
  data->SetMetadata("format", "table");
  data->SetMetadata("source", countsPath);
  return data;
}

} // end namespace itk
