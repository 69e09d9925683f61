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
#ifndef itkRegressorModelFile_h
#define itkRegressorModelFile_h

// The gene regressor's single file: a safetensors file of the ResNet's state (torchvision's names)
// whose `__metadata__` says what it is and how to use it ("format": "c2l-gene-regressor").

#include "itkResNet.h"
#include "itkSafeTensors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{
namespace regression
{

struct RegressorMetadata
{
  ResNetConfig config;
  /** The genes of the head's outputs, in order (config.numberOfOutputs of them). */
  std::vector<std::string> genes;
  /** The gene preprocessing the targets went through (opaque to the engine: the ITK layer's JSON). */
  std::string preprocessing;
  /** The side of the square patches, in pixels, the regressor was trained on. */
  std::int64_t imageSize = 0;
  /** Free JSON about the training (settings, final loss); "{}" when empty. */
  std::string training;
};

/** The "format" value of a regressor file. */
constexpr const char * RegressorFormat = "c2l-gene-regressor";

/** Writes \p net (on any device) and \p metadata as one safetensors file, atomically (a temporary
 * file renamed over the target). The metadata's config must be the net's and list one gene per
 * output (ConfigurationError otherwise). */
void
SaveRegressor(const std::string & fileName, ResNet & net, const RegressorMetadata & metadata);

/** Reads a file written by SaveRegressor into a new ResNet (CPU, eval mode) and \p metadata. Every
 * tensor must be there with its shape, and nothing else: ModelFileError naming the file and the
 * offending tensor otherwise; a diffusion model, local model, checkpoint or any file of another
 * format is refused with a message saying what it is. */
ResNet
LoadRegressor(const std::string & fileName, RegressorMetadata & metadata);

/** Copies every tensor but the head `fc.*` from torchvision's state_dict of the same depth, saved as
 * safetensors under torchvision's names (test/regression/convert_torchvision_weights.py writes one),
 * into \p net. Half-precision files are converted. ModelFileError if the file holds another depth
 * (saying which), lists the tensors it lacks, or a tensor has another shape. A missing
 * num_batches_tracked (state_dicts older than PyTorch 0.4.1) is tolerated, as PyTorch does. */
void
LoadTorchvisionBackbone(ResNet & net, const std::string & safetensorsFile);

/** Copies the tensors "<prefix><name>" of \p contents into \p net's state (parameters and buffers),
 * all of them and with their shapes; ModelFileError naming \p source and the tensor otherwise.
 * Tensors outside the prefix are ignored (checkpoints hold more). */
void
LoadResNetState(ResNet & net, const torchcore::SafeTensors & contents, const std::string & prefix,
                const std::string & source);

} // namespace regression
} // namespace itk

#endif
