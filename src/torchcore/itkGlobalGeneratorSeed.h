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
#ifndef itkGlobalGeneratorSeed_h
#define itkGlobalGeneratorSeed_h

#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <mutex>

namespace itk
{
namespace torchcore
{

/** LibTorch's global CPU generator seeded for a scope, and given back its state when the scope
 * ends. torch::nn's initialisers draw from that generator only, so a network is built inside such a
 * scope: its weights follow the seed, and the application's own random stream is as it was. */
class GlobalGeneratorSeed
{
public:
  explicit GlobalGeneratorSeed(std::uint64_t seed)
    : m_Generator(at::detail::getDefaultCPUGenerator())
    , m_Saved(m_Generator.get_state())
  {
    std::lock_guard<std::mutex> lock(m_Generator.mutex());
    m_Generator.set_current_seed(seed);
  }

  ~GlobalGeneratorSeed()
  {
    std::lock_guard<std::mutex> lock(m_Generator.mutex());
    m_Generator.set_state(m_Saved);
  }

  GlobalGeneratorSeed(const GlobalGeneratorSeed &) = delete;
  GlobalGeneratorSeed &
  operator=(const GlobalGeneratorSeed &) = delete;

private:
  at::Generator m_Generator;
  at::Tensor    m_Saved;
};

} // namespace torchcore
} // namespace itk

#endif
