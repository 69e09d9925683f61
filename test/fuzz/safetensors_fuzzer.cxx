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

// libFuzzer harness: the safetensors parser (model files, local model files, regressor files and
// checkpoints all go through it) on arbitrary bytes. A well-formed input must parse into tensors
// whose bytes lie inside the input; anything else must be refused with ModelFileError, never a
// crash, an out-of-bounds read or undefined behaviour (built with ASan and UBSan).

#include "itkSafeTensors.h"
#include "itkTorchErrors.h"

#include <cstddef>
#include <cstdint>

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  try
  {
    const auto contents =
      itk::torchcore::ParseSafeTensors(reinterpret_cast<const char *>(data), size, "the fuzzer's input");
    std::size_t bytes = 0;
    for (const auto & named : contents.tensors)
    {
      bytes += static_cast<std::size_t>(named.second.numel()) * named.second.element_size();
    }
    if (bytes > size)
    {
      __builtin_trap(); // the parser promised that every tensor's bytes lie inside the input
    }
  }
  catch (const itk::torchcore::ModelFileError &)
  {
    // A refusal is the expected outcome for almost every input.
  }
  return 0;
}
