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

// libFuzzer harness: the model configurations read from outside, in diffusers' own files and in
// the __metadata__ of the module's model files: a U-Net config.json (UNet2DConfig, also
// "unet_config") and a scheduler_config.json (SchedulerConfig, also "scheduler_config"), with
// Python's bare Infinity and NaN. The first byte picks the parser, the rest is the text. A config
// must be refused with the engine's own error (torchcore::TorchError), and one that is accepted must
// survive the loader's Validate and read back from its own ToJson unchanged (what the module writes
// into every model file).

#include "itkNoiseSchedule.h"
#include "itkTorchErrors.h"
#include "itkUNet2DConfig.h"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace
{
template <typename Config>
void
CheckConfig(const std::string & text)
{
  const auto config = Config::FromJson(text);
  config.Validate();
  const auto written = config.ToJson();
  if (Config::FromJson(written).ToJson() != written)
  {
    std::abort(); // a config the module writes does not read back as itself
  }
}
} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  if (size == 0)
  {
    return 0;
  }
  const std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
  try
  {
    if (data[0] % 2 == 0)
    {
      CheckConfig<itk::diffusion::UNet2DConfig>(text);
    }
    else
    {
      CheckConfig<itk::diffusion::SchedulerConfig>(text);
    }
  }
  catch (const itk::torchcore::TorchError &)
  {}
  return 0;
}
