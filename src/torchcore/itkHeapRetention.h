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
#ifndef itkHeapRetention_h
#define itkHeapRetention_h

// The process's heap policy for training, behind itk::RetainFreedMemoryForReuse
// (include/itkProcessMemory.h, which says why and at what price). No LibTorch, no ITK: the engine's
// benchmark programs use it too.

namespace itk
{
namespace torchcore
{

/** glibc's malloc serves every block from its heap (none mapped on its own) and never gives the
 * heap's free top back to the system, for the whole process. False where the C library is not glibc
 * or mallopt refuses. */
bool
RetainFreedMemoryForReuse();

} // namespace torchcore
} // namespace itk

#endif
