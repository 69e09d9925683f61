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
#ifndef itkSampleMeasures_h
#define itkSampleMeasures_h

#include "itkClassifierTwoSampleTest.h"
#include "itkPatchMorphology.h"

namespace itk
{

/** \brief A patch set measured against real patches by what colour cannot pass.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT SampleMeasures
{
  /** The classifier two-sample test's AUC (NaN when either set has fewer than 2 patches). */
  double ClassifierAUC{ 0.0 };
  /** Nuclei per patch, nucleus sizes and gradient energy of both sets. */
  MorphologyComparison Morphology;

  /** \brief ClassifierTwoSampleResult::Compute and MorphologyComparison::Compare of \p other against \p real, the folds
   * lowered to the smaller set's size when it has fewer patches than \p classifier asks for.
   * \ingroup SpatialTranscriptomics */
  static SampleMeasures
  Measure(const NuclearAreaFraction::PatchStackType * real, const NuclearAreaFraction::PatchStackType * other,
          ClassifierTwoSampleSettings     classifier = ClassifierTwoSampleSettings(),
          const PatchMorphologySettings & morphology = PatchMorphologySettings());
};

} // end namespace itk

#endif
