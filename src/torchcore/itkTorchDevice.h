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
#ifndef itkTorchDevice_h
#define itkTorchDevice_h

// Where LibTorch work runs: a device by name, and the process's intra-op thread count.

#include <torch/types.h>

#include <string>

namespace itk
{
namespace torchcore
{

/** "cpu", "cuda" or "cuda:N" as a torch device; ConfigurationError for anything else, or when CUDA
 * (or device N) is not available in this build and machine. */
torch::Device
ResolveDevice(const std::string & name);

/** Sets LibTorch's intra-op thread count to `threads` when it is above 0; 0 leaves the process's
 * setting as the application made it (a filter takes no process-wide decision unless asked to). */
void
SetTorchThreads(int threads);

} // namespace torchcore
} // namespace itk

#endif
