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
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <mutex>

namespace itk
{
namespace torchcore
{

/** LibTorch's global CPU generator seeded for a scope, and given back its state when the scope
 * ends. torch::nn's initialisers draw from that generator only, so a network is built inside such a
 * scope: its weights follow the seed, and the application's own random stream is as it was.
 *
 * One scope at a time in the process: filters updating on two threads at once (e.g. the ranks of a
 * data-parallel run as threads) would otherwise interleave their draws, and each network's weights
 * would depend on the other's timing. */
class GlobalGeneratorSeed
{
public:
  explicit GlobalGeneratorSeed(std::uint64_t seed)
    : m_Scope(ScopeMutex())
    , m_Generator(at::detail::getDefaultCPUGenerator())
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
  static std::mutex &
  ScopeMutex()
  {
    static std::mutex mutex;
    return mutex;
  }

  std::unique_lock<std::mutex> m_Scope;
  at::Generator                m_Generator;
  at::Tensor                   m_Saved;
};

/** Builds a module whose initial weights are overwritten at once (a model about to load its weights,
 * a copy): its construction still draws from the global generator, and must not disturb a seeded
 * construction on another thread, so it happens inside a scope too (the generator's state is given
 * back afterwards). */
template <typename Build>
auto
BuildModuleToOverwrite(Build build)
{
  const GlobalGeneratorSeed scope(0);
  return build();
}

} // namespace torchcore
} // namespace itk

#endif
