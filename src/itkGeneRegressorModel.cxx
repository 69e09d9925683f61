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
#include "itkGeneRegressorModel.h"

#include "itkGeneRegressorModelInternals.h"

#include "itkMacro.h"

namespace itk
{

GeneRegressorModel::GeneRegressorModel() = default;

GeneRegressorModel::~GeneRegressorModel() = default;

void
GeneRegressorModel::Load(const std::string & fileName)
{
  try
  {
    auto internals = std::make_unique<Internals>();
    internals->network = regression::LoadRegressor(fileName, internals->metadata);
    m_Internals = std::move(internals);
    m_Path = fileName;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Cannot load the gene regressor " << fileName << ": " << e.what());
  }
  this->Modified();
}

void
GeneRegressorModel::Save(const std::string & fileName) const
{
  if (!IsLoaded())
  {
    itkExceptionMacro(<< "No regressor to save: load or train one first");
  }
  try
  {
    regression::SaveRegressor(fileName, m_Internals->network, m_Internals->metadata);
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Cannot save the gene regressor to " << fileName << ": " << e.what());
  }
}

bool
GeneRegressorModel::IsLoaded() const
{
  return m_Internals != nullptr;
}

unsigned int
GeneRegressorModel::GetDepth() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->metadata.config.depth) : 0;
}

unsigned int
GeneRegressorModel::GetImageSize() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->metadata.imageSize) : 0;
}

std::vector<std::string>
GeneRegressorModel::GetGenes() const
{
  return IsLoaded() ? m_Internals->metadata.genes : std::vector<std::string>{};
}

unsigned int
GeneRegressorModel::GetNumberOfGenes() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->metadata.genes.size()) : 0;
}

std::string
GeneRegressorModel::GetGenePreprocessing() const
{
  return IsLoaded() ? m_Internals->metadata.preprocessing : std::string();
}

std::string
GeneRegressorModel::GetTrainingSummary() const
{
  return IsLoaded() ? m_Internals->metadata.training : std::string();
}

std::size_t
GeneRegressorModel::GetNumberOfParameters() const
{
  std::size_t count = 0;
  if (IsLoaded())
  {
    for (const auto & parameter : m_Internals->network->parameters())
    {
      count += static_cast<std::size_t>(parameter.numel());
    }
  }
  return count;
}

unsigned int
GeneRegressorModel::GetNumberOfFeatures() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->network->NumberOfFeatures()) : 0;
}

void
GeneRegressorModel::Initialize()
{
  Superclass::Initialize();
  m_Internals.reset();
  m_Path.clear();
}

void
GeneRegressorModel::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Path: " << m_Path << std::endl;
  os << indent << "Loaded: " << IsLoaded() << std::endl;
  if (IsLoaded())
  {
    os << indent << "Depth: " << GetDepth() << std::endl;
    os << indent << "ImageSize: " << GetImageSize() << std::endl;
    os << indent << "NumberOfGenes: " << GetNumberOfGenes() << std::endl;
    os << indent << "NumberOfParameters: " << GetNumberOfParameters() << std::endl;
    os << indent << "TrainingSummary: " << GetTrainingSummary() << std::endl;
  }
}

} // end namespace itk
