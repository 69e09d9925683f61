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
#ifndef itkStainParameters_h
#define itkStainParameters_h

#include "SpatialTranscriptomicsExport.h"

#include <array>
#include <iosfwd>
#include <string>

namespace itk
{

/** The stain normalisation methods of StainNormalizeFilter.
 * \ingroup SpatialTranscriptomics */
enum class StainNormalizationMethod
{
  Macenko,  ///< Macenko et al. 2009: stain vectors at the angular extremes of the OD plane.
  Vahadane, ///< Vahadane et al. 2016: sparse non-negative factorisation of optical density.
  Reinhard, ///< Reinhard et al. 2001: mean and standard deviation of each CIE L*a*b* channel.
  Ruifrok   ///< Ruifrok and Johnston 2001: a fixed H&E stain matrix.
};

SpatialTranscriptomics_EXPORT std::ostream &
                              operator<<(std::ostream & os, StainNormalizationMethod method);

/** \class StainParameters
 * \brief What one image's stain analysis found: enough to map its pixels without the image.
 *
 * For the stain-matrix methods (Macenko, Vahadane, Ruifrok) an image is modelled by Beer-Lambert's
 * law, \f$ OD = -\ln(I/255) = C \, S \f$, with \f$ S \f$ the 2x3 stain matrix (row 0 hematoxylin,
 * row 1 eosin; columns the optical densities of red, green and blue) and \f$ C \f$ the per-pixel
 * concentrations. MaxConcentrations holds the 99th percentile of each stain's concentration, the
 * scale that normalisation matches. Reinhard's method keeps the mean and standard deviation of the
 * image's CIE L*a*b* channels (L in [0, 100]).
 *
 * Saved as a small JSON file, the parameters of a target let a whole cohort be normalised to it,
 * and the parameters of a source (estimated once, e.g. on a down-sampled read) let a slide larger
 * than memory be normalised region by region.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT StainParameters
{
public:
  using StainMatrixType = std::array<std::array<double, 3>, 2>;
  using ConcentrationsType = std::array<double, 2>;
  using LabStatisticsType = std::array<double, 3>;

  StainNormalizationMethod Method{ StainNormalizationMethod::Macenko };
  StainMatrixType          StainMatrix{ { { 0.0, 0.0, 0.0 }, { 0.0, 0.0, 0.0 } } };
  ConcentrationsType       MaxConcentrations{ { 0.0, 0.0 } };
  LabStatisticsType        LabMean{ { 0.0, 0.0, 0.0 } };
  LabStatisticsType        LabStandardDeviation{ { 0.0, 0.0, 0.0 } };

  /** True for Macenko, Vahadane and Ruifrok, whose parameters are a stain matrix. */
  bool
  UsesStainMatrix() const
  {
    return Method != StainNormalizationMethod::Reinhard;
  }

  /** Throws itk::ExceptionObject when the values cannot drive a normalisation (non-finite values,
   * non-positive concentrations or standard deviations, a singular stain matrix). */
  void
  Validate() const;

  /** JSON text; see Documentation/StainNormalization.md for the schema. */
  std::string
  ToJSON() const;

  /** Parse and validate JSON text; throws itk::ExceptionObject naming the missing or bad field. */
  static StainParameters
  FromJSON(const std::string & text);

  /** Write to a file (through a temporary file and a rename, so a failed write leaves no half file). */
  void
  WriteJSONFile(const std::string & fileName) const;

  /** Read and validate a file written by WriteJSONFile. */
  static StainParameters
  ReadJSONFile(const std::string & fileName);

  bool
  operator==(const StainParameters & other) const;
  bool
  operator!=(const StainParameters & other) const
  {
    return !(*this == other);
  }

  /** Lower-case name of a method ("macenko", ...). */
  static std::string
  MethodToString(StainNormalizationMethod method);

  /** Parse a method name, case-insensitively; throws itk::ExceptionObject listing the valid names. */
  static StainNormalizationMethod
  MethodFromString(const std::string & name);
};

SpatialTranscriptomics_EXPORT std::ostream &
                              operator<<(std::ostream & os, const StainParameters & parameters);

} // end namespace itk

#endif // itkStainParameters_h
