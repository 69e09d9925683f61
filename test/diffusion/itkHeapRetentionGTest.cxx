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

#include "gtest/gtest.h"

#include <cstddef>
#include <cstdlib>

#if defined(__GLIBC__)
#  include <malloc.h>
#  if __GLIBC_PREREQ(2, 33)
#    define PROCESS_MEMORY_HAS_MALLINFO2 1
#  endif
#endif

#if defined(PROCESS_MEMORY_HAS_MALLINFO2)
namespace
{
// Above the largest mmap threshold glibc ever chooses by itself (32 MiB on 64-bit systems).
constexpr std::size_t blockSize = std::size_t{ 64 } << 20;

struct HeapObservation
{
  std::size_t mappedWhileHeld; // bytes malloc held in blocks mapped on their own, with the block alive
  std::size_t freeInHeapAfter; // free bytes kept in the main heap after the block was freed
  std::size_t heapAfter;       // the main heap's size after the block was freed
};

HeapObservation
AllocateTouchAndFree()
{
  void * block = std::malloc(blockSize);
  EXPECT_NE(block, nullptr);
  // Written through volatile so that the compiler can neither drop the block nor its pages.
  auto * bytes = static_cast<volatile char *>(block);
  for (std::size_t i = 0; i < blockSize; i += 4096)
  {
    bytes[i] = 1;
  }
  const auto held = mallinfo2();
  std::free(block);
  const auto after = mallinfo2();
  return { held.hblkhd, after.fordblks, after.arena };
}
} // namespace
#endif

TEST(HeapRetention, RetainedMemoryServesLargeBlocksFromTheHeapAndKeepsThemForReuse)
{
#if !defined(PROCESS_MEMORY_HAS_MALLINFO2)
  GTEST_SKIP() << "glibc 2.33 or later only (mallinfo2)";
#elif defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc, whose behaviour this test is about";
#else
  // The premise: by default glibc maps such a block on its own and unmaps it on free.
  const auto byDefault = AllocateTouchAndFree();
  EXPECT_GE(byDefault.mappedWhileHeld, blockSize);
  EXPECT_LT(byDefault.freeInHeapAfter, blockSize);

  ASSERT_TRUE(itk::torchcore::RetainFreedMemoryForReuse());
  const auto first = AllocateTouchAndFree();
  EXPECT_LT(first.mappedWhileHeld, blockSize) << "the block came from the heap";
  EXPECT_GE(first.freeInHeapAfter, blockSize) << "and stayed there after free";
  const auto second = AllocateTouchAndFree();
  EXPECT_EQ(second.heapAfter, first.heapAfter) << "a second block of the same size reuses the first's pages";
  EXPECT_LT(second.mappedWhileHeld, blockSize);
#endif
}
