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
#ifndef itkPatchMorphology_h
#define itkPatchMorphology_h

#include "itkNuclearAreaFraction.h"

#include <vector>

namespace itk
{

/** \brief What a patch shows beyond its colours: its texture and its nuclei.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PatchMorphology
{
  /** Mean gradient magnitude of the luminance (0.299 R + 0.587 G + 0.114 B), forward differences,
   * in grey levels per pixel: high-frequency content. Noise of a tissue's colours has about twice a
   * real patch's; a smooth blob far less. */
  double GradientEnergy{ 0.0 };
  /** The area of each nucleus in the patch (square micrometres when the stack's spacing is the
   * pixel size in micrometres, else square pixels): 4-connected regions of nuclear pixels (tissue
   * with hematoxylin above the threshold) of at least the minimum area. */
  std::vector<double> NucleusAreas;

  /** The gradient energy (see PatchMorphology) of \p width x \p height interleaved RGB pixels; 0 for
   * a patch narrower or lower than 2 pixels.
   * \ingroup SpatialTranscriptomics */
  static double
  LuminanceGradientEnergy(const unsigned char * rgb, unsigned int width, unsigned int height);

  /** Each patch's morphology, nuclei found with \p nuclei's stains and threshold (ITK's connected
   * components, then RelabelComponentImageFilter's object sizes). Throws when \p patches is empty, \p
   * nuclei has not been fitted or the minimum area is negative.
   * \ingroup SpatialTranscriptomics */
  static std::vector<PatchMorphology>
  Measure(const NuclearAreaFraction & nuclei, const NuclearAreaFraction::PatchStackType * patches,
          double minimumNucleusArea);
};

/** \brief Settings of the patch morphology measures.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PatchMorphologySettings
{
  /** How the stains and the hematoxylin threshold are fitted (NuclearAreaFraction::Fit). */
  NuclearAreaFractionSettings Nuclei;
  /** Nuclear regions smaller than this (same unit as NucleusAreas) are specks, not nuclei. */
  double MinimumNucleusArea{ 8.0 };
};

/** \brief Two patch sets compared by their morphology: real tiles against generated ones (or
 * against other real tiles, which should agree).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT MorphologyComparison
{
  NuclearAreaFraction          Nuclei; ///< the stains and threshold both sets were measured with
  std::vector<PatchMorphology> Real;
  std::vector<PatchMorphology> Other;
  double                       RealNucleiPerPatch{ 0.0 };
  double                       OtherNucleiPerPatch{ 0.0 };
  double                       RealMedianNucleusArea{ 0.0 };
  double                       OtherMedianNucleusArea{ 0.0 };
  double                       RealGradientEnergy{ 0.0 }; ///< mean over the set's patches
  double                       OtherGradientEnergy{ 0.0 };

  /** (other - real) / real, of the mean nuclei per patch and of the mean gradient energy. */
  double
  NucleiPerPatchDifference() const;
  double
  GradientEnergyDifference() const;

  /** Fits the stains over both sets and the hematoxylin threshold on \p real
   * (NuclearAreaFraction::Fit), then measures and summarises each set.
   * \ingroup SpatialTranscriptomics */
  static MorphologyComparison
  Compare(const NuclearAreaFraction::PatchStackType * real, const NuclearAreaFraction::PatchStackType * other,
          const PatchMorphologySettings & settings = PatchMorphologySettings());
};

} // end namespace itk

#endif
