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
#include "itkHeapRetention.h"

#include <cstdlib> // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace itk
{
namespace torchcore
{

bool
RetainFreedMemoryForReuse()
{
#if defined(__GLIBC__)
  // M_MMAP_MAX 0: no block is mapped on its own, all come from the heap (a thread arena that cannot
  // hold a block passes it to the main arena). M_TRIM_THRESHOLD -1: the heap's free top is never
  // given back (mallopt(3)).
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
#else
  return false;
#endif
}

} // namespace torchcore
} // namespace itk
