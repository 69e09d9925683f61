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
#include "itkSpatialExpressionData.h"
#include "itkSeededPermutation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_set>

namespace itk
{

void
SpatialExpressionData::SetSpots(std::vector<std::string> ids, std::vector<PositionType> pixelPositions)
{
  if (ids.size() != pixelPositions.size())
  {
    itkExceptionMacro(<< ids.size() << " spot ids but " << pixelPositions.size() << " positions");
  }
  std::unordered_set<std::string> seen;
  for (const auto & id : ids)
  {
    if (!seen.insert(id).second)
    {
      itkExceptionMacro(<< "The spot id \"" << id << "\" appears twice; spot ids must be unique");
    }
  }
  for (std::size_t i = 0; i < pixelPositions.size(); ++i)
  {
    if (!std::isfinite(pixelPositions[i][0]) || !std::isfinite(pixelPositions[i][1]))
    {
      itkExceptionMacro(<< "The position of spot \"" << ids[i] << "\" is not finite");
    }
  }
  m_SpotIds = std::move(ids);
  m_PixelPositions = std::move(pixelPositions);
  this->Modified();
}

void
SpatialExpressionData::SetGenes(std::vector<std::string> names, std::vector<std::string> ids)
{
  if (!ids.empty() && ids.size() != names.size())
  {
    itkExceptionMacro(<< names.size() << " gene names but " << ids.size() << " gene ids");
  }
  ids.resize(names.size());
  m_GeneNames = std::move(names);
  m_GeneIds = std::move(ids);
  this->Modified();
}

void
SpatialExpressionData::SetCounts(SparseCountMatrix counts)
{
  if (counts.Rows != m_SpotIds.size() || counts.Columns != m_GeneNames.size())
  {
    itkExceptionMacro(<< "The counts are " << counts.Rows << " spots x " << counts.Columns
                      << " genes, but the data has " << m_SpotIds.size() << " spots and " << m_GeneNames.size()
                      << " genes");
  }
  counts.Validate();
  m_Counts = std::move(counts);
  this->Modified();
}

void
SpatialExpressionData::Preprocess(const GenePreprocessingSettings & settings)
{
  ApplyPreprocessing(GenePreprocessing::Fit(m_GeneNames, m_Counts, settings, GetSpotIndices(true)));
}

void
SpatialExpressionData::ApplyPreprocessing(const GenePreprocessing & preprocessing)
{
  m_Expression = preprocessing.Apply(m_GeneNames, m_Counts);
  m_Preprocessing = preprocessing;
  this->Modified();
}

void
SpatialExpressionData::SetExpression(const GenePreprocessing & preprocessing, std::vector<float> expression)
{
  if (expression.size() != m_SpotIds.size() * preprocessing.Genes.size())
  {
    itkExceptionMacro(<< "The expression has " << expression.size() << " values; " << m_SpotIds.size() << " spots x "
                      << preprocessing.Genes.size() << " genes need " << m_SpotIds.size() * preprocessing.Genes.size());
  }
  for (const float v : expression)
  {
    if (!std::isfinite(v))
    {
      itkExceptionMacro(<< "The expression holds a non-finite value (NaN or infinity)");
    }
  }
  m_Preprocessing = preprocessing;
  m_Expression = std::move(expression);
  this->Modified();
}

void
SpatialExpressionData::SetSplit(std::vector<std::uint8_t> split)
{
  if (!split.empty() && split.size() != m_SpotIds.size())
  {
    itkExceptionMacro(<< "The split has " << split.size() << " entries for " << m_SpotIds.size() << " spots");
  }
  m_Split = std::move(split);
  this->Modified();
}

std::vector<std::uint8_t>
SpatialExpressionData::RandomSplit(std::size_t n, double fraction, std::uint32_t seed)
{
  const auto training = static_cast<std::size_t>(std::llround(fraction * n));
  if (!(fraction > 0.0 && fraction < 1.0) || training == 0 || training == n)
  {
    itkGenericExceptionMacro(<< "A split of " << n << " spots at fraction " << fraction
                             << " leaves no training or no test spot; choose a fraction in (0, 1) that keeps both");
  }
  const auto                order = SeededPermutation(n, seed);
  std::vector<std::uint8_t> split(n, 0);
  for (std::size_t k = 0; k < training; ++k)
  {
    split[order[k]] = 1;
  }
  return split;
}

void
SpatialExpressionData::MakeRandomSplit(double fraction, std::uint32_t seed)
{
  auto split = SpatialExpressionData::RandomSplit(m_SpotIds.size(), fraction, seed);
  SetSplit(std::move(split));
  SetMetadata("split_fraction", std::to_string(fraction));
  SetMetadata("split_seed", std::to_string(seed));
}

std::vector<std::size_t>
SpatialExpressionData::GetSpotIndices(bool training) const
{
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < m_SpotIds.size(); ++i)
  {
    if (m_Split.empty() || (m_Split[i] != 0) == training)
    {
      indices.push_back(i);
    }
  }
  return indices;
}

void
SpatialExpressionData::Graft(const DataObject * data)
{
  const auto * other = dynamic_cast<const Self *>(data);
  if (other == nullptr)
  {
    itkExceptionMacro(<< "Cannot graft a " << (data ? data->GetNameOfClass() : "null object")
                      << " onto a SpatialExpressionData");
  }
  Superclass::Graft(data);
  m_SpotIds = other->m_SpotIds;
  m_PixelPositions = other->m_PixelPositions;
  m_PixelSize = other->m_PixelSize;
  m_GeneNames = other->m_GeneNames;
  m_GeneIds = other->m_GeneIds;
  m_Counts = other->m_Counts;
  m_Preprocessing = other->m_Preprocessing;
  m_Expression = other->m_Expression;
  m_Split = other->m_Split;
  m_Metadata = other->m_Metadata;
  this->Modified();
}

auto
SpatialExpressionData::SelectSpots(const std::vector<std::size_t> & indices) const -> Pointer
{
  auto                      result = Self::New();
  std::vector<std::string>  ids;
  std::vector<PositionType> positions;
  std::vector<std::uint8_t> split;
  std::vector<float>        expression;
  const std::size_t         g = m_Preprocessing.Genes.size();
  for (const auto i : indices)
  {
    if (i >= m_SpotIds.size())
    {
      itkExceptionMacro(<< "Spot index " << i << " is out of range (" << m_SpotIds.size() << " spots)");
    }
    ids.push_back(m_SpotIds[i]);
    positions.push_back(m_PixelPositions[i]);
    if (!m_Split.empty())
    {
      split.push_back(m_Split[i]);
    }
    if (!m_Expression.empty())
    {
      expression.insert(expression.end(), m_Expression.begin() + i * g, m_Expression.begin() + (i + 1) * g);
    }
  }
  result->SetSpots(std::move(ids), std::move(positions));
  result->SetPixelSize(m_PixelSize);
  result->SetGenes(m_GeneNames, m_GeneIds);
  if (m_Counts.Rows == m_SpotIds.size())
  {
    result->SetCounts(m_Counts.SelectRows(indices));
  }
  if (!m_Expression.empty())
  {
    result->SetExpression(m_Preprocessing, std::move(expression));
  }
  result->SetSplit(std::move(split));
  for (const auto & entry : m_Metadata)
  {
    result->SetMetadata(entry.first, entry.second);
  }
  return result;
}

void
SpatialExpressionData::SetMetadata(const std::string & key, const std::string & value)
{
  m_Metadata[key] = value;
  this->Modified();
}

std::string
SpatialExpressionData::GetMetadata(const std::string & key) const
{
  const auto found = m_Metadata.find(key);
  return found == m_Metadata.end() ? std::string() : found->second;
}

void
SpatialExpressionData::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Spots: " << m_SpotIds.size() << (m_SpotIds.empty() ? "" : " (first \"" + m_SpotIds[0] + "\")")
     << std::endl;
  os << indent << "PixelPositions: " << m_PixelPositions.size() << std::endl;
  os << indent << "PixelSize (um): " << m_PixelSize << std::endl;
  os << indent << "Genes: " << m_GeneNames.size() << (m_GeneNames.empty() ? "" : " (first \"" + m_GeneNames[0] + "\")")
     << std::endl;
  os << indent << "GeneIds: " << m_GeneIds.size() << std::endl;
  os << indent << "Counts: " << m_Counts.Rows << " x " << m_Counts.Columns << ", " << m_Counts.NumberOfNonZeros()
     << " non-zeros" << std::endl;
  os << indent << "Preprocessing: " << m_Preprocessing.Genes.size() << " genes, target sum "
     << m_Preprocessing.TargetSum << ", log1p " << m_Preprocessing.Log1p << ", standardize "
     << m_Preprocessing.Standardize << std::endl;
  os << indent << "Expression: " << m_Expression.size() << " values" << std::endl;
  os << indent << "Split: " << std::count(m_Split.begin(), m_Split.end(), 1) << " training of " << m_Split.size()
     << std::endl;
  for (const auto & entry : m_Metadata)
  {
    os << indent << "Metadata[" << entry.first << "]: " << entry.second << std::endl;
  }
}

} // end namespace itk
