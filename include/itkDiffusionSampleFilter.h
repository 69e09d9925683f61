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
#ifndef itkDiffusionSampleFilter_h
#define itkDiffusionSampleFilter_h

#include "itkArray2D.h"
#include "itkDiffusionModel.h"
#include "itkImage.h"
#include "itkImageSource.h"
#include "itkRGBPixel.h"

#include <string>
#include <type_traits>
#include <vector>

namespace itk
{

/** \class DiffusionSampleFilter
 * \brief Generates N image patches from a pixel-space diffusion model, as a stack (x, y, patch).
 *
 * The model is read from ModelFileName (loaded on the first update and kept until the file name
 * changes) or given with SetModel. Sampling is DDIM (Song et al., "Denoising diffusion implicit
 * models", ICLR 2021) with NumberOfSteps steps and stochasticity Eta, ancestral DDPM (Ho et al.,
 * NeurIPS 2020), or one of two multistep solvers of the probability-flow ODE that reach DDIM's
 * result in far fewer steps: DPM-Solver++ 2M (Lu et al. 2022) and UniPC (Zhao et al. 2023), as
 * diffusers' DPMSolverMultistepScheduler and UniPCMultistepScheduler (their fields are read from
 * the model's scheduler config when it names that class, diffusers' defaults otherwise). Each patch's noise comes from
 * its own generator seeded from (Seed, patch index), so the same seed gives the same patches whatever the batch size.
 * Values in [-1, 1] map linearly to 0..255. The output is an RGB stack of size (sample_size, sample_size,
 * NumberOfSamples) with unit spacing; slice k is patch k.
 *
 * Progress is reported after every U-Net evaluation; AbortGenerateData stops at the next one.
 * A local model (from GeneConditionedAdaptFilter) draws one patch per expression profile given
 * with SetConditioningProfiles, with classifier-free guidance (GuidanceScale; the paper uses 3;
 * 1 is conditional sampling without guidance) evaluated as one doubled batch. A central model is
 * unconditional: a GuidanceScale other than 1, or profiles, are refused.
 *
 * \sa DiffusionModel
 * \ingroup SpatialTranscriptomics
 */
template <typename TOutputImage = Image<RGBPixel<unsigned char>, 3>>
class ITK_TEMPLATE_EXPORT DiffusionSampleFilter : public ImageSource<TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(DiffusionSampleFilter);

  using Self = DiffusionSampleFilter;
  using Superclass = ImageSource<TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  using OutputImageType = TOutputImage;
  using OutputPixelType = typename OutputImageType::PixelType;

  itkNewMacro(Self);
  itkTypeMacro(DiffusionSampleFilter, ImageSource);

  static_assert(TOutputImage::ImageDimension == 3, "The output is a 3-D stack of 2-D patches (x, y, patch)");
  static_assert(std::is_same<typename NumericTraits<OutputPixelType>::ValueType, unsigned char>::value &&
                  NumericTraits<OutputPixelType>::MeasurementVectorType::Length == 3,
                "The output pixel is an 8-bit colour pixel with three components (RGBPixel<unsigned char>)");

  /** The model file or diffusers folder (see DiffusionModel::Load). */
  itkSetStringMacro(ModelFileName);
  itkGetStringMacro(ModelFileName);

  /** A loaded model, used instead of ModelFileName. */
  itkSetObjectMacro(Model, DiffusionModel);
  itkGetModifiableObjectMacro(Model, DiffusionModel);

  itkSetMacro(NumberOfSamples, SizeValueType);
  itkGetConstMacro(NumberOfSamples, SizeValueType);
  itkSetMacro(BatchSize, SizeValueType);
  itkGetConstMacro(BatchSize, SizeValueType);
  itkSetMacro(NumberOfSteps, unsigned int);
  itkGetConstMacro(NumberOfSteps, unsigned int);
  /** DDIM stochasticity: 0 deterministic, 1 DDPM-like. */
  itkSetClampMacro(Eta, double, 0.0, 1.0);
  itkGetConstMacro(Eta, double);
  itkSetMacro(GuidanceScale, double);
  itkGetConstMacro(GuidanceScale, double);
  itkSetMacro(Seed, uint64_t);
  itkGetConstMacro(Seed, uint64_t);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkSetStringMacro(Device);
  itkGetStringMacro(Device);
  /** "ddim" (default), "ddpm", "dpmsolver++" or "unipc". */
  itkSetStringMacro(Sampler);
  itkGetStringMacro(Sampler);
  /** LibTorch threads; 0 (default) leaves the application's setting (LibTorchThreads) as it is. */
  itkSetMacro(NumberOfTorchThreads, unsigned int);
  itkGetConstMacro(NumberOfTorchThreads, unsigned int);

  /** For a local (gene-conditioned) model: the expression profiles to draw patches for, profiles x
   * genes, preprocessed with the model's own preprocessing (DiffusionModel::GetGenePreprocessing);
   * one patch per profile (row), slice k for profile k. The model takes them at float precision. */
  void
  SetConditioningProfiles(const Array2D<double> & profiles);
  const Array2D<double> &
  GetConditioningProfiles() const
  {
    return m_ConditioningProfiles;
  }
  /** Zero this many randomly chosen genes of each profile before sampling (seeded from Seed). */
  itkSetMacro(GeneDropout, unsigned int);
  itkGetConstMacro(GeneDropout, unsigned int);

protected:
  DiffusionSampleFilter() = default;
  ~DiffusionSampleFilter() override = default;

  void
  VerifyPreconditions() ITKv5_CONST override;
  void
  GenerateOutputInformation() override;
  void
  GenerateData() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  /** The model to sample: as set, or loaded from ModelFileName (cached until the name changes). */
  DiffusionModel *
  ActiveModel();

  std::string             m_ModelFileName;
  DiffusionModel::Pointer m_Model;
  DiffusionModel::Pointer m_LoadedModel;
  SizeValueType           m_NumberOfSamples{ 1 };
  SizeValueType           m_BatchSize{ 8 };
  unsigned int            m_NumberOfSteps{ 50 };
  double                  m_Eta{ 0.0 };
  double                  m_GuidanceScale{ 1.0 };
  uint64_t                m_Seed{ 0 };
  std::string             m_Device{ "cpu" };
  std::string             m_Sampler{ "ddim" };
  unsigned int            m_NumberOfTorchThreads{ 0 };
  Array2D<double>         m_ConditioningProfiles;
  unsigned int            m_GeneDropout{ 0 };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkDiffusionSampleFilter.hxx"
#endif

#endif
