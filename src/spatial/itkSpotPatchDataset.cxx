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
#include "itkSpotPatchDataset.h"


#include "itkHDF5Support.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace itk
{
namespace
{
constexpr const char * FormatName = "itk-spatialtranscriptomics-patches";
constexpr int          FormatVersion = 1;
} // namespace

std::size_t
SpotPatchDataset::GetNumberOfPatches() const
{
  return m_Patches ? m_Patches->GetLargestPossibleRegion().GetSize(2) : 0;
}

double
SpotPatchDataset::GetPixelSize() const
{
  return m_Patches ? m_Patches->GetSpacing()[0] : 0.0;
}

auto
SpotPatchDataset::FromExtraction(const SpotPatches & patches, const SpatialExpressionData & spots,
                                 const std::string & slide) -> Pointer
{
  auto dataset = Self::New();
  dataset->SetPatches(patches.Patches);
  dataset->SetSpots(spots.SelectSpots(patches.SpotIndices));
  dataset->SetCorners(patches.Corners);
  dataset->SetPatchSizeMicrometres(patches.PixelSize * patches.Patches->GetLargestPossibleRegion().GetSize(0));
  dataset->SetSlideFileName(slide);
  dataset->SetPaddedSpots(patches.PaddedSpots);
  return dataset;
}

auto
SpotPatchDataset::FromSynthesis(PatchStackType * patches, const ConditioningProfiles & profiles,
                                const SpatialExpressionData & source, const std::string & genePreprocessingJSON)
  -> Pointer
{
  const std::size_t count = profiles.SourceSpots.size();
  if (patches == nullptr || patches->GetLargestPossibleRegion().GetSize(2) != count ||
      profiles.Expression.rows() != count)
  {
    itkGenericExceptionMacro(<< "Synthetic pairs need one patch per profile: "
                             << (patches ? patches->GetLargestPossibleRegion().GetSize(2) : 0) << " patches, "
                             << profiles.Expression.rows() << " profiles and " << count
                             << " source spots (draw the patches with these profiles: DiffusionSampleFilter's "
                                "SetConditioningProfiles and NumberOfSamples = their rows)");
  }
  const auto preprocessing = GenePreprocessing::FromJSON(genePreprocessingJSON);
  if (profiles.Expression.cols() != preprocessing.Genes.size())
  {
    itkGenericExceptionMacro(<< "The profiles have " << profiles.Expression.cols() << " genes but the preprocessing "
                             << preprocessing.Genes.size() << ": pass the local model's GetGenePreprocessing()");
  }
  auto                                             spots = SpatialExpressionData::New();
  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  for (std::size_t k = 0; k < count; ++k)
  {
    if (profiles.SourceSpots[k] >= source.GetNumberOfSpots())
    {
      itkGenericExceptionMacro(<< "Profile " << k << " names source spot " << profiles.SourceSpots[k] << " but the "
                               << "source has " << source.GetNumberOfSpots()
                               << " spots: pass the spots the profiles were resampled from");
    }
    ids.push_back("synthetic-" + std::to_string(k) + "-" + source.GetSpotIds()[profiles.SourceSpots[k]]);
    positions.push_back(source.GetPixelPositions()[profiles.SourceSpots[k]]);
  }
  spots->SetSpots(ids, positions);
  spots->SetExpression(preprocessing, std::vector<float>(profiles.Expression.begin(), profiles.Expression.end()));
  spots->SetSplit(std::vector<std::uint8_t>(count, 1));
  spots->SetMetadata("synthetic", "true");
  auto dataset = Self::New();
  dataset->SetPatches(patches);
  dataset->SetSpots(spots);
  dataset->SetSlideFileName("synthetic");
  return dataset;
}

void
SpotPatchDataset::Graft(const DataObject * data)
{
  const auto * other = dynamic_cast<const Self *>(data);
  if (other == nullptr)
  {
    itkExceptionMacro(<< "Cannot graft a " << (data ? data->GetNameOfClass() : "null object")
                      << " onto a SpotPatchDataset");
  }
  Superclass::Graft(data);
  m_Patches = other->m_Patches;
  m_Spots = other->m_Spots;
  m_Corners = other->m_Corners;
  m_PatchSizeMicrometres = other->m_PatchSizeMicrometres;
  m_SlideFileName = other->m_SlideFileName;
  m_PaddedSpots = other->m_PaddedSpots;
  this->Modified();
}

auto
SpotPatchDataset::Select(const std::vector<std::size_t> & rows) const -> Pointer
{
  Validate();
  const auto size = m_Patches->GetLargestPossibleRegion().GetSize();
  for (const auto row : rows)
  {
    if (row >= size[2])
    {
      itkExceptionMacro(<< "Patch " << row << " is out of range: the dataset has " << size[2]);
    }
  }
  auto patches = PatchStackType::New();
  auto region = m_Patches->GetLargestPossibleRegion();
  region.SetSize(2, rows.size());
  patches->SetRegions(region);
  patches->SetSpacing(m_Patches->GetSpacing());
  patches->SetOrigin(m_Patches->GetOrigin());
  patches->Allocate();
  const std::size_t pixelsPerPatch = size[0] * size[1];
  for (std::size_t k = 0; k < rows.size(); ++k)
  {
    std::copy_n(m_Patches->GetBufferPointer() + rows[k] * pixelsPerPatch,
                pixelsPerPatch,
                patches->GetBufferPointer() + k * pixelsPerPatch);
  }
  auto result = Self::New();
  result->SetPatches(patches);
  result->SetSpots(m_Spots->SelectSpots(rows));
  if (!m_Corners.empty())
  {
    std::vector<std::array<std::int64_t, 2>> corners;
    for (const auto row : rows)
    {
      corners.push_back(m_Corners[row]);
    }
    result->SetCorners(std::move(corners));
  }
  result->SetPatchSizeMicrometres(m_PatchSizeMicrometres);
  result->SetSlideFileName(m_SlideFileName);
  std::vector<std::string> padded;
  const auto &             ids = result->GetSpots()->GetSpotIds();
  for (const auto & id : m_PaddedSpots)
  {
    if (std::find(ids.begin(), ids.end(), id) != ids.end())
    {
      padded.push_back(id);
    }
  }
  result->SetPaddedSpots(std::move(padded));
  return result;
}

void
SpotPatchDataset::Validate() const
{
  if (!m_Patches || !m_Spots)
  {
    itkExceptionMacro(<< "The dataset has no patches or no spots");
  }
  const auto size = m_Patches->GetLargestPossibleRegion().GetSize();
  if (size[2] == 0 || size[0] == 0 || size[1] == 0)
  {
    itkExceptionMacro(<< "The dataset is empty (no patches)");
  }
  if (m_Spots->GetNumberOfSpots() != size[2] || (!m_Corners.empty() && m_Corners.size() != size[2]))
  {
    itkExceptionMacro(<< "The dataset has " << size[2] << " patches but " << m_Spots->GetNumberOfSpots()
                      << " spots and " << m_Corners.size() << " corners");
  }
}

void
SpotPatchDataset::Write(const std::string & fileName) const
{
  Validate();
  const auto   file = hdf5::File::CreateInMemory(fileName);
  const auto   size = m_Patches->GetLargestPossibleRegion().GetSize();
  const auto   n = static_cast<hsize_t>(size[2]);
  const auto & spots = *m_Spots;
  file.WriteBytes("img",
                  reinterpret_cast<const std::uint8_t *>(m_Patches->GetBufferPointer()),
                  { n, static_cast<hsize_t>(size[1]), static_cast<hsize_t>(size[0]), 3 });
  std::vector<std::int64_t> corners;
  std::vector<double>       centres;
  for (std::size_t i = 0; i < size[2]; ++i)
  {
    const auto corner = m_Corners.empty() ? std::array<std::int64_t, 2>{ { 0, 0 } } : m_Corners[i];
    corners.insert(corners.end(), corner.begin(), corner.end());
    centres.insert(centres.end(), spots.GetPixelPositions()[i].begin(), spots.GetPixelPositions()[i].end());
  }
  file.WriteIntegers("coords", corners, { n, 2 });
  file.WriteDoubles("spot_pixel", centres, { n, 2 });
  file.WriteStrings("barcode", spots.GetSpotIds(), { n, 1 });
  if (spots.HasExpression())
  {
    const auto & genes = spots.GetPreprocessing().Genes;
    file.WriteFloats("expression", spots.GetExpression(), { n, static_cast<hsize_t>(genes.size()) });
    file.WriteStrings("genes", genes, { static_cast<hsize_t>(genes.size()) });
  }
  if (!spots.GetSplit().empty())
  {
    std::vector<std::int32_t> split(spots.GetSplit().begin(), spots.GetSplit().end());
    file.WriteInt32s("split", split, { n });
  }
  const auto & counts = spots.GetCounts();
  if (counts.Rows == size[2] && counts.Columns > 0)
  {
    file.WriteFloats("counts/data", counts.Values, { static_cast<hsize_t>(counts.Values.size()) });
    file.WriteIntegers("counts/indices",
                       std::vector<std::int64_t>(counts.ColumnIndex.begin(), counts.ColumnIndex.end()),
                       { static_cast<hsize_t>(counts.ColumnIndex.size()) });
    file.WriteIntegers("counts/indptr",
                       std::vector<std::int64_t>(counts.RowStart.begin(), counts.RowStart.end()),
                       { static_cast<hsize_t>(counts.RowStart.size()) });
    file.WriteIntegers(
      "counts/shape", { static_cast<std::int64_t>(counts.Rows), static_cast<std::int64_t>(counts.Columns) }, { 2 });
    file.WriteStrings("counts/genes", spots.GetGeneNames(), { static_cast<hsize_t>(counts.Columns) });
    if (!spots.GetGeneIds().empty() && !spots.GetGeneIds()[0].empty())
    {
      file.WriteStrings("counts/gene_ids", spots.GetGeneIds(), { static_cast<hsize_t>(counts.Columns) });
    }
  }
  file.WriteStringAttribute("/", "format", FormatName);
  file.WriteIntegerAttribute("/", "version", FormatVersion);
  file.WriteDoubleAttribute("/", "pixel_size_um", GetPixelSize());
  file.WriteDoubleAttribute("/", "patch_size_um", m_PatchSizeMicrometres);
  file.WriteDoubleAttribute("/", "slide_pixel_size_um", spots.GetPixelSize());
  file.WriteStringAttribute("/", "slide", m_SlideFileName);
  if (spots.HasExpression())
  {
    file.WriteStringAttribute("/", "preprocessing", spots.GetPreprocessing().ToJSON());
  }
  file.WriteStringAttribute("/", "padded_spots", nlohmann::json(m_PaddedSpots).dump());
  file.WriteStringAttribute("/", "metadata", nlohmann::json(spots.GetAllMetadata()).dump());
  file.SaveAs(fileName, "the dataset");
}

auto
SpotPatchDataset::Read(const std::string & fileName) -> Pointer
{
  const auto file = hdf5::File::OpenForReading(fileName);
  if (!file.Exists("img") || !file.Exists("barcode"))
  {
    itkGenericExceptionMacro(<< fileName
                             << " has no \"img\" and \"barcode\": it is not a patch dataset (ours or "
                                "HEST's)");
  }
  std::vector<hsize_t> shape;
  auto                 pixels = file.ReadBytes("img", &shape);
  if (shape.size() != 4 || shape[3] != 3)
  {
    itkGenericExceptionMacro(<< fileName << ": \"img\" must be N x H x W x 3 uint8");
  }
  const std::size_t n = shape[0];
  auto              barcodes = file.ReadStrings("barcode");
  if (barcodes.size() != n)
  {
    itkGenericExceptionMacro(<< fileName << ": " << barcodes.size() << " barcodes for " << n << " patches");
  }
  auto dataset = Self::New();
  auto patches = PatchStackType::New();
  patches->SetRegions(PatchStackType::RegionType({ { 0, 0, 0 } }, { { shape[2], shape[1], n } }));
  double pixelSize = 1.0;
  if (file.HasAttribute("/", "pixel_size_um"))
  {
    pixelSize = file.ReadDoubleAttribute("/", "pixel_size_um")[0];
  }
  const double spacing[3] = { pixelSize, pixelSize, 1.0 };
  patches->SetSpacing(spacing);
  patches->Allocate();
  std::copy(pixels.begin(), pixels.end(), reinterpret_cast<std::uint8_t *>(patches->GetBufferPointer()));
  pixels = {};
  dataset->SetPatches(patches);

  std::vector<std::array<std::int64_t, 2>>         corners;
  std::vector<SpatialExpressionData::PositionType> positions(n, { { 0.0, 0.0 } });
  if (file.Exists("coords"))
  {
    const auto values = file.ReadIntegers("coords");
    if (values.size() != 2 * n)
    {
      itkGenericExceptionMacro(<< fileName << ": \"coords\" must be N x 2");
    }
    for (std::size_t i = 0; i < n; ++i)
    {
      corners.push_back({ { values[2 * i], values[2 * i + 1] } });
      positions[i] = { { double(values[2 * i]), double(values[2 * i + 1]) } };
    }
  }
  if (file.Exists("spot_pixel"))
  {
    const auto values = file.ReadDoubles("spot_pixel");
    for (std::size_t i = 0; i < n && 2 * i + 1 < values.size(); ++i)
    {
      positions[i] = { { values[2 * i], values[2 * i + 1] } };
    }
  }
  dataset->SetCorners(std::move(corners));

  auto spots = SpatialExpressionData::New();
  spots->SetSpots(std::move(barcodes), std::move(positions));
  if (file.Exists("counts/genes"))
  {
    std::vector<std::string> ids;
    if (file.Exists("counts/gene_ids"))
    {
      ids = file.ReadStrings("counts/gene_ids");
    }
    spots->SetGenes(file.ReadStrings("counts/genes"), ids);
    SparseCountMatrix counts;
    const auto        shapeValues = file.ReadIntegers("counts/shape");
    counts.Rows = static_cast<std::size_t>(shapeValues.at(0));
    counts.Columns = static_cast<std::size_t>(shapeValues.at(1));
    const auto indices = file.ReadIntegers("counts/indices");
    const auto indptr = file.ReadIntegers("counts/indptr");
    counts.ColumnIndex.assign(indices.begin(), indices.end());
    counts.RowStart.assign(indptr.begin(), indptr.end());
    counts.Values = file.ReadFloats("counts/data");
    spots->SetCounts(std::move(counts));
  }
  if (file.Exists("expression"))
  {
    if (!file.HasAttribute("/", "preprocessing"))
    {
      itkGenericExceptionMacro(<< fileName << " has expression values but no preprocessing attribute");
    }
    auto preprocessing = GenePreprocessing::FromJSON(file.ReadStringAttribute("/", "preprocessing"));
    if (file.Exists("genes") && file.ReadStrings("genes") != preprocessing.Genes)
    {
      itkGenericExceptionMacro(<< fileName << ": \"genes\" disagrees with the preprocessing's gene list");
    }
    spots->SetExpression(preprocessing, file.ReadFloats("expression"));
  }
  if (file.Exists("split"))
  {
    const auto values = file.ReadIntegers("split");
    spots->SetSplit(std::vector<std::uint8_t>(values.begin(), values.end()));
  }
  if (file.HasAttribute("/", "slide_pixel_size_um"))
  {
    spots->SetPixelSize(file.ReadDoubleAttribute("/", "slide_pixel_size_um")[0]);
  }
  try
  {
    if (file.HasAttribute("/", "metadata"))
    {
      // Keep the parsed document alive for the loop: items() only refers to it.
      const auto metadata = nlohmann::json::parse(file.ReadStringAttribute("/", "metadata"));
      for (const auto & item : metadata.items())
      {
        spots->SetMetadata(item.key(), item.value().get<std::string>());
      }
    }
    if (file.HasAttribute("/", "padded_spots"))
    {
      dataset->SetPaddedSpots(
        nlohmann::json::parse(file.ReadStringAttribute("/", "padded_spots")).get<std::vector<std::string>>());
    }
  }
  catch (const nlohmann::json::exception & e)
  {
    itkGenericExceptionMacro(<< fileName << " has malformed metadata: " << e.what());
  }
  if (file.HasAttribute("/", "patch_size_um"))
  {
    dataset->SetPatchSizeMicrometres(file.ReadDoubleAttribute("/", "patch_size_um")[0]);
  }
  if (file.HasAttribute("/", "slide"))
  {
    dataset->SetSlideFileName(file.ReadStringAttribute("/", "slide"));
  }
  dataset->SetSpots(spots);
  dataset->Validate();
  return dataset;
}

void
SpotPatchDataset::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Patches: " << GetNumberOfPatches() << " of "
     << (m_Patches ? m_Patches->GetLargestPossibleRegion().GetSize(0) : 0) << " px at " << GetPixelSize() << " um/px"
     << std::endl;
  os << indent << "Spots: " << (m_Spots ? m_Spots->GetNumberOfSpots() : 0) << std::endl;
  os << indent << "Corners: " << m_Corners.size() << std::endl;
  os << indent << "PatchSizeMicrometres: " << m_PatchSizeMicrometres << std::endl;
  os << indent << "SlideFileName: " << m_SlideFileName << std::endl;
  os << indent << "PaddedSpots: " << m_PaddedSpots.size() << std::endl;
}

} // end namespace itk
