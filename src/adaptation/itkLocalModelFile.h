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
#ifndef itkLocalModelFile_h
#define itkLocalModelFile_h

// The local model file: what a lab keeps (and may share) after adaptation. One safetensors file
// with the adapter's weights ("adapter.*"), the gene preprocessing it was trained with, and the
// central model either embedded ("central.*" plus its configs) or referenced by the SHA-256 of its
// file, so only the small adapter need travel: central models travel, patient data stays.

#include "itkDiffusionModelFile.h"
#include "itkGeneFiLMAdapter.h"

#include <string>

namespace itk
{
namespace adaptation
{

struct LocalModel
{
  diffusion::UNet2D        central{ nullptr };
  diffusion::NoiseSchedule schedule{ nullptr };
  GeneFiLMAdapter          adapter{ nullptr };
  /** The gene preprocessing (GenePreprocessing's JSON; the engine carries it without reading it). */
  std::string preprocessing;
  /** SHA-256 of the central model file the adapter was trained on. */
  std::string centralSHA256;
  bool        centralEmbedded{ false };
};

/** Writes atomically. \p centralFile is the central model the adapter was trained on (any format
 * LoadDiffusionModel reads; hashed as a file, so give a single-file model to reference it). */
void
SaveLocalModel(const std::string & fileName, const GeneFiLMAdapter & adapter, const std::string & preprocessing,
               const std::string & centralFile, bool embedCentral);

/** Reads a local model. A referenced central model is \p centralFile, or, when empty, the file of
 * the recorded name beside the local model; its SHA-256 must match the recorded one
 * (ModelFileError naming both otherwise). */
LocalModel
LoadLocalModel(const std::string & fileName, const std::string & centralFile = std::string());

/** True if \p fileName is a local model file (by its metadata), without loading its tensors' data. */
bool
IsLocalModelFile(const std::string & fileName);

} // namespace adaptation
} // namespace itk

#endif
