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
#ifndef itkProcessMemory_h
#define itkProcessMemory_h

#include "SpatialTranscriptomicsExport.h"

namespace itk
{

/** \class ProcessMemory
 * \brief The process's heap: whether freed memory is kept for reuse.
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT ProcessMemory
{
public:
  ProcessMemory() = delete; // a family of functions: nothing to construct

  /** \brief Makes the process keep freed heap memory for reuse: faster training steps, memory that
   * does not shrink after its peak.
   *
   * Training allocates and frees the same large activation tensors in every step. glibc's malloc maps
   * each block above its mmap threshold (32 MiB at most) on its own and unmaps it when freed, so every
   * step faults all of those pages in again. After this call every block comes from the heap and freed
   * memory stays there: ResNet-50 training at 224 px, batch 16, ran 1.5x faster on 2 cores
   * (Documentation/Benchmarks.md). The price is that the process's resident memory stays at its peak.
   *
   * It changes the whole process, so it is an application's decision, made once in its main() (c2l
   * makes it); a library or a plug-in should not. The same from outside a program:
   * `MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=-1`. Returns false where the C library is not glibc
   * (nothing changes) or glibc refuses the setting.
   *
   * \ingroup SpatialTranscriptomics */
  static bool
  RetainFreedMemoryForReuse();
};

} // namespace itk

#endif
