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
#include "itkSpatialDataReader.h"

#include "itkMacro.h"

#include <filesystem>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

/** The one table file in \p folder (.tsv, .csv, possibly .gz). */
std::string
SingleTable(const fs::path & folder)
{
  std::vector<std::string> tables;
  for (const auto & entry : fs::directory_iterator(folder))
  {
    const std::string name = entry.path().filename().string();
    for (const char * suffix : { ".tsv", ".csv", ".tsv.gz", ".csv.gz", ".txt", ".txt.gz" })
    {
      const std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      {
        tables.push_back(entry.path().string());
        break;
      }
    }
  }
  if (tables.size() != 1)
  {
    itkGenericExceptionMacro(<< folder.string() << " holds " << tables.size()
                             << " tables (.tsv/.csv[.gz]); it must hold exactly one");
  }
  return tables.front();
}
} // namespace

SpatialDataFormat
SpatialDataReader::DetectFormat(const std::string & pathName)
{
  const fs::path path(pathName);
  if (!fs::exists(path))
  {
    itkGenericExceptionMacro(<< "No such file or folder: " << pathName);
  }
  if (fs::is_regular_file(path))
  {
    if (path.extension() == ".h5ad")
    {
      return SpatialDataFormat::AnnData;
    }
    itkGenericExceptionMacro(<< pathName
                             << " is a file but not an .h5ad; give a Visium outs/ folder, an .h5ad, a HEST "
                                "sample folder, or a folder with counts/ and spots/ tables");
  }
  if (fs::exists(path / "filtered_feature_bc_matrix.h5") || fs::exists(path / "filtered_feature_bc_matrix") ||
      fs::exists(path / "outs" / "spatial"))
  {
    return SpatialDataFormat::VisiumOuts;
  }
  if (fs::is_directory(path / "st"))
  {
    return SpatialDataFormat::HESTSample;
  }
  if (fs::is_directory(path / "counts") && fs::is_directory(path / "spots"))
  {
    return SpatialDataFormat::CountTable;
  }
  itkGenericExceptionMacro(<< pathName
                           << " is not a Visium outs/ folder (filtered_feature_bc_matrix.h5), a HEST "
                              "sample folder (st/), or a folder with counts/ and spots/ tables");
}

SpatialExpressionData::Pointer
SpatialDataReader::Read(const std::string & path)
{
  switch (SpatialDataReader::DetectFormat(path))
  {
    case SpatialDataFormat::VisiumOuts:
      return SpatialDataReader::ReadVisiumOuts(path);
    case SpatialDataFormat::AnnData:
      return SpatialDataReader::ReadAnnData(path);
    case SpatialDataFormat::HESTSample:
      return SpatialDataReader::ReadHESTSample(path);
    case SpatialDataFormat::CountTable:
      return SpatialDataReader::ReadCountTable(SingleTable(fs::path(path) / "counts"),
                                               SingleTable(fs::path(path) / "spots"));
  }
  return nullptr;
}

SpatialDataReader::SpatialDataReader()
{
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

ProcessObject::DataObjectPointer
SpatialDataReader::MakeOutput(DataObjectPointerArraySizeType)
{
  return SpatialExpressionData::New().GetPointer();
}

SpatialExpressionData *
SpatialDataReader::GetOutput()
{
  return static_cast<SpatialExpressionData *>(this->ProcessObject::GetOutput(0));
}

void
SpatialDataReader::GenerateData()
{
  if (m_FileName.empty())
  {
    itkExceptionMacro(<< "No FileName to read spots from; set a Visium outs/ folder, an .h5ad, a HEST sample "
                         "folder or a folder with counts/ and spots/ tables");
  }
  const SpatialDataFormat format = DetectFormat(m_FileName);
  if (!m_SampleId.empty() && format != SpatialDataFormat::HESTSample)
  {
    itkExceptionMacro(<< "SampleId \"" << m_SampleId << "\" names a sample of a HEST folder, but " << m_FileName
                      << " is read as " << format << "; leave SampleId empty");
  }
  const auto data = format == SpatialDataFormat::HESTSample ? ReadHESTSample(m_FileName, m_SampleId) : Read(m_FileName);
  m_Format = format;
  this->GetOutput()->Graft(data);
}

void
SpatialDataReader::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << m_FileName << std::endl;
  os << indent << "SampleId: " << m_SampleId << std::endl;
  os << indent << "Format: " << m_Format << std::endl;
}

std::ostream &
operator<<(std::ostream & os, SpatialDataFormat format)
{
  switch (format)
  {
    case SpatialDataFormat::VisiumOuts:
      return os << "visium";
    case SpatialDataFormat::AnnData:
      return os << "anndata";
    case SpatialDataFormat::HESTSample:
      return os << "hest";
    case SpatialDataFormat::CountTable:
      return os << "count-table";
  }
  return os << "unknown";
}

} // end namespace itk
