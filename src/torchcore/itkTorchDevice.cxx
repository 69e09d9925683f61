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
#include "itkTorchDevice.h"

#include "itkTorchErrors.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <regex>

namespace itk
{
namespace torchcore
{

torch::Device
ResolveDevice(const std::string & name)
{
  if (name == "cpu")
  {
    return torch::Device(torch::kCPU);
  }
  static const std::regex cuda("cuda(:([0-9]{1,4}))?");
  std::smatch             match;
  if (!std::regex_match(name, match, cuda))
  {
    throw ConfigurationError("Unknown device \"" + name + "\": use cpu, cuda or cuda:N");
  }
  if (!torch::cuda::is_available())
  {
    throw ConfigurationError("Device \"" + name +
                             "\" was asked for but CUDA is not available (this LibTorch is CPU-only or no GPU is "
                             "visible): use cpu");
  }
  const int index = match[2].matched ? std::stoi(match[2].str()) : 0;
  if (index >= static_cast<int>(torch::cuda::device_count()))
  {
    throw ConfigurationError("Device \"" + name + "\" does not exist: " + std::to_string(torch::cuda::device_count()) +
                             " CUDA device(s) are visible");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void
SetTorchThreads(int threads)
{
  if (threads > 0 && torch::get_num_threads() != threads)
  {
    torch::set_num_threads(threads);
  }
}

} // namespace torchcore
} // namespace itk
