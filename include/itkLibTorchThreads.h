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
#ifndef itkLibTorchThreads_h
#define itkLibTorchThreads_h

#include "SpatialTranscriptomicsExport.h"

namespace itk
{

/** \class LibTorchThreads
 * \brief The process's LibTorch intra-op thread count: an application's decision, never a filter's.
 *
 * The module's LibTorch-backed filters change it only when their NumberOfTorchThreads (or
 * NumberOfThreads) is set above 0. Debian's LibTorch starts with one thread; an application that
 * wants all cores says so once (c2l does for the commands that train or run models).
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT LibTorchThreads
{
public:
  /** Sets the count (at least 1). */
  static void
  Set(unsigned int threads);

  /** One thread per hardware thread. */
  static void
  UseAllCores();

  static unsigned int
  Get();
};

} // end namespace itk

#endif
