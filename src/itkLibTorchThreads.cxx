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
#include "itkLibTorchThreads.h"

#include "itkTorchDevice.h"

#include <torch/torch.h>

#include <algorithm>
#include <thread>

namespace itk
{

void
LibTorchThreads::Set(unsigned int threads)
{
  torchcore::SetTorchThreads(static_cast<int>(std::max(1u, threads)));
}

void
LibTorchThreads::UseAllCores()
{
  Set(std::thread::hardware_concurrency());
}

unsigned int
LibTorchThreads::Get()
{
  return static_cast<unsigned int>(torch::get_num_threads());
}

} // end namespace itk
