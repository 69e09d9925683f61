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
#ifndef itkStainNormalizeFilter_hxx
#define itkStainNormalizeFilter_hxx

#include "itkStainNormalizeFilter.h"

#include "itkImageScanlineConstIterator.h"
#include "itkTotalProgressReporter.h"

#include <algorithm>
#include <cstring>

namespace itk
{

template <typename TInputImage, typename TOutputImage>
StainNormalizeFilter<TInputImage, TOutputImage>::StainNormalizeFilter()
{
  // The reference image is optional: saved target parameters can stand in for it.
  this->SetNumberOfRequiredInputs(1);
  this->SetNumberOfRequiredOutputs(3);
  this->SetNthOutput(1, this->MakeOutput(1));
  this->SetNthOutput(2, this->MakeOutput(2));
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
DataObject::Pointer
StainNormalizeFilter<TInputImage, TOutputImage>::MakeOutput(ProcessObject::DataObjectPointerArraySizeType index)
{
  if (index == 0)
  {
    return OutputImageType::New().GetPointer();
  }
  return ConcentrationImageType::New().GetPointer();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::SetReferenceImage(const InputImageType * reference)
{
  this->SetNthInput(1, const_cast<InputImageType *>(reference));
}

template <typename TInputImage, typename TOutputImage>
auto
StainNormalizeFilter<TInputImage, TOutputImage>::GetReferenceImage() const -> const InputImageType *
{
  return itkDynamicCastInDebugMode<const InputImageType *>(this->ProcessObject::GetInput(1));
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::SetTargetParameters(const StainParameters & parameters)
{
  parameters.Validate();
  m_TargetParameters = parameters;
  m_HasTargetParameters = true;
  this->Modified();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::ClearTargetParameters()
{
  m_HasTargetParameters = false;
  this->Modified();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::SetSourceParameters(const StainParameters & parameters)
{
  parameters.Validate();
  m_SourceParameters = parameters;
  m_UseGivenSourceParameters = true;
  this->Modified();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::ClearSourceParameters()
{
  m_UseGivenSourceParameters = false;
  this->Modified();
}

template <typename TInputImage, typename TOutputImage>
auto
StainNormalizeFilter<TInputImage, TOutputImage>::GetHematoxylinOutput() -> ConcentrationImageType *
{
  return itkDynamicCastInDebugMode<ConcentrationImageType *>(this->ProcessObject::GetOutput(1));
}

template <typename TInputImage, typename TOutputImage>
auto
StainNormalizeFilter<TInputImage, TOutputImage>::GetEosinOutput() -> ConcentrationImageType *
{
  return itkDynamicCastInDebugMode<ConcentrationImageType *>(this->ProcessObject::GetOutput(2));
}

template <typename TInputImage, typename TOutputImage>
StainEstimationOptions
StainNormalizeFilter<TInputImage, TOutputImage>::GetEstimationOptions() const
{
  StainEstimationOptions options;
  options.LuminosityThreshold = m_LuminosityThreshold;
  options.MinimumOpticalDensity = m_MinimumOpticalDensity;
  options.MinimumTissuePixels = m_MinimumTissuePixels;
  options.AngularPercentile = m_AngularPercentile;
  options.ConcentrationPercentile = m_ConcentrationPercentile;
  options.VahadaneRegularization = m_VahadaneRegularization;
  options.VahadaneIterations = m_VahadaneIterations;
  return options;
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  const auto methodName = StainParameters::MethodToString(m_Method);
  if (this->GetReferenceImage() == nullptr && !m_HasTargetParameters)
  {
    itkExceptionMacro(<< "No target: set a reference image (SetReferenceImage) or target parameters "
                         "(SetTargetParameters, e.g. read from a JSON file)");
  }
  if (this->GetReferenceImage() == nullptr && m_TargetParameters.Method != m_Method)
  {
    itkExceptionMacro(<< "The target parameters are for " << m_TargetParameters.Method << " but the method is "
                      << methodName << "; set the method to match the parameters");
  }
  if (m_UseGivenSourceParameters && m_SourceParameters.Method != m_Method)
  {
    itkExceptionMacro(<< "The source parameters are for " << m_SourceParameters.Method << " but the method is "
                      << methodName << "; set the method to match the parameters");
  }
  if (m_ComputeConcentrations && m_Method == StainNormalizationMethod::Reinhard)
  {
    itkExceptionMacro(<< "Concentration outputs need a stain-matrix method (macenko, vahadane, ruifrok); "
                         "reinhard has no stains");
  }
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::VerifyInputInformation() ITKv5_CONST
{
  const auto checkImage = [this](const InputImageType * image, const char * role) {
    if (image == nullptr)
    {
      return;
    }
    const unsigned int components = image->GetNumberOfComponentsPerPixel();
    if (components < 3)
    {
      itkExceptionMacro(<< "The " << role << " image has " << components
                        << " component(s) per pixel; stain normalisation needs red, green and blue "
                           "(convert a grayscale image to RGB, or give an RGB/RGBA image)");
    }
    if (image->GetLargestPossibleRegion().GetNumberOfPixels() == 0)
    {
      itkExceptionMacro(<< "The " << role << " image is empty (no pixels)");
    }
  };
  checkImage(this->GetInput(), "input");
  checkImage(this->GetReferenceImage(), "reference");
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::GenerateOutputInformation()
{
  Superclass::GenerateOutputInformation();
  const unsigned int components = this->GetInput()->GetNumberOfComponentsPerPixel();
  OutputImageType *  output = this->GetOutput();
  output->SetNumberOfComponentsPerPixel(components);
  if (output->GetNumberOfComponentsPerPixel() != components)
  {
    itkExceptionMacro(<< "The output pixel type has " << output->GetNumberOfComponentsPerPixel()
                      << " components but the input has " << components << "; use the same pixel type for both");
  }
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Only a given source lets the input stream; estimating it needs every pixel.
  Superclass::GenerateInputRequestedRegion();
  if (!m_UseGivenSourceParameters)
  {
    auto * input = const_cast<InputImageType *>(this->GetInput());
    input->SetRequestedRegionToLargestPossibleRegion();
  }
  if (auto * reference = const_cast<InputImageType *>(this->GetReferenceImage()))
  {
    reference->SetRequestedRegionToLargestPossibleRegion();
  }
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::AllocateOutputs()
{
  OutputImageType * output = this->GetOutput();
  output->SetBufferedRegion(output->GetRequestedRegion());
  output->Allocate();
  for (unsigned int index = 1; index < 3; ++index)
  {
    auto * concentrations = static_cast<ConcentrationImageType *>(this->ProcessObject::GetOutput(index));
    if (m_ComputeConcentrations)
    {
      concentrations->SetBufferedRegion(concentrations->GetRequestedRegion());
      concentrations->Allocate();
    }
    else
    {
      // Not requested: hold no memory, so streaming a slide costs only the normalised output.
      concentrations->Initialize();
    }
  }
}

template <typename TInputImage, typename TOutputImage>
template <typename TImage>
const unsigned char *
StainNormalizeFilter<TInputImage, TOutputImage>::PixelBytes(const TImage *                     image,
                                                            const typename TImage::IndexType & index)
{
  using InternalPixelType = typename TImage::InternalPixelType;
  static_assert(
    std::is_same<InternalPixelType, unsigned char>::value ||
      (std::is_trivially_copyable<InternalPixelType>::value && sizeof(InternalPixelType) % sizeof(unsigned char) == 0),
    "The pixel components must be stored contiguously (RGBPixel, RGBAPixel, Vector or VectorImage)");
  const auto * buffer = reinterpret_cast<const unsigned char *>(image->GetBufferPointer());
  return buffer + image->ComputeOffset(index) * image->GetNumberOfComponentsPerPixel();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::UpdateTargetFromReference()
{
  const InputImageType * reference = this->GetReferenceImage();
  const auto             options = this->GetEstimationOptions();
  const bool             sameOptions = options.LuminosityThreshold == m_ReferenceAnalysedOptions.LuminosityThreshold &&
                           options.MinimumOpticalDensity == m_ReferenceAnalysedOptions.MinimumOpticalDensity &&
                           options.MinimumTissuePixels == m_ReferenceAnalysedOptions.MinimumTissuePixels &&
                           options.AngularPercentile == m_ReferenceAnalysedOptions.AngularPercentile &&
                           options.ConcentrationPercentile == m_ReferenceAnalysedOptions.ConcentrationPercentile &&
                           options.VahadaneRegularization == m_ReferenceAnalysedOptions.VahadaneRegularization &&
                           options.VahadaneIterations == m_ReferenceAnalysedOptions.VahadaneIterations;
  if (reference == m_ReferenceAnalysedImage && reference->GetMTime() == m_ReferenceAnalysedTime &&
      m_Method == m_ReferenceAnalysedMethod && sameOptions)
  {
    return;
  }
  const auto region = reference->GetBufferedRegion();
  if (region != reference->GetLargestPossibleRegion())
  {
    itkExceptionMacro(<< "The whole reference image must be in memory to analyse it");
  }
  std::optional<StainParameters> analysis;
  try
  {
    analysis = StainAnalysis::Estimate(PixelBytes(reference, region.GetIndex()),
                                       region.GetNumberOfPixels(),
                                       reference->GetNumberOfComponentsPerPixel(),
                                       m_Method,
                                       options);
  }
  catch (const ExceptionObject & e)
  {
    itkExceptionMacro(<< "Cannot analyse the reference image: " << e.GetDescription());
  }
  if (!analysis)
  {
    itkExceptionMacro(<< "The reference image has no tissue (fewer than " << m_MinimumTissuePixels
                      << " pixels pass the tissue masks); "
                         "choose a reference that shows stained tissue");
  }
  m_ReferenceParameters = *analysis;
  m_ReferenceAnalysedImage = reference;
  m_ReferenceAnalysedTime = reference->GetMTime();
  m_ReferenceAnalysedMethod = m_Method;
  m_ReferenceAnalysedOptions = options;
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::BeforeThreadedGenerateData()
{
  if (this->GetReferenceImage() != nullptr)
  {
    this->UpdateTargetFromReference();
    m_TargetParameters = m_ReferenceParameters;
  }

  m_InputHasTissue = true;
  if (!m_UseGivenSourceParameters)
  {
    const InputImageType * input = this->GetInput();
    const auto             region = input->GetBufferedRegion();
    const auto             estimate = StainAnalysis::Estimate(PixelBytes(input, region.GetIndex()),
                                                  region.GetNumberOfPixels(),
                                                  input->GetNumberOfComponentsPerPixel(),
                                                  m_Method,
                                                  this->GetEstimationOptions());
    if (!estimate)
    {
      m_InputHasTissue = false;
      m_Mapper.reset();
      itkWarningMacro(<< "The input has no tissue (fewer than " << m_MinimumTissuePixels
                      << " pixels pass the tissue masks); "
                         "it is passed through unchanged");
      return;
    }
    m_SourceParameters = *estimate;
  }
  m_Mapper = std::make_unique<StainColorMapper>(m_SourceParameters, m_TargetParameters);
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::DynamicThreadedGenerateData(const OutputRegionType & outputRegion)
{
  const InputImageType *   input = this->GetInput();
  OutputImageType *        output = this->GetOutput();
  const unsigned int       components = input->GetNumberOfComponentsPerPixel();
  const SizeValueType      lineLength = outputRegion.GetSize(0);
  ConcentrationImageType * hematoxylin = m_ComputeConcentrations ? this->GetHematoxylinOutput() : nullptr;
  ConcentrationImageType * eosin = m_ComputeConcentrations ? this->GetEosinOutput() : nullptr;

  TotalProgressReporter progress(this, output->GetRequestedRegion().GetNumberOfPixels());

  ImageScanlineConstIterator<OutputImageType> line(output, outputRegion);
  for (line.GoToBegin(); !line.IsAtEnd(); line.NextLine())
  {
    const auto            index = line.GetIndex();
    const unsigned char * in = PixelBytes(input, index);
    auto *                out = const_cast<unsigned char *>(PixelBytes(output, index));
    if (m_Mapper)
    {
      m_Mapper->Map(in, out, lineLength, components);
    }
    else
    {
      std::memcpy(out, in, lineLength * components);
    }
    if (hematoxylin != nullptr)
    {
      float * h = hematoxylin->GetBufferPointer() + hematoxylin->ComputeOffset(index);
      float * e = eosin->GetBufferPointer() + eosin->ComputeOffset(index);
      if (m_Mapper)
      {
        m_Mapper->Concentrations(in, lineLength, components, h, e);
      }
      else
      {
        std::fill(h, h + lineLength, 0.0f);
        std::fill(e, e + lineLength, 0.0f);
      }
    }
    progress.Completed(lineLength);
  }
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::AfterThreadedGenerateData()
{
  m_Mapper.reset();
}

template <typename TInputImage, typename TOutputImage>
void
StainNormalizeFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Method: " << m_Method << std::endl;
  os << indent << "TargetParameters: " << m_TargetParameters << std::endl;
  os << indent << "HasTargetParameters: " << m_HasTargetParameters << std::endl;
  os << indent << "SourceParameters: " << m_SourceParameters << std::endl;
  os << indent << "UseGivenSourceParameters: " << m_UseGivenSourceParameters << std::endl;
  os << indent << "InputHasTissue: " << m_InputHasTissue << std::endl;
  os << indent << "ComputeConcentrations: " << m_ComputeConcentrations << std::endl;
  os << indent << "LuminosityThreshold: " << m_LuminosityThreshold << std::endl;
  os << indent << "MinimumOpticalDensity: " << m_MinimumOpticalDensity << std::endl;
  os << indent << "MinimumTissuePixels: " << m_MinimumTissuePixels << std::endl;
  os << indent << "AngularPercentile: " << m_AngularPercentile << std::endl;
  os << indent << "ConcentrationPercentile: " << m_ConcentrationPercentile << std::endl;
  os << indent << "VahadaneRegularization: " << m_VahadaneRegularization << std::endl;
  os << indent << "VahadaneIterations: " << m_VahadaneIterations << std::endl;
  os << indent << "ReferenceParameters (cached): " << m_ReferenceParameters << std::endl;
  os << indent << "ReferenceAnalysedImage: " << m_ReferenceAnalysedImage << std::endl;
  os << indent << "ReferenceAnalysedTime: " << m_ReferenceAnalysedTime << std::endl;
  os << indent << "ReferenceAnalysedMethod: " << m_ReferenceAnalysedMethod << std::endl;
  os << indent << "ReferenceAnalysedOptions: luminosity " << m_ReferenceAnalysedOptions.LuminosityThreshold << ", OD "
     << m_ReferenceAnalysedOptions.MinimumOpticalDensity << ", pixels "
     << m_ReferenceAnalysedOptions.MinimumTissuePixels << ", angle " << m_ReferenceAnalysedOptions.AngularPercentile
     << ", concentration " << m_ReferenceAnalysedOptions.ConcentrationPercentile << ", lambda "
     << m_ReferenceAnalysedOptions.VahadaneRegularization << ", iterations "
     << m_ReferenceAnalysedOptions.VahadaneIterations << std::endl;
  os << indent << "Mapper: " << (m_Mapper ? "built" : "none") << std::endl;
}

} // end namespace itk

#endif // itkStainNormalizeFilter_hxx
