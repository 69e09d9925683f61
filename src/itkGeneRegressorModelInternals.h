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
#ifndef itkGeneRegressorModelInternals_h
#define itkGeneRegressorModelInternals_h

// Private to the library: what GeneRegressorModel holds behind its opaque pointer, shared with the
// filters that train and apply it.

#include "itkGeneRegressorModel.h"
#include "itkRegressorModelFile.h"
#include "itkResNet.h"

namespace itk
{

struct GeneRegressorModel::Internals
{
  regression::ResNet            network{ nullptr };
  regression::RegressorMetadata metadata;
};

} // end namespace itk

#endif
