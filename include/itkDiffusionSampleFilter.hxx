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
#ifndef itkDiffusionSampleFilter_hxx
#define itkDiffusionSampleFilter_hxx

#include "itkDiffusionSampleFilter.h"

#include "itkImageRegionIterator.h"
#include "itkMath.h"
#include "itkReadableFile.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace itk
{

template <typename TOutputImage>
void
DiffusionSampleFilter<TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_Model.IsNull() && m_ModelFileName.empty())
  {
    itkExceptionMacro(<< "No model: set ModelFileName (a .safetensors file or a diffusers folder) or a Model");
  }
  // A folder is a diffusers model (DiffusionModel::Load says what it lacks); anything else must be a
  // readable file, checked without opening it (a FIFO would block).
  if (m_Model.IsNull() && !std::filesystem::is_directory(m_ModelFileName))
  {
    const std::string problem = ReadableFileProblem(m_ModelFileName);
    if (!problem.empty())
    {
      itkExceptionMacro(<< "The model " << m_ModelFileName << " cannot be read: " << problem
                        << "; give a .safetensors file or a diffusers folder");
    }
  }
  if (m_Model.IsNotNull() && !m_Model->IsLoaded())
  {
    itkExceptionMacro(<< "The given Model is empty: load it first");
  }
  if (m_NumberOfSamples == 0 || m_BatchSize == 0 || m_NumberOfSteps == 0)
  {
    itkExceptionMacro(<< "NumberOfSamples, BatchSize and NumberOfSteps must be positive");
  }
  if (m_Sampler != "ddim" && m_Sampler != "ddpm" && m_Sampler != "dpmsolver++" && m_Sampler != "unipc")
  {
    itkExceptionMacro(<< "Unknown sampler \"" << m_Sampler << "\": use ddim, ddpm, dpmsolver++ or unipc");
  }
  if (!(m_GuidanceScale >= 0.0))
  {
    itkExceptionMacro(<< "The guidance scale must be >= 0, got " << m_GuidanceScale);
  }
  try
  {
    DiffusionModel::VerifyDevice(m_Device);
  }
  catch (const ExceptionObject & e)
  {
    itkExceptionMacro(<< e.GetDescription());
  }
}

template <typename TOutputImage>
DiffusionModel *
DiffusionSampleFilter<TOutputImage>::ActiveModel()
{
  if (m_Model.IsNotNull())
  {
    return m_Model.GetPointer();
  }
  if (m_LoadedModel.IsNull() || m_LoadedModel->GetPath() != m_ModelFileName)
  {
    auto model = DiffusionModel::New();
    model->Load(m_ModelFileName);
    m_LoadedModel = model;
  }
  return m_LoadedModel.GetPointer();
}

template <typename TOutputImage>
void
DiffusionSampleFilter<TOutputImage>::GenerateOutputInformation()
{
  auto * model = this->ActiveModel();
  if (model->GetNumberOfChannels() != 3)
  {
    itkExceptionMacro(<< "The model makes " << model->GetNumberOfChannels()
                      << "-channel images; this filter writes RGB and needs 3");
  }
  // A local (gene-conditioned) model draws one patch per profile; a central one draws
  // NumberOfSamples and has nothing to guide.
  if (model->IsConditional())
  {
    const unsigned int genes = model->GetNumberOfGenes();
    if (m_ConditioningProfiles.empty() || m_ConditioningProfiles.cols() != genes)
    {
      itkExceptionMacro(<< "The local model samples for expression profiles of " << genes << " genes; set them with "
                        << "SetConditioningProfiles (profiles x genes; " << m_ConditioningProfiles.rows() << " x "
                        << m_ConditioningProfiles.cols() << " given)");
    }
  }
  else
  {
    if (m_GuidanceScale != 1.0)
    {
      itkExceptionMacro(<< "Classifier-free guidance (scale " << m_GuidanceScale
                        << ") needs a conditioning, which an unconditional model does not have: use guidance 1");
    }
    if (!m_ConditioningProfiles.empty())
    {
      itkExceptionMacro(<< "Expression profiles were given but the model is a central (unconditional) one; "
                           "give a local model from the adaptation");
    }
  }
  typename OutputImageType::SizeType size;
  size[0] = model->GetImageSize();
  size[1] = model->GetImageSize();
  size[2] = model->IsConditional() ? m_ConditioningProfiles.rows() : m_NumberOfSamples;
  typename OutputImageType::RegionType region;
  region.SetSize(size);
  auto * output = this->GetOutput();
  output->SetLargestPossibleRegion(region);
  typename OutputImageType::SpacingType spacing;
  spacing.Fill(1.0);
  output->SetSpacing(spacing);
  typename OutputImageType::PointType origin;
  origin.Fill(0.0);
  output->SetOrigin(origin);
  typename OutputImageType::DirectionType direction;
  direction.SetIdentity();
  output->SetDirection(direction);
}

template <typename TOutputImage>
void
DiffusionSampleFilter<TOutputImage>::GenerateData()
{
  auto * output = this->GetOutput();
  output->SetBufferedRegion(output->GetRequestedRegion());
  output->Allocate();

  DiffusionModel::SampleRequest request;
  request.NumberOfSamples = m_NumberOfSamples;
  request.BatchSize = m_BatchSize;
  request.NumberOfSteps = m_NumberOfSteps;
  request.Eta = m_Eta;
  request.GuidanceScale = m_GuidanceScale;
  request.Seed = m_Seed;
  request.Device = m_Device;
  request.Sampler = m_Sampler;
  request.NumberOfThreads = m_NumberOfTorchThreads;
  request.Conditions.assign(m_ConditioningProfiles.begin(), m_ConditioningProfiles.end());
  request.GeneDropout = m_GeneDropout;

  this->UpdateProgress(0.0f);
  const auto values = this->ActiveModel()->Sample(request, [this](std::int64_t done, std::int64_t total) {
    if (this->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription("DiffusionSampleFilter was aborted");
      throw aborted;
    }
    this->UpdateProgress(static_cast<float>(done) / static_cast<float>(total));
  });

  // Tensor [N, C, H, W] -> ITK index (x = column, y = row, z = patch): the axis order reverses.
  const auto                           largest = output->GetLargestPossibleRegion().GetSize();
  const SizeValueType                  side = largest[0];
  ImageRegionIterator<OutputImageType> it(output, output->GetRequestedRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const auto          index = it.GetIndex();
    const SizeValueType base = static_cast<SizeValueType>(index[2]) * 3 * side * side +
                               static_cast<SizeValueType>(index[1]) * side + static_cast<SizeValueType>(index[0]);
    OutputPixelType pixel;
    for (unsigned int c = 0; c < 3; ++c)
    {
      const double scaled = std::round((static_cast<double>(values[base + c * side * side]) + 1.0) * 127.5);
      pixel[c] = static_cast<unsigned char>(std::min(255.0, std::max(0.0, scaled)));
    }
    it.Set(pixel);
  }
  this->UpdateProgress(1.0f);
}

template <typename TOutputImage>
void
DiffusionSampleFilter<TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "ModelFileName: " << m_ModelFileName << std::endl;
  os << indent << "Model: " << (m_Model.IsNotNull() ? "set" : "none") << std::endl;
  if (m_Model.IsNotNull())
  {
    m_Model->Print(os, indent.GetNextIndent());
  }
  os << indent << "LoadedModel: " << (m_LoadedModel.IsNotNull() ? m_LoadedModel->GetPath() : std::string("none"))
     << std::endl;
  os << indent << "NumberOfSamples: " << m_NumberOfSamples << std::endl;
  os << indent << "BatchSize: " << m_BatchSize << std::endl;
  os << indent << "NumberOfSteps: " << m_NumberOfSteps << std::endl;
  os << indent << "Eta: " << m_Eta << std::endl;
  os << indent << "GuidanceScale: " << m_GuidanceScale << std::endl;
  os << indent << "Seed: " << m_Seed << std::endl;
  os << indent << "Device: " << m_Device << std::endl;
  os << indent << "Sampler: " << m_Sampler << std::endl;
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
  os << indent << "ConditioningProfiles: " << m_ConditioningProfiles.rows() << " x " << m_ConditioningProfiles.cols()
     << std::endl;
  os << indent << "GeneDropout: " << m_GeneDropout << std::endl;
}

template <typename TOutputImage>
void
DiffusionSampleFilter<TOutputImage>::SetConditioningProfiles(const Array2D<double> & profiles)
{
  if (profiles.rows() != m_ConditioningProfiles.rows() || profiles.cols() != m_ConditioningProfiles.cols() ||
      profiles != m_ConditioningProfiles)
  {
    m_ConditioningProfiles = profiles;
    this->Modified();
  }
}

} // namespace itk

#endif
