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
#ifndef itkSyntheticStainedTissue_h
#define itkSyntheticStainedTissue_h

#include "itkStainParameters.h"

#include <cstdint>
#include <vector>

namespace itk
{

/** \brief Hematoxylin and eosin amounts of a procedural tissue field, with known ground truth.
 *
 * Eosin-stained stroma with smooth variation, hematoxylin-dense nuclei (ellipses, with some eosin)
 * and unstained lumens, deterministic from the seed on every platform (std::mt19937 and explicit
 * arithmetic only). Rendering the same field with two stain matrices gives the same tissue under
 * two stain appearances: the ground truth for stain estimation and normalisation.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT SyntheticStainField
{
  unsigned int       Width{ 0 };
  unsigned int       Height{ 0 };
  std::vector<float> Hematoxylin; ///< row-major, Width * Height
  std::vector<float> Eosin;       ///< row-major, Width * Height

  /** Generate a field of \p width x \p height pixels; \p nucleusDensity is nuclei per 10,000 pixels. */
  static SyntheticStainField
  Generate(unsigned int width, unsigned int height, std::uint32_t seed, double nucleusDensity = 6.0);

  /** Render interleaved 8-bit RGB by Beer-Lambert's law, I = 255 exp(-(h S_0 + e S_1)), rounded. */
  static std::vector<unsigned char>
  Render(const SyntheticStainField & field, const StainParameters::StainMatrixType & stainMatrix);

  /** A typical H&E stain matrix (rows unit length), and a visibly different one, for synthetic pairs. */
  static StainParameters::StainMatrixType
  TypicalHEStainMatrix();

  static StainParameters::StainMatrixType
  AlternativeHEStainMatrix();
};

} // end namespace itk

#endif // itkSyntheticStainedTissue_h
