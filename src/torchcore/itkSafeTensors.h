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
#ifndef itkSafeTensors_h
#define itkSafeTensors_h

#include "itkTorchErrors.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace itk
{
namespace torchcore
{

/** The contents of a safetensors file: named tensors (in file order) and the `__metadata__` map.
 *
 * Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON mapping each name to {dtype, shape, data_offsets} (offsets relative to the byte
 * buffer that follows), then the buffer. Nothing in it can run code. */
struct SafeTensors
{
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, std::string>                 metadata;

  /** The tensor of that name, or an undefined tensor. */
  torch::Tensor
  Find(const std::string & name) const;
};

/** Parses a safetensors image in memory. The header is validated before a data byte is used: its
 * length is bounded by the buffer (and by 100 MB), it is a JSON object of well-formed entries, every
 * dtype is known, every shape has non-negative dimensions whose product times the element size
 * equals the entry's byte count without overflow, and the entries' byte ranges lie inside the buffer,
 * do not overlap and cover it. Violations throw ModelFileError naming `source` and the entry. */
SafeTensors
ParseSafeTensors(const char * data, std::uint64_t size, const std::string & source);

/** Reads and parses a file (ModelFileError if it cannot be read, or is a directory, FIFO or device).
 * Tensors live on the CPU. */
SafeTensors
ReadSafeTensors(const std::string & fileName);

/** The `__metadata__` of a file, reading only its header (the length is checked against the file's
 * size and the JSON parsed as ReadSafeTensors does; tensor entries are not examined). */
std::map<std::string, std::string>
ReadSafeTensorsMetadata(const std::string & fileName);

/** Serialises tensors (any device; written contiguous, in the given order) and metadata. Supported
 * dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL. */
std::string
SerializeSafeTensors(const SafeTensors & contents);

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it, so a
 * killed writer never leaves a truncated file under the target name. */
void
WriteSafeTensors(const std::string & fileName, const SafeTensors & contents);

/** Writes bytes atomically (temporary file + rename); ModelFileError on failure. */
void
WriteFileAtomically(const std::string & fileName, const std::string & bytes);

} // namespace torchcore
} // namespace itk

#endif
