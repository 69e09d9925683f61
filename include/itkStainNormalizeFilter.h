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
#ifndef itkStainNormalizeFilter_h
#define itkStainNormalizeFilter_h

#include "itkImage.h"
#include "itkImageToImageFilter.h"
#include "itkStainAnalysis.h"
#include "itkStainParameters.h"

#include <memory>
#include <type_traits>

namespace itk
{

/** \class StainNormalizeFilter
 * \brief Maps an H&E image's stain appearance onto a target's (Macenko, Vahadane, Reinhard, Ruifrok).
 *
 * The target is either a reference image (the second input, analysed once and cached until it or
 * the method changes) or saved StainParameters. The input's own parameters are estimated from its
 * tissue pixels (a luminosity mask excludes background) unless they are given; given source
 * parameters (estimated once, e.g. on a down-sampled read) make the filter stream, so a slide
 * larger than memory is normalised region by region. The per-pixel map is threaded and uses table
 * look-ups only (see StainColorMapper).
 *
 * An input without tissue (white background) passes through unchanged with a warning. A reference
 * without tissue, or one whose stains cannot be separated, is an error.
 *
 * Pixels are 8-bit colour with at least three components, red, green and blue first: RGBPixel,
 * RGBAPixel, Vector, or a VectorImage; further components (alpha) are copied. Images are 2-D
 * slides or patches, or 3-D stacks of patches (estimated over the whole stack).
 *
 * With ComputeConcentrations on, outputs 1 and 2 hold the input's hematoxylin and eosin
 * concentrations (least squares on the source stain matrix; stain-matrix methods only).
 *
 * The arithmetic reproduces TIAToolbox's normalisers (checked against its published outputs):
 * Macenko M. et al., "A method for normalizing histology slides for quantitative analysis", ISBI 2009;
 * Vahadane A. et al., "Structure-preserving color normalization and sparse stain separation for
 * histological images", IEEE TMI 35(8), 2016; Reinhard E. et al., "Color transfer between images",
 * IEEE CG&A 21(5), 2001; Ruifrok A.C. and Johnston D.A., "Quantification of histochemical staining
 * by color deconvolution", AQCH 23(4), 2001.
 *
 * \sa StainParameters, StainColorMapper, StainAnalysis
 * \ingroup SpatialTranscriptomics
 */
template <typename TInputImage, typename TOutputImage = TInputImage>
class ITK_TEMPLATE_EXPORT StainNormalizeFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(StainNormalizeFilter);

  using Self = StainNormalizeFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using OutputRegionType = typename OutputImageType::RegionType;
  using InputPixelType = typename InputImageType::PixelType;
  using OutputPixelType = typename OutputImageType::PixelType;
  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  using ConcentrationImageType = Image<float, ImageDimension>;

  itkNewMacro(Self);
  itkTypeMacro(StainNormalizeFilter, ImageToImageFilter);

  static_assert(
    std::is_same<typename NumericTraits<InputPixelType>::ValueType, unsigned char>::value &&
      std::is_same<typename NumericTraits<OutputPixelType>::ValueType, unsigned char>::value,
    "StainNormalizeFilter works on 8-bit colour pixels (RGB, RGBA, Vector or VectorImage of unsigned char)");
  static_assert(static_cast<unsigned int>(TOutputImage::ImageDimension) == ImageDimension,
                "Input and output images must have the same dimension");

  /** The method (default Macenko). Given parameters must be of the same method. */
  itkSetMacro(Method, StainNormalizationMethod);
  itkGetConstMacro(Method, StainNormalizationMethod);

  /** The reference image whose stain appearance is the target (second input). */
  void
  SetReferenceImage(const InputImageType * reference);
  const InputImageType *
  GetReferenceImage() const;

  /** Target parameters, used when no reference image is set (e.g. read from a JSON file). */
  void
  SetTargetParameters(const StainParameters & parameters);
  /** The target in use: as set, or, after an update, the cached analysis of the reference. */
  const StainParameters &
  GetTargetParameters() const
  {
    return m_TargetParameters;
  }
  /** Forget set target parameters (a reference image is then required). */
  void
  ClearTargetParameters();
  itkGetConstMacro(HasTargetParameters, bool);

  /** Source parameters: when set, the input is not analysed and the filter streams. */
  void
  SetSourceParameters(const StainParameters & parameters);
  /** The source in use: as set, or estimated from the input by the last update. */
  const StainParameters &
  GetSourceParameters() const
  {
    return m_SourceParameters;
  }
  /** Return to estimating the source parameters from the input. */
  void
  ClearSourceParameters();
  itkGetConstMacro(UseGivenSourceParameters, bool);

  /** False after an update whose input had no tissue and was passed through unchanged. */
  itkGetConstMacro(InputHasTissue, bool);

  /** Also produce the hematoxylin (output 1) and eosin (output 2) concentration images. */
  itkSetMacro(ComputeConcentrations, bool);
  itkGetConstMacro(ComputeConcentrations, bool);
  itkBooleanMacro(ComputeConcentrations);
  ConcentrationImageType *
  GetHematoxylinOutput();
  ConcentrationImageType *
  GetEosinOutput();

  /** Estimation settings; the defaults are TIAToolbox's. */
  itkSetMacro(LuminosityThreshold, double);
  itkGetConstMacro(LuminosityThreshold, double);
  itkSetMacro(MinimumOpticalDensity, double);
  itkGetConstMacro(MinimumOpticalDensity, double);
  itkSetMacro(MinimumTissuePixels, SizeValueType);
  itkGetConstMacro(MinimumTissuePixels, SizeValueType);
  itkSetMacro(AngularPercentile, double);
  itkGetConstMacro(AngularPercentile, double);
  itkSetMacro(ConcentrationPercentile, double);
  itkGetConstMacro(ConcentrationPercentile, double);
  itkSetMacro(VahadaneRegularization, double);
  itkGetConstMacro(VahadaneRegularization, double);
  itkSetMacro(VahadaneIterations, unsigned int);
  itkGetConstMacro(VahadaneIterations, unsigned int);

  /** The estimation settings as one struct. */
  StainEstimationOptions
  GetEstimationOptions() const;

protected:
  StainNormalizeFilter();
  ~StainNormalizeFilter() override = default;

  using DataObjectPointerArraySizeType = ProcessObject::DataObjectPointerArraySizeType;
  using Superclass::MakeOutput;
  DataObject::Pointer
  MakeOutput(DataObjectPointerArraySizeType index) override;

  void
  VerifyPreconditions() ITKv5_CONST override;
  /** The reference may differ in size and spacing from the input; checks channel counts instead. */
  void
  VerifyInputInformation() ITKv5_CONST override;
  void
  GenerateOutputInformation() override;
  void
  GenerateInputRequestedRegion() override;
  void
  AllocateOutputs() override;
  void
  BeforeThreadedGenerateData() override;
  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegion) override;
  void
  AfterThreadedGenerateData() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  /** The first byte of the pixel at \p index in a buffer of interleaved unsigned char components. */
  template <typename TImage>
  static const unsigned char *
  PixelBytes(const TImage * image, const typename TImage::IndexType & index);

  /** Analyse the reference image unless its cached analysis is still current. */
  void
  UpdateTargetFromReference();

  StainNormalizationMethod m_Method{ StainNormalizationMethod::Macenko };
  StainParameters          m_TargetParameters;
  bool                     m_HasTargetParameters{ false };
  StainParameters          m_SourceParameters;
  bool                     m_UseGivenSourceParameters{ false };
  bool                     m_InputHasTissue{ true };
  bool                     m_ComputeConcentrations{ false };
  double                   m_LuminosityThreshold{ 0.8 };
  double                   m_MinimumOpticalDensity{ 0.15 };
  SizeValueType            m_MinimumTissuePixels{ 64 };
  double                   m_AngularPercentile{ 99.0 };
  double                   m_ConcentrationPercentile{ 99.0 };
  double                   m_VahadaneRegularization{ 0.1 };
  unsigned int             m_VahadaneIterations{ 100 };

  // Cache of the reference analysis: valid while the reference data and the settings are unchanged.
  StainParameters          m_ReferenceParameters;
  const DataObject *       m_ReferenceAnalysedImage{ nullptr };
  ModifiedTimeType         m_ReferenceAnalysedTime{ 0 };
  StainNormalizationMethod m_ReferenceAnalysedMethod{ StainNormalizationMethod::Macenko };
  StainEstimationOptions   m_ReferenceAnalysedOptions;

  std::unique_ptr<StainColorMapper> m_Mapper;
};

} // end namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkStainNormalizeFilter.hxx"
#endif

#endif // itkStainNormalizeFilter_h
