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
#ifndef itkDiffusionTestUtilities_h
#define itkDiffusionTestUtilities_h

#include "itkUNet2D.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace itk
{
namespace DiffusionTest
{

/** A tiny U-Net: two scales of width 8 and 16, attention at the coarse one, 16x16 images. */
inline diffusion::UNet2DConfig
TinyConfig()
{
  diffusion::UNet2DConfig config;
  config.sampleSize = 16;
  config.blockOutChannels = { 8, 16 };
  config.downBlockTypes = { "DownBlock2D", "AttnDownBlock2D" };
  config.upBlockTypes = { "AttnUpBlock2D", "UpBlock2D" };
  config.layersPerBlock = 1;
  config.normNumGroups = 4;
  config.attentionHeadDim = 4;
  return config;
}

/** A fresh folder under the build tree, unique to this process (tests may run in parallel). */
inline std::filesystem::path
ScratchFolder(const std::string & name)
{
  const auto folder = std::filesystem::path(DIFFUSION_TEST_OUTPUT) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

} // namespace DiffusionTest
} // namespace itk

#endif
