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
#ifndef itkSHA256_h
#define itkSHA256_h

#include <cstddef>
#include <cstdint>
#include <string>

// SHA-256 (FIPS 180-4) as lower-case hex: identifies a central model file, so that a small local
// adapter can reference it instead of carrying it. No LibTorch, no ITK.

namespace itk
{
namespace torchcore
{

std::string
SHA256Hex(const void * data, std::size_t size);

/** SHA-256 of a file's bytes, read in blocks; ModelFileError if it cannot be read. */
std::string
SHA256OfFile(const std::string & fileName);

} // namespace torchcore
} // end namespace itk

#endif
