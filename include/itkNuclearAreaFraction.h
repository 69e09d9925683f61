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
#ifndef itkNuclearAreaFraction_h
#define itkNuclearAreaFraction_h

#include "itkImage.h"
#include "itkRGBPixel.h"
#include "itkStainAnalysis.h"
#include "itkStainParameters.h"

#include <vector>

namespace itk
{

/** \brief Settings of the nuclear area fraction.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT NuclearAreaFractionSettings
{
  /** A tissue pixel is nuclear when its hematoxylin concentration exceeds ThresholdFraction times
   * the ReferencePercentile-th percentile of hematoxylin over the real patches' tissue pixels. With
   * nuclei covering more than about 1% of the tissue, that percentile is the concentration of the
   * densest chromatin. The default 0.4 was chosen on two real TCGA H&E tiles (TIAToolbox's stain test
   * images), where 0.3 also marks purple cytoplasm and 0.5 leaves pale (vesicular) nuclei incomplete,
   * and on SyntheticStainField::Generate tissue (nuclei of 3x varying density), where it is off by at
   * most 0.3 percentage points of area per patch against 1.7 for 0.5. Anchoring on the real patches
   * only keeps synthetic patches from moving the threshold they are measured with. */
  double ThresholdFraction{ 0.4 };
  double ReferencePercentile{ 99.0 };
  /** A positive value is used as the hematoxylin threshold directly, instead of the above. */
  double Threshold{ 0.0 };
  /** Macenko estimation settings. MinimumOpticalDensity is also the per-pixel tissue test when
   * measuring (optical density summed over red, green and blue at least this): a fixed absorbance
   * rather than the estimator's per-image contrast-stretched luminosity, so that every patch is
   * judged by the same rule. */
  StainEstimationOptions Estimation;
};

/** \class NuclearAreaFraction
 * \brief The fraction of a patch's tissue covered by nuclei, from its hematoxylin concentration: a
 * morphology statistic to compare real and synthetic patches.
 *
 * Fit estimates Macenko stain vectors once over all given patches, real and synthetic together, so
 * both are measured with the same stains (per-set estimates would absorb a colour shift of the
 * generator into the stain vectors and hide it), and fixes the hematoxylin threshold. Measure then
 * gives, per patch, the fraction of tissue pixels whose hematoxylin concentration (least squares on
 * the stain matrix, as StainNormalizeFilter's output 1) exceeds the threshold; a patch without tissue
 * pixels gives NaN.
 *
 * \sa StainColorMapper, StainAnalysis
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT NuclearAreaFraction
{
public:
  /** x, y, patch index, as SpotPatchDataset holds patches. */
  using PatchStackType = Image<RGBPixel<unsigned char>, 3>;
  using PatchType = Image<RGBPixel<unsigned char>, 2>;

  StainParameters Stains;
  /** Hematoxylin concentration above which a tissue pixel is nuclear. */
  double Threshold{ 0.0 };
  /** The summed optical density from which a pixel is tissue. */
  double MinimumOpticalDensity{ 0.15 };

  /** Estimate the stains over \p real and \p synthetic (may be null) and set the threshold from
   * \p real. Throws itk::ExceptionObject when \p real is null or empty, the patches hold no tissue,
   * the stains cannot be separated, or the settings are out of range. */
  static NuclearAreaFraction
  Fit(const PatchStackType * real, const PatchStackType * synthetic = nullptr,
      const NuclearAreaFractionSettings & settings = NuclearAreaFractionSettings());

  /** The fraction of each patch of \p patches (NaN for a patch without tissue). */
  std::vector<double>
  Measure(const PatchStackType * patches) const;
  /** The fraction of one patch. */
  double
  Measure(const PatchType * patch) const;
  /** The fraction of \p numberOfPixels interleaved RGB pixels. */
  double
  Measure(const unsigned char * rgb, std::size_t numberOfPixels) const;
  /** Marks each of \p numberOfPixels interleaved RGB pixels nuclear (1: tissue with hematoxylin above
   * the threshold) or not (0) in \p mask, which holds as many bytes. */
  void
  NuclearMask(const unsigned char * rgb, std::size_t numberOfPixels, unsigned char * mask) const;
};

/** \brief Per-patch nuclear area fractions of a real and a synthetic set, and how they were measured.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT NuclearAreaFractions
{
  NuclearAreaFraction Measurement;
  std::vector<double> Real;
  std::vector<double> Synthetic; ///< empty when no synthetic set was given

  /** Fit on both sets, then measure each patch of each. */
  static NuclearAreaFractions
  Compute(const NuclearAreaFraction::PatchStackType * real,
          const NuclearAreaFraction::PatchStackType * synthetic = nullptr,
          const NuclearAreaFractionSettings &         settings = NuclearAreaFractionSettings());
};

} // end namespace itk

#endif // itkNuclearAreaFraction_h
