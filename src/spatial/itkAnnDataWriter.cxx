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

#include "itkHDF5Support.h"

#include <set>

namespace itk
{
namespace
{
/** Every element carries its encoding, as anndata writes it. */
void
Encode(const hdf5::File & file, const std::string & object, const std::string & type, const std::string & version)
{
  file.WriteTextAttribute(object, "encoding-type", type);
  file.WriteTextAttribute(object, "encoding-version", version);
}

void
WriteArray(const hdf5::File & file, const std::string & name, const Array2D<double> & values)
{
  file.WriteFloats(name, std::vector<float>(values.begin(), values.end()), { values.rows(), values.cols() });
  Encode(file, name, "array", "0.2.0");
}

/** A data frame with an index and numeric columns (obs, var). */
void
WriteIndexFrame(const hdf5::File & file, const std::string & name, const std::vector<std::string> & index,
                const std::map<std::string, std::vector<double>> & columns = {})
{
  file.CreateGroup(name);
  Encode(file, name, "dataframe", "0.2.0");
  file.WriteTextAttribute(name, "_index", "_index");
  std::vector<std::string> order;
  for (const auto & column : columns)
  {
    order.push_back(column.first);
  }
  file.WriteTextArrayAttribute(name, "column-order", order);
  file.WriteTextStrings(name + "/_index", index, { index.size() });
  Encode(file, name + "/_index", "string-array", "0.2.0");
  for (const auto & column : columns)
  {
    file.WriteDoubles(name + "/" + column.first, column.second, { column.second.size() });
    Encode(file, name + "/" + column.first, "array", "0.2.0");
  }
}

void
RequireUnique(const std::vector<std::string> & names, const char * what)
{
  std::set<std::string> seen;
  for (const auto & name : names)
  {
    if (name.empty() || !seen.insert(name).second)
    {
      itkGenericExceptionMacro(<< "AnnDataWriter: the " << what << " must be named, each once; \"" << name << "\" is "
                               << (name.empty() ? "empty" : "repeated"));
    }
  }
}
} // namespace

void
AnnDataWriter::SetSpots(const std::vector<std::string> & ids, const std::vector<PositionType> & positions)
{
  m_SpotIds = ids;
  m_Positions = positions;
  this->Modified();
}

void
AnnDataWriter::SetGenes(const std::vector<std::string> & genes)
{
  m_Genes = genes;
  this->Modified();
}

void
AnnDataWriter::SetValues(const Array2D<double> & values)
{
  m_Values = values;
  this->Modified();
}

void
AnnDataWriter::SetLayer(const std::string & name, const Array2D<double> & values)
{
  if (name.empty() || name.find('/') != std::string::npos)
  {
    itkExceptionMacro(<< "A layer needs a name without \"/\"; got \"" << name << "\"");
  }
  m_Layers[name] = values;
  this->Modified();
}

void
AnnDataWriter::SetSpotColumn(const std::string & name, const std::vector<double> & values)
{
  if (name.empty() || name.find('/') != std::string::npos || name == "_index")
  {
    itkExceptionMacro(<< "An obs column needs a name without \"/\" other than _index; got \"" << name << "\"");
  }
  m_SpotColumns[name] = values;
  this->Modified();
}

void
AnnDataWriter::SetText(const std::string & key, const std::string & text)
{
  if (key.empty() || key.find('/') != std::string::npos)
  {
    itkExceptionMacro(<< "An uns entry needs a key without \"/\"; got \"" << key << "\"");
  }
  m_Texts[key] = text;
  this->Modified();
}

void
AnnDataWriter::Write()
{
  if (m_FileName.empty())
  {
    itkExceptionMacro(<< "No FileName to write the .h5ad to; set one");
  }
  if (m_SpotIds.empty() || m_Genes.empty())
  {
    itkExceptionMacro(<< "Nothing to write: set the spots (SetSpots) and the genes (SetGenes)");
  }
  if (m_Positions.size() != m_SpotIds.size())
  {
    itkExceptionMacro(<< m_SpotIds.size() << " spot ids but " << m_Positions.size()
                      << " positions; give one (x, y) per spot");
  }
  RequireUnique(m_SpotIds, "spots");
  RequireUnique(m_Genes, "genes");
  const auto hasShapeOfX = [this](const Array2D<double> & values) {
    return values.rows() == m_SpotIds.size() && values.cols() == m_Genes.size();
  };
  if (!hasShapeOfX(m_Values))
  {
    itkExceptionMacro(<< "X is " << m_Values.rows() << " x " << m_Values.cols() << ", not " << m_SpotIds.size()
                      << " spots x " << m_Genes.size() << " genes");
  }
  for (const auto & column : m_SpotColumns)
  {
    if (column.second.size() != m_SpotIds.size())
    {
      itkExceptionMacro(<< "The obs column \"" << column.first << "\" holds " << column.second.size() << " values for "
                        << m_SpotIds.size() << " spots; give one per spot");
    }
  }
  for (const auto & layer : m_Layers)
  {
    if (!hasShapeOfX(layer.second))
    {
      itkExceptionMacro(<< "The layer \"" << layer.first << "\" is " << layer.second.rows() << " x "
                        << layer.second.cols() << ", not " << m_SpotIds.size() << " spots x " << m_Genes.size()
                        << " genes");
    }
  }

  const auto          file = hdf5::File::CreateInMemory(m_FileName);
  const hsize_t       spots = m_SpotIds.size();
  std::vector<double> spatial;
  for (const auto & p : m_Positions)
  {
    spatial.insert(spatial.end(), { p[0], p[1] });
  }
  Encode(file, "/", "anndata", "0.1.0");
  WriteArray(file, "X", m_Values);
  WriteIndexFrame(file, "obs", m_SpotIds, m_SpotColumns);
  WriteIndexFrame(file, "var", m_Genes);
  for (const char * group : { "obsm", "layers", "uns", "varm", "obsp", "varp" })
  {
    file.CreateGroup(group);
    Encode(file, group, "dict", "0.1.0");
  }
  file.WriteDoubles("obsm/spatial", spatial, { spots, 2 });
  Encode(file, "obsm/spatial", "array", "0.2.0");
  for (const auto & layer : m_Layers)
  {
    WriteArray(file, "layers/" + layer.first, layer.second);
  }
  for (const auto & text : m_Texts)
  {
    file.WriteTextStrings("uns/" + text.first, { text.second }, {});
    Encode(file, "uns/" + text.first, "string", "0.2.0");
  }
  file.SaveAs(m_FileName, "the AnnData file");
}

void
AnnDataWriter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << m_FileName << std::endl;
  os << indent << "SpotIds: " << m_SpotIds.size() << " spots" << std::endl;
  os << indent << "Positions: " << m_Positions.size() << std::endl;
  os << indent << "Genes: " << m_Genes.size() << " genes" << std::endl;
  os << indent << "Values: " << m_Values.rows() << " x " << m_Values.cols() << std::endl;
  os << indent << "Layers:";
  for (const auto & layer : m_Layers)
  {
    os << ' ' << layer.first;
  }
  os << std::endl << indent << "SpotColumns:";
  for (const auto & column : m_SpotColumns)
  {
    os << ' ' << column.first;
  }
  os << std::endl << indent << "Texts:";
  for (const auto & text : m_Texts)
  {
    os << ' ' << text.first;
  }
  os << std::endl;
}

} // end namespace itk
