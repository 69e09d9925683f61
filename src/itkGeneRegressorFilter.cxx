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
#include "itkGeneRegressorFilter.h"

#include "itkTorchDevice.h"
#include "itkGenePreprocessing.h"
#include "itkGeneRegressorModelInternals.h"
#include "itkRegressorPrediction.h"

#include <cmath>

namespace itk
{

GeneRegressorFilter::GeneRegressorFilter()
{
  // The patches are required; the model is checked in VerifyPreconditions with a clearer message.
  this->SetNumberOfRequiredInputs(1);
  this->SetNumberOfRequiredOutputs(2);
  this->SetNthOutput(0, this->MakeOutput(0));
  this->SetNthOutput(1, this->MakeOutput(1));
}

DataObject::Pointer
GeneRegressorFilter::MakeOutput(DataObjectPointerArraySizeType)
{
  return MatrixObjectType::New().GetPointer();
}

void
GeneRegressorFilter::SetInput(const PatchStackType * patches)
{
  this->SetNthInput(0, const_cast<PatchStackType *>(patches));
}

const GeneRegressorFilter::PatchStackType *
GeneRegressorFilter::GetInput() const
{
  return dynamic_cast<const PatchStackType *>(this->ProcessObject::GetInput(0));
}

void
GeneRegressorFilter::SetModel(const GeneRegressorModel * model)
{
  this->SetNthInput(1, const_cast<GeneRegressorModel *>(model));
}

const GeneRegressorModel *
GeneRegressorFilter::GetModel() const
{
  return dynamic_cast<const GeneRegressorModel *>(this->ProcessObject::GetInput(1));
}

GeneRegressorFilter::MatrixObjectType *
GeneRegressorFilter::GetExpressionOutput()
{
  return dynamic_cast<MatrixObjectType *>(this->ProcessObject::GetOutput(0));
}

const GeneRegressorFilter::MatrixType &
GeneRegressorFilter::GetExpression()
{
  return this->GetExpressionOutput()->Get();
}

GeneRegressorFilter::MatrixObjectType *
GeneRegressorFilter::GetFeaturesOutput()
{
  return dynamic_cast<MatrixObjectType *>(this->ProcessObject::GetOutput(1));
}

const GeneRegressorFilter::MatrixType &
GeneRegressorFilter::GetFeatures()
{
  return this->GetFeaturesOutput()->Get();
}

void
GeneRegressorFilter::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  const GeneRegressorModel * model = this->GetModel();
  if (model == nullptr || !model->IsLoaded())
  {
    itkExceptionMacro(<< "No regressor: set a loaded GeneRegressorModel with SetModel");
  }
  const PatchStackType * patches = this->GetInput();
  if (patches == nullptr)
  {
    itkExceptionMacro(<< "No patches: set a stack of RGB patches with SetInput");
  }
  const auto size = patches->GetLargestPossibleRegion().GetSize();
  if (size[2] == 0)
  {
    itkExceptionMacro(<< "The patch stack is empty");
  }
  if (size[0] != model->GetImageSize() || size[1] != model->GetImageSize())
  {
    itkExceptionMacro(<< "The patches are " << size[0] << " x " << size[1] << " pixels but the regressor "
                      << model->GetPath() << " was trained on " << model->GetImageSize() << " x "
                      << model->GetImageSize() << "; extract patches of that size (same micrometres per patch)");
  }
  if (m_BatchSize == 0)
  {
    itkExceptionMacro(<< "BatchSize must be positive");
  }
  try
  {
    torchcore::ResolveDevice(m_Device);
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< e.what());
  }
}

void
GeneRegressorFilter::GenerateData()
{
  const PatchStackType *     patches = this->GetInput();
  const GeneRegressorModel * model = this->GetModel();
  const auto                 size = patches->GetLargestPossibleRegion().GetSize();
  if (patches->GetBufferedRegion() != patches->GetLargestPossibleRegion())
  {
    itkExceptionMacro(<< "The patch stack must be buffered whole");
  }
  const auto rows = static_cast<std::int64_t>(size[2]);
  auto       images = torch::from_blob(const_cast<RGBPixel<unsigned char> *>(patches->GetBufferPointer()),
                                 { rows, static_cast<std::int64_t>(size[1]), static_cast<std::int64_t>(size[0]), 3 },
                                 torch::kUInt8);
  auto       progress = [this](std::int64_t done, std::int64_t total) {
    this->UpdateProgress(static_cast<float>(done) / static_cast<float>(std::max<std::int64_t>(total, 1)));
    if (this->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription("Expression prediction aborted");
      throw aborted;
    }
  };
  torch::Tensor expression;
  torch::Tensor features;
  try
  {
    torchcore::SetTorchThreads(static_cast<int>(m_NumberOfTorchThreads));
    auto &     network = model->m_Internals->network;
    const auto predictions = regression::Predict(
      network, images, static_cast<std::int64_t>(m_BatchSize), m_Device, progress, true, m_ComputeFeatures);
    expression = predictions.expression.to(torch::kDouble).contiguous();
    if (m_ComputeFeatures)
    {
      features = predictions.features.to(torch::kDouble).contiguous();
    }
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Predicting expression with " << model->GetPath() << " failed: " << e.what());
  }

  const auto genes = static_cast<unsigned int>(expression.size(1));
  MatrixType result(static_cast<unsigned int>(rows), genes);
  std::copy_n(expression.data_ptr<double>(), expression.numel(), result.data_block());
  if (m_CountScale)
  {
    const auto preprocessing = GenePreprocessing::FromJSON(model->GetGenePreprocessing());
    for (unsigned int r = 0; r < result.rows(); ++r)
    {
      for (unsigned int g = 0; g < genes; ++g)
      {
        result(r, g) = preprocessing.ToNormalizedCount(g, result(r, g));
      }
    }
  }
  this->GetExpressionOutput()->Set(result);

  MatrixType featureMatrix;
  if (m_ComputeFeatures)
  {
    featureMatrix.SetSize(static_cast<unsigned int>(rows), static_cast<unsigned int>(features.size(1)));
    std::copy_n(features.data_ptr<double>(), features.numel(), featureMatrix.data_block());
  }
  this->GetFeaturesOutput()->Set(featureMatrix);
}

void
GeneRegressorFilter::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "BatchSize: " << m_BatchSize << std::endl;
  os << indent << "CountScale: " << m_CountScale << std::endl;
  os << indent << "ComputeFeatures: " << m_ComputeFeatures << std::endl;
  os << indent << "Device: " << m_Device << std::endl;
  os << indent << "NumberOfTorchThreads: " << m_NumberOfTorchThreads << std::endl;
}

} // end namespace itk
