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
#ifndef itkDiffusionModelInternals_h
#define itkDiffusionModelInternals_h

// Private to the library: what DiffusionModel holds behind its opaque pointer, shared with the
// filters that train models (they build the engine objects a DiffusionModel then owns).

#include "itkDiffusionModel.h"
#include "itkDiffusionModelFile.h"
#include "itkGeneFiLMAdapter.h"

namespace itk
{

struct DiffusionModel::Internals
{
  diffusion::DiffusionModelData model;
  /** A local (gene-conditioned) model's adapter, its gene preprocessing (JSON) and the SHA-256 of
   * the central model it was adapted from; empty for a central model. */
  adaptation::GeneFiLMAdapter adapter{ nullptr };
  std::string                 preprocessing;
  std::string                 centralSHA256;
  /** A central model's metadata "patch_rgb_mean", parsed; empty when not stated. */
  std::vector<double> patchColourMean;
};

} // end namespace itk

#endif
