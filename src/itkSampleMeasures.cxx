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
#include "itkSampleMeasures.h"

#include <algorithm>
#include <limits>

namespace itk
{

SampleMeasures
SampleMeasures::Measure(const NuclearAreaFraction::PatchStackType * real,
                        const NuclearAreaFraction::PatchStackType * other, ClassifierTwoSampleSettings classifier,
                        const PatchMorphologySettings & morphology)
{
  SampleMeasures measures;
  measures.Morphology = MorphologyComparison::Compare(real, other, morphology);
  const auto smaller = std::min(real->GetBufferedRegion().GetSize(2), other->GetBufferedRegion().GetSize(2));
  classifier.Folds = static_cast<unsigned int>(std::min<SizeValueType>(classifier.Folds, smaller));
  measures.ClassifierAUC = smaller < 2 ? std::numeric_limits<double>::quiet_NaN()
                                       : ClassifierTwoSampleResult::Compute(real, other, classifier).AUC;
  return measures;
}

} // end namespace itk
