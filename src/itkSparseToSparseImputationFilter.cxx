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
#include "itkSparseToSparseImputationFilter.h"

#include "itkDiffusionModel.h"
#include "itkTorchDevice.h"
#include "itkSparseImputationTrainer.h"

#include "itkImageFileReader.h"
#include "itkImageIOFactory.h"
#include "spatial/itkImageIORegistration.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace itk
{

SparseToSparseImputationFilter::SparseToSparseImputationFilter()
{
  this->SetNumberOfRequiredInputs(2);
}

void
SparseToSparseImputationFilter::SetMeasuredMask(const GridMaskType * mask)
{
  this->ProcessObject::SetNthInput(1, const_cast<GridMaskType *>(mask));
}

const GridMaskType *
SparseToSparseImputationFilter::GetMeasuredMask() const
{
  return dynamic_cast<const GridMaskType *>(this->ProcessObject::GetInput(1));
}

void
SparseToSparseImputationFilter::SetTargetMask(const GridMaskType * mask)
{
  this->ProcessObject::SetNthInput(2, const_cast<GridMaskType *>(mask));
}

const GridMaskType *
SparseToSparseImputationFilter::GetTargetMask() const
{
  return this->GetNumberOfIndexedInputs() > 2 ? dynamic_cast<const GridMaskType *>(this->ProcessObject::GetInput(2))
                                              : nullptr;
}

void
SparseToSparseImputationFilter::SetNaturalImages(std::vector<NaturalImageType::ConstPointer> images)
{
  m_NaturalImages = std::move(images);
  this->Modified();
}

std::vector<SparseToSparseImputationFilter::NaturalImageType::ConstPointer>
SparseToSparseImputationFilter::ReadNaturalImages(const std::string & folder)
{
  namespace fs = std::filesystem;
  if (!fs::is_directory(folder))
  {
    itkGenericExceptionMacro(<< "The natural-image folder " << folder << " is not a folder");
  }
  RegisterSpatialTranscriptomicsImageIO();
  std::vector<fs::path> files;
  for (const auto & entry : fs::directory_iterator(folder))
  {
    if (entry.is_regular_file() &&
        ImageIOFactory::CreateImageIO(entry.path().string().c_str(), ImageIOFactory::IOFileModeEnum::ReadMode))
    {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
  {
    itkGenericExceptionMacro(<< "The natural-image folder " << folder
                             << " holds no image ITK can read (PNG, JPEG, TIFF, ...)");
  }
  std::vector<NaturalImageType::ConstPointer> images;
  for (const auto & file : files)
  {
    // Read as 8-bit grayscale (ITK converts colour to luminance), then scale to [0, 1].
    using ByteImageType = Image<unsigned char, 2>;
    auto reader = ImageFileReader<ByteImageType>::New();
    reader->SetFileName(file.string());
    reader->Update();
    const ByteImageType * bytes = reader->GetOutput();
    auto                  image = NaturalImageType::New();
    image->SetRegions(bytes->GetLargestPossibleRegion());
    image->Allocate();
    const std::size_t count = bytes->GetLargestPossibleRegion().GetNumberOfPixels();
    std::transform(bytes->GetBufferPointer(),
                   bytes->GetBufferPointer() + count,
                   image->GetBufferPointer(),
                   [](unsigned char v) { return static_cast<float>(v) / 255.0f; });
    images.emplace_back(image.GetPointer());
  }
  return images;
}

void
SparseToSparseImputationFilter::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  const auto * values = this->GetInput();
  const auto * measured = this->GetMeasuredMask();
  if (measured == nullptr)
  {
    itkExceptionMacro(<< "Set the measured mask: 1 where a value was measured");
  }
  const auto size = values->GetLargestPossibleRegion().GetSize();
  if (measured->GetLargestPossibleRegion().GetSize() != size ||
      (this->GetTargetMask() != nullptr && this->GetTargetMask()->GetLargestPossibleRegion().GetSize() != size))
  {
    itkExceptionMacro(<< "The measured and target masks must have the gene image's size (" << size[0] << " x "
                      << size[1] << ")");
  }
  if (values->GetNumberOfComponentsPerPixel() == 0)
  {
    itkExceptionMacro(<< "The gene image has no genes (components)");
  }
  if (m_NumberOfStages == 0 || m_Width == 0 || m_DenseBlocks == 0 || m_DenseLayers == 0 || m_GrowthRate == 0 ||
      m_AttentionWindow == 0 || m_AttentionHeads == 0 || m_NumberOfSteps == 0 || m_BatchSize == 0 ||
      !(m_LearningRate > 0.0))
  {
    itkExceptionMacro(<< "Stages, width, dense blocks and layers, growth rate, attention window and heads, steps, "
                         "batch size and learning rate must be positive");
  }
  if (m_Width % m_AttentionHeads != 0)
  {
    itkExceptionMacro(<< "The width (" << m_Width << ") must be a multiple of the attention heads (" << m_AttentionHeads
                      << ")");
  }
  if (m_SubsamplingRate < 0.0 || m_SubsamplingRate >= 1.0)
  {
    itkExceptionMacro(<< "The subsampling rate must lie in [0, 1) (0: automatic), not " << m_SubsamplingRate);
  }
  DiffusionModel::VerifyDevice(m_Device);
}

void
SparseToSparseImputationFilter::GenerateInputRequestedRegion()
{
  // Training reads the whole section: every input is needed entire.
  for (unsigned int i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    if (auto * input = dynamic_cast<ImageBase<2> *>(this->ProcessObject::GetInput(i)))
    {
      input->SetRequestedRegionToLargestPossibleRegion();
    }
  }
}

void
SparseToSparseImputationFilter::EnlargeOutputRequestedRegion(DataObject * output)
{
  output->SetRequestedRegionToLargestPossibleRegion();
}

void
SparseToSparseImputationFilter::GenerateData()
{
  const GeneImageType * input = this->GetInput();
  const GridMaskType *  measured = this->GetMeasuredMask();
  const GridMaskType *  target = this->GetTargetMask();
  const auto            size = input->GetLargestPossibleRegion().GetSize();
  const std::size_t     genes = input->GetNumberOfComponentsPerPixel();
  const std::size_t     positions = size[0] * size[1];

  imputation::GridSection section;
  section.genes = static_cast<std::int64_t>(genes);
  section.rows = static_cast<std::int64_t>(size[1]);
  section.columns = static_cast<std::int64_t>(size[0]);
  section.measured.assign(measured->GetBufferPointer(), measured->GetBufferPointer() + positions);
  if (target != nullptr)
  {
    section.target.assign(target->GetBufferPointer(), target->GetBufferPointer() + positions);
  }
  // Planar copy (genes x rows x columns) of the measured values only: nothing unmeasured is read.
  section.values.assign(genes * positions, 0.0f);
  const float * interleaved = input->GetBufferPointer();
  for (std::size_t p = 0; p < positions; ++p)
  {
    if (section.measured[p] != 0)
    {
      for (std::size_t gene = 0; gene < genes; ++gene)
      {
        section.values[gene * positions + p] = interleaved[p * genes + gene];
      }
    }
  }
  std::vector<imputation::NaturalImage> natural;
  for (const auto & image : m_NaturalImages)
  {
    if (image.IsNull())
    {
      itkExceptionMacro(<< "A natural image is null");
    }
    const auto               imageSize = image->GetLargestPossibleRegion().GetSize();
    imputation::NaturalImage copy;
    copy.columns = static_cast<std::int64_t>(imageSize[0]);
    copy.rows = static_cast<std::int64_t>(imageSize[1]);
    copy.values.assign(image->GetBufferPointer(), image->GetBufferPointer() + imageSize[0] * imageSize[1]);
    natural.push_back(std::move(copy));
  }

  imputation::SparseImputationOptions options;
  options.network.stages = m_NumberOfStages;
  options.network.width = m_Width;
  options.network.denseBlocks = m_DenseBlocks;
  options.network.denseLayers = m_DenseLayers;
  options.network.growth = m_GrowthRate;
  options.network.attentionWindow = m_AttentionWindow;
  options.network.attentionHeads = m_AttentionHeads;
  options.steps = m_NumberOfSteps;
  options.batchSize = m_BatchSize;
  options.cropSize = m_CropSize;
  options.learningRate = m_LearningRate;
  options.naturalBatchSize = m_NaturalBatchSize;
  options.naturalImageWeight = m_NaturalImageWeight;
  options.modelPerGene = m_ModelPerGene;
  options.seed = m_Seed;
  options.device = torchcore::ResolveDevice(m_Device).str();
  options.subsamplingRate = m_SubsamplingRate;

  imputation::ImputationResult result;
  try
  {
    if (m_NumberOfThreads > 0)
    {
      torchcore::SetTorchThreads(static_cast<int>(m_NumberOfThreads));
    }
    result =
      imputation::TrainAndImpute(section, natural, options, [this](std::int64_t step, std::int64_t total, double) {
        this->UpdateProgress(static_cast<float>(step) / static_cast<float>(total));
        return !this->GetAbortGenerateData();
      });
  }
  catch (const std::invalid_argument & e)
  {
    itkExceptionMacro(<< e.what());
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "S2S-ST imputation failed: " << e.what());
  }
  if (result.aborted)
  {
    ProcessAborted aborted(__FILE__, __LINE__);
    aborted.SetDescription("S2S-ST imputation aborted");
    throw aborted;
  }
  m_FinalLoss = result.finalLoss;
  m_LatticeMode = result.latticeMode;

  GeneImageType * output = this->GetOutput();
  output->SetBufferedRegion(output->GetRequestedRegion());
  output->SetNumberOfComponentsPerPixel(static_cast<unsigned int>(genes));
  output->Allocate();
  float * out = output->GetBufferPointer();
  for (std::size_t p = 0; p < positions; ++p)
  {
    for (std::size_t gene = 0; gene < genes; ++gene)
    {
      // Measured positions keep the input's float exactly.
      out[p * genes + gene] =
        section.measured[p] != 0 ? interleaved[p * genes + gene] : result.values[gene * positions + p];
    }
  }
}

void
SparseToSparseImputationFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "NaturalImages: " << m_NaturalImages.size() << std::endl;
  os << indent << "NumberOfStages: " << m_NumberOfStages << std::endl;
  os << indent << "Width: " << m_Width << std::endl;
  os << indent << "DenseBlocks: " << m_DenseBlocks << std::endl;
  os << indent << "DenseLayers: " << m_DenseLayers << std::endl;
  os << indent << "GrowthRate: " << m_GrowthRate << std::endl;
  os << indent << "AttentionWindow: " << m_AttentionWindow << std::endl;
  os << indent << "AttentionHeads: " << m_AttentionHeads << std::endl;
  os << indent << "NumberOfSteps: " << m_NumberOfSteps << std::endl;
  os << indent << "BatchSize: " << m_BatchSize << std::endl;
  os << indent << "CropSize: " << m_CropSize << std::endl;
  os << indent << "LearningRate: " << m_LearningRate << std::endl;
  os << indent << "NaturalBatchSize: " << m_NaturalBatchSize << std::endl;
  os << indent << "NaturalImageWeight: " << m_NaturalImageWeight << std::endl;
  os << indent << "SubsamplingRate: " << m_SubsamplingRate << std::endl;
  os << indent << "ModelPerGene: " << (m_ModelPerGene ? "On" : "Off") << std::endl;
  os << indent << "Seed: " << m_Seed << std::endl;
  os << indent << "Device: " << m_Device << std::endl;
  os << indent << "NumberOfThreads: " << m_NumberOfThreads << std::endl;
  os << indent << "FinalLoss: " << m_FinalLoss << std::endl;
  os << indent << "LatticeMode: " << (m_LatticeMode ? "true" : "false") << std::endl;
}

} // end namespace itk
