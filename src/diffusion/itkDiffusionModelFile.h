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
#ifndef itkDiffusionModelFile_h
#define itkDiffusionModelFile_h

#include "itkNoiseSchedule.h"
#include "itkUNet2D.h"

#include <map>
#include <string>

namespace itk
{
namespace diffusion
{

/** A U-Net with its noise schedule and the free-form metadata of its file. */
struct DiffusionModelData
{
  UNet2D                             unet{ nullptr };
  NoiseSchedule                      schedule{ nullptr };
  std::map<std::string, std::string> metadata;
};

/** Loads, on the CPU:
 * - our single file: a .safetensors whose `__metadata__` holds "unet_config" and "scheduler_config"
 *   (diffusers' JSON) and whose tensors carry diffusers' names (with "ema." copies in a training
 *   checkpoint: those are preferred, as the EMA weights are the ones to sample from);
 * - a diffusers model folder (config.json + diffusion_pytorch_model.safetensors, and
 *   scheduler_config.json if present, else DDPMScheduler's defaults);
 * - a diffusers DDPMPipeline / DDIMPipeline folder (model_index.json, unet/, scheduler/).
 * Pickled weights (.bin, .ckpt) are refused: loading them could run code. */
DiffusionModelData
LoadDiffusionModel(const std::string & path);

/** The identity of a model, as lower-case hex SHA-256: of the file's bytes for a single file; for a
 * diffusers model or pipeline folder, of the list of its model files' own SHA-256 (U-Net config,
 * weights, scheduler config, in that order; "-" for a missing scheduler config), so that two
 * folders with the same model files have the same identity wherever they are. */
std::string
SHA256OfModel(const std::string & path);

/** The name a model is recorded under: the file's name, or the folder's name (a trailing "/" or
 * "/." ignored). */
std::string
ModelName(const std::string & path);

/** Writes the single-file format atomically, with `metadata` added to the configs; with
 * `halfPrecision` the floating-point weights are stored as float16 (they load back as float32). */
void
SaveDiffusionModel(const std::string & fileName, const UNet2D & unet, const NoiseSchedule & schedule,
                   std::map<std::string, std::string> metadata = {}, bool halfPrecision = false);

} // namespace diffusion
} // namespace itk

#endif
