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
#ifndef itkSeededPermutation_h
#define itkSeededPermutation_h

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

namespace itk
{

/** 0 .. count - 1 in a seeded random order: Fisher-Yates with raw mt19937 draws, so the same on every
 * platform and standard library (std::shuffle's order is implementation-defined). The random splits
 * and the cross-fitting folds are drawn from it. */
inline std::vector<std::size_t>
SeededPermutation(std::size_t count, std::uint32_t seed)
{
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 generator(seed);
  for (std::size_t i = count; i > 1; --i)
  {
    std::swap(order[i - 1], order[static_cast<std::size_t>(generator() % i)]);
  }
  return order;
}

} // end namespace itk

#endif
