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

// AnnData .h5ad files (anndata >= 0.7 on-disk layout, and the older h5sparse attributes), and
// HEST-1k sample folders, which ship their spots as .h5ad.

#include "itkHDF5Support.h"
#include "itkReadableFile.h"
#include "itkSpatialDataReader.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

/** The index (row names) of obs or var: the dataset named by the group's _index attribute. */
std::vector<std::string>
ReadIndex(const hdf5::File & file, const std::string & group)
{
  if (!file.Exists(group))
  {
    itkGenericExceptionMacro(<< file.Path() << " has no " << group << "; it is not an AnnData file");
  }
  if (!file.IsGroup(group))
  {
    itkGenericExceptionMacro(<< file.Path() << ": " << group
                             << " is a table (the anndata < 0.7 layout); re-save it with anndata >= 0.7");
  }
  std::string name = "_index";
  if (file.HasAttribute(group, "_index"))
  {
    name = file.ReadStringAttribute(group, "_index");
  }
  return file.ReadStrings(group + "/" + name);
}

/** A string column of obs or var: plain strings, or a categorical (codes into categories). */
std::vector<std::string>
ReadStringColumn(const hdf5::File & file, const std::string & column)
{
  if (!file.IsGroup(column))
  {
    return file.ReadStrings(column);
  }
  const auto               categories = file.ReadStrings(column + "/categories");
  const auto               codes = file.ReadIntegers(column + "/codes");
  std::vector<std::string> values;
  for (const auto code : codes)
  {
    values.push_back(code >= 0 && code < static_cast<std::int64_t>(categories.size()) ? categories[code] : "");
  }
  return values;
}

/** X as spots x genes: dense, or sparse CSR / CSC. */
SparseCountMatrix
ReadX(const hdf5::File & file, std::size_t observations, std::size_t variables)
{
  if (!file.Exists("X"))
  {
    itkGenericExceptionMacro(<< file.Path() << " has no X matrix");
  }
  if (!file.IsGroup("X"))
  {
    std::vector<hsize_t> shape;
    auto                 values = file.ReadFloats("X", &shape);
    if (shape.size() != 2 || shape[0] != observations || shape[1] != variables)
    {
      itkGenericExceptionMacro(<< file.Path() << ": X is not " << observations << " x " << variables);
    }
    return SparseCountMatrix::FromDense(observations, variables, values);
  }
  std::string encoding;
  if (file.HasAttribute("X", "encoding-type"))
  {
    encoding = file.ReadStringAttribute("X", "encoding-type");
  }
  else if (file.HasAttribute("X", "h5sparse_format"))
  {
    encoding = file.ReadStringAttribute("X", "h5sparse_format") + "_matrix";
  }
  if (encoding != "csr_matrix" && encoding != "csc_matrix")
  {
    itkGenericExceptionMacro(<< file.Path() << ": X is a group encoded as \"" << encoding
                             << "\"; only dense, csr_matrix and csc_matrix are supported");
  }
  const auto        indptr = file.ReadIntegers("X/indptr");
  const auto        indices = file.ReadIntegers("X/indices");
  const auto        data = file.ReadFloats("X/data");
  const bool        rowsAreSpots = encoding == "csr_matrix";
  const std::size_t major = rowsAreSpots ? observations : variables;
  const std::size_t minor = rowsAreSpots ? variables : observations;
  if (indptr.size() != major + 1 || indices.size() != data.size() || indptr.front() != 0 ||
      indptr.back() != static_cast<std::int64_t>(data.size()))
  {
    itkGenericExceptionMacro(<< file.Path() << ": X's indptr, indices and data disagree with its " << observations
                             << " x " << variables << " shape; the file is damaged");
  }
  // With the first 0 and the last the data's size (checked above), a non-decreasing indptr keeps
  // every index inside the data: checked whole before any is used.
  for (std::size_t m = 0; m < major; ++m)
  {
    if (indptr[m] > indptr[m + 1])
    {
      itkGenericExceptionMacro(<< file.Path() << ": X's indptr decreases at " << (rowsAreSpots ? "row " : "column ")
                               << m << "; the file is damaged");
    }
  }
  // Gather (spot, gene, value) per spot, whichever way the file compresses.
  std::vector<std::vector<std::pair<std::uint32_t, float>>> rows(observations);
  for (std::size_t m = 0; m < major; ++m)
  {
    for (auto k = indptr[m]; k < indptr[m + 1]; ++k)
    {
      if (indices[k] < 0 || static_cast<std::size_t>(indices[k]) >= minor)
      {
        itkGenericExceptionMacro(<< file.Path() << ": X has index " << indices[k] << " outside its shape");
      }
      const std::size_t spot = rowsAreSpots ? m : static_cast<std::size_t>(indices[k]);
      const std::size_t gene = rowsAreSpots ? static_cast<std::size_t>(indices[k]) : m;
      rows[spot].emplace_back(static_cast<std::uint32_t>(gene), data[k]);
    }
  }
  SparseCountMatrix counts;
  counts.Rows = observations;
  counts.Columns = variables;
  for (auto & row : rows)
  {
    std::sort(row.begin(), row.end());
    for (const auto & entry : row)
    {
      if (entry.second != 0.0f)
      {
        counts.ColumnIndex.push_back(entry.first);
        counts.Values.push_back(entry.second);
      }
    }
    counts.RowStart.push_back(counts.Values.size());
  }
  counts.Validate(("X of " + file.Path()).c_str());
  return counts;
}
} // namespace

SpatialExpressionData::Pointer
SpatialDataReader::ReadAnnData(const std::string & path)
{
  const auto               file = hdf5::File::OpenForReading(path);
  auto                     spots = ReadIndex(file, "obs");
  auto                     genes = ReadIndex(file, "var");
  std::vector<std::string> geneIds;
  for (const char * column : { "var/gene_ids", "var/gene_id", "var/ensembl_id" })
  {
    if (file.Exists(column))
    {
      geneIds = ReadStringColumn(file, column);
      break;
    }
  }
  if (!file.Exists("obsm/spatial"))
  {
    itkGenericExceptionMacro(<< path << " has no obsm/spatial (spot positions in pixels); this module needs them");
  }
  std::vector<hsize_t> shape;
  const auto           xy = file.ReadDoubles("obsm/spatial", &shape);
  if (shape.size() != 2 || shape[0] != spots.size() || shape[1] < 2)
  {
    itkGenericExceptionMacro(<< path << ": obsm/spatial must be " << spots.size() << " x 2 (x, y per spot)");
  }
  std::vector<SpatialExpressionData::PositionType> positions;
  for (std::size_t i = 0; i < spots.size(); ++i)
  {
    positions.push_back({ { xy[i * shape[1]], xy[i * shape[1] + 1] } });
  }
  auto counts = ReadX(file, spots.size(), genes.size());
  auto data = SpatialExpressionData::New();
  data->SetSpots(std::move(spots), std::move(positions));
  data->SetGenes(std::move(genes), geneIds.size() == data->GetSpotIds().size() ? std::vector<std::string>{} : geneIds);
  data->SetCounts(std::move(counts));
  data->SetMetadata("format", "anndata");
  data->SetMetadata("source", path);
  return data;
}

SpatialExpressionData::Pointer
SpatialDataReader::ReadHESTSample(const std::string & folderName, const std::string & requestedId)
{
  const fs::path folder(folderName);
  std::string    id = requestedId;
  if (id.empty())
  {
    std::vector<std::string> found;
    if (fs::is_directory(folder / "st"))
    {
      for (const auto & entry : fs::directory_iterator(folder / "st"))
      {
        if (entry.path().extension() == ".h5ad")
        {
          found.push_back(entry.path().stem().string());
        }
      }
    }
    if (found.size() != 1)
    {
      itkGenericExceptionMacro(<< folder.string() << "/st holds " << found.size()
                               << " .h5ad files; a HEST sample folder holds one (or name the sample id)");
    }
    id = found.front();
  }
  auto       data = SpatialDataReader::ReadAnnData((folder / "st" / (id + ".h5ad")).string());
  const auto metadataPath = folder / "metadata" / (id + ".json");
  if (fs::exists(metadataPath))
  {
    const std::string problem = ReadableFileProblem(metadataPath.string());
    if (!problem.empty())
    {
      itkGenericExceptionMacro(<< "Cannot read the HEST metadata " << metadataPath.string() << ": " << problem);
    }
    try
    {
      std::ifstream in(metadataPath);
      const auto    json = nlohmann::json::parse(in);
      for (const char * key : { "pixel_size_um_estimated", "pixel_size_um_embedded" })
      {
        if (json.contains(key) && json[key].is_number() && json[key].get<double>() > 0.0)
        {
          data->SetPixelSize(json[key].get<double>());
          break;
        }
      }
    }
    catch (const nlohmann::json::exception & e)
    {
      itkGenericExceptionMacro(<< metadataPath.string() << " is not valid JSON: " << e.what());
    }
  }
  data->SetMetadata("format", "hest");
  data->SetMetadata("hest_id", id);
  data->SetMetadata("source", folder.string());
  for (const char * extension : { ".tif", ".tiff", ".svs" })
  {
    if (fs::exists(folder / "wsis" / (id + extension)))
    {
      data->SetMetadata("slide", (folder / "wsis" / (id + extension)).string());
    }
  }
  return data;
}

} // end namespace itk
