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

#include <array>
#include <map>
#include <string>
#include <vector>

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

/** Metadata key of the mean R, G and B (0-255) of the patches a central model was trained on (a JSON
 * array of three numbers): how its tiles were normalised shows in their colours, and adaptation
 * compares its patches' colours with these (AdaptationSettings::MaximumColourDifference). */
constexpr const char * PatchColourMeanKey = "patch_rgb_mean";

/** Mean of each channel of uint8 patches [N, 3, H, W] (N > 0), in grey levels; std::invalid_argument
 * for anything else. */
std::array<double, 3>
PatchColourMean(const torch::Tensor & patches);

/** \p mean as the metadata's value: a JSON array, two decimals. */
std::string
PatchColourMeanText(const std::array<double, 3> & mean);

/** The patch colour mean \p metadata states, or an empty vector when it states none (a model trained
 * before it was recorded, or elsewhere); throws ModelFileError naming \p source when the value is not
 * three numbers in [0, 255]. */
std::vector<double>
StatedPatchColourMean(const std::map<std::string, std::string> & metadata, const std::string & source);

/** Writes the single-file format atomically, with `metadata` added to the configs; with
 * `halfPrecision` the floating-point weights are stored as float16 (they load back as float32). */
void
SaveDiffusionModel(const std::string & fileName, const UNet2D & unet, const NoiseSchedule & schedule,
                   std::map<std::string, std::string> metadata = {}, bool halfPrecision = false);

} // namespace diffusion
} // namespace itk

#endif
