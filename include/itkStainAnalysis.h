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
#ifndef itkStainAnalysis_h
#define itkStainAnalysis_h

#include "itkStainParameters.h"

#include <cstddef>
#include <optional>
#include <vector>

namespace itk
{

/** \brief Settings of stain estimation. The defaults are TIAToolbox's (and StainTools').
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT StainEstimationOptions
{
  /** A pixel is tissue when its CIE L (after a 2nd-98th percentile contrast stretch), scaled to
   * [0, 1], is below this. */
  double LuminosityThreshold{ 0.8 };
  /** A tissue pixel also absorbs light: its optical density summed over red, green and blue is at
   * least this (0.15 is Macenko's transparency threshold; about every channel <= 242). */
  double MinimumOpticalDensity{ 0.15 };
  /** Fewer tissue pixels than this is "no tissue" (dust on a blank slide is not a stain sample). */
  std::size_t MinimumTissuePixels{ 64 };
  /** Macenko: the stain vectors lie at this percentile (and 100 minus it) of the angle in the OD plane. */
  double AngularPercentile{ 99.0 };
  /** The percentile of each stain's concentration that normalisation matches. */
  double ConcentrationPercentile{ 99.0 };
  /** Vahadane: the L1 weight on concentrations in the sparse factorisation. */
  double VahadaneRegularization{ 0.1 };
  /** Vahadane: the most alternating (concentrations, stain matrix) updates; it stops earlier once
   * the stain vectors change by less than 1e-7. The fit uses at most 100,000 tissue pixels. */
  unsigned int VahadaneIterations{ 100 };
};

/** \class StainAnalysis
 * \brief Stain estimation: the Macenko stain matrix and concentration percentiles of an H&E image, and Ruifrok and
 * Johnston's reference matrix. \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT StainAnalysis
{
public:
  StainAnalysis() = delete; // a family of functions: nothing to construct

  /** \brief Estimate an image's stain parameters from its pixels.
   *
   * \p pixels holds \p numberOfPixels interleaved 8-bit pixels of \p componentsPerPixel (>= 3)
   * components each; the first three are red, green and blue, any further ones (alpha) are ignored.
   * Returns no value when the image holds no tissue (fewer than MinimumTissuePixels pass the
   * luminosity and optical-density masks), the case in which a filter passes its input through. Throws
   * itk::ExceptionObject when the tissue is too uniform to separate two stains.
   *
   * The arithmetic follows TIAToolbox 0.6's stain extractors and normaliser (rgb2od with a floor of
   * 1e-6, numpy's linear-interpolation percentiles, least-squares concentrations over all pixels).
   *
   * \ingroup SpatialTranscriptomics
   */
  static std::optional<StainParameters>
  Estimate(const unsigned char * pixels, std::size_t numberOfPixels, unsigned int componentsPerPixel,
           StainNormalizationMethod method, const StainEstimationOptions & options = StainEstimationOptions());

  /** Ruifrok and Johnston's H&E stain matrix as TIAToolbox uses it (rows not normalised). */
  static StainParameters::StainMatrixType
  RuifrokStainMatrix();
};

/** \class StainColorMapper
 * \brief The per-pixel map from a source's stain appearance to a target's.
 *
 * Built once from two StainParameters of the same method; then Map() is a pure function of each
 * pixel, safe to call from many threads at once on disjoint buffers. For the stain-matrix methods
 * the output optical density of channel k is \f$ \sum_j B_{kj}\, OD(v_j) \f$ with
 * \f$ B = S_t^T \, \mathrm{diag}(c_t / c_s) \, S_s^{+} \f$, so
 * \f$ I_k = 255 \prod_j \exp(-B_{kj} OD(v_j)) \f$ is a product of three table look-ups per
 * channel: no logarithm or exponential per pixel.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT StainColorMapper
{
public:
  /** Throws itk::ExceptionObject if the methods differ or either parameter set is invalid. */
  StainColorMapper(const StainParameters & source, const StainParameters & target);

  /** Map \p numberOfPixels interleaved pixels; components past the third (alpha) are copied. */
  void
  Map(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels, unsigned int components) const;

  /** The source's hematoxylin and eosin concentrations (least squares on its stain matrix, not
   * rescaled), for the stain-matrix methods only. */
  void
  Concentrations(const unsigned char * input, std::size_t numberOfPixels, unsigned int components, float * hematoxylin,
                 float * eosin) const;

  const StainParameters &
  GetSource() const
  {
    return m_Source;
  }
  const StainParameters &
  GetTarget() const
  {
    return m_Target;
  }

private:
  void
  MapStains(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
            unsigned int components) const;
  void
  MapLab(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
         unsigned int components) const;

  StainParameters m_Source;
  StainParameters m_Target;
  // Stain methods: m_ChannelFactor[k][j][v] = exp(-B[k][j] * OD(v)), output channel k, input channel j.
  std::vector<float> m_ChannelFactor;
  // Source concentrations: m_ConcentrationTerm[s][j][v] = pinv(S_s)[s][j] * OD(v).
  std::vector<float> m_ConcentrationTerm;
  // Reinhard: per-channel affine map of L*a*b*.
  std::array<double, 3> m_LabScale{ { 1.0, 1.0, 1.0 } };
  std::array<double, 3> m_LabOffset{ { 0.0, 0.0, 0.0 } };
};

} // end namespace itk

#endif // itkStainAnalysis_h
