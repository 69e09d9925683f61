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
#include "itkSafeTensors.h"
#include "itkReadableFile.h"

#include "itkAtomicFileWriting.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace itk
{
namespace torchcore
{
namespace
{
// A header larger than this is refused before it is parsed (the reference implementation's bound).
constexpr std::uint64_t MaximumHeaderBytes = 100'000'000;

struct DTypeInfo
{
  const char *      name;
  torch::ScalarType type;
  std::uint64_t     bytes;
};

const std::vector<DTypeInfo> &
DTypes()
{
  static const std::vector<DTypeInfo> table{ { "F64", torch::kFloat64, 8 }, { "F32", torch::kFloat32, 4 },
                                             { "F16", torch::kFloat16, 2 }, { "BF16", torch::kBFloat16, 2 },
                                             { "I64", torch::kInt64, 8 },   { "I32", torch::kInt32, 4 },
                                             { "I16", torch::kInt16, 2 },   { "I8", torch::kInt8, 1 },
                                             { "U8", torch::kUInt8, 1 },    { "BOOL", torch::kBool, 1 } };
  return table;
}

[[noreturn]] void
Fail(const std::string & source, const std::string & what)
{
  throw ModelFileError("Invalid safetensors file " + source + ": " + what);
}

struct Entry
{
  std::string               name;
  const DTypeInfo *         dtype = nullptr;
  std::vector<std::int64_t> shape;
  std::uint64_t             begin = 0;
  std::uint64_t             end = 0;
};

/** The header length that the first 8 bytes (little-endian) state, checked against the file's size
 * (first8 is only read when the file has 8 bytes). */
std::uint64_t
HeaderLength(const char * first8, std::uint64_t fileSize, const std::string & source)
{
  if (fileSize < 8)
  {
    Fail(source, "it has " + std::to_string(fileSize) + " bytes, fewer than the 8-byte header length (truncated?)");
  }
  std::uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
  {
    headerBytes = (headerBytes << 8) | static_cast<unsigned char>(first8[i]);
  }
  if (headerBytes > MaximumHeaderBytes)
  {
    Fail(source, "its header claims " + std::to_string(headerBytes) + " bytes, more than the 100 MB allowed");
  }
  if (headerBytes > fileSize - 8)
  {
    Fail(source,
         "its header claims " + std::to_string(headerBytes) + " bytes but only " + std::to_string(fileSize - 8) +
           " follow (truncated?)");
  }
  return headerBytes;
}

nlohmann::json
ParseHeader(const char * text, std::uint64_t length, const std::string & source)
{
  nlohmann::json header;
  try
  {
    header = nlohmann::json::parse(text, text + length);
  }
  catch (const nlohmann::json::exception & e)
  {
    Fail(source, std::string("its header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object())
  {
    Fail(source, "its header is not a JSON object");
  }
  return header;
}

std::map<std::string, std::string>
MetadataOf(const nlohmann::json & value, const std::string & source)
{
  if (!value.is_object())
  {
    Fail(source, "__metadata__ is not an object of strings");
  }
  std::map<std::string, std::string> metadata;
  for (const auto & meta : value.items())
  {
    if (!meta.value().is_string())
    {
      Fail(source, "__metadata__ entry \"" + meta.key() + "\" is not a string");
    }
    metadata[meta.key()] = meta.value().get<std::string>();
  }
  return metadata;
}

/** Opens a model file for reading after checking that it is a readable regular file. */
std::ifstream
OpenModelFile(const std::string & fileName)
{
  const std::string problem = ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    throw ModelFileError("Cannot read the model file " + fileName + ": " + problem +
                         " (give a .safetensors file, or a diffusers folder where a folder is accepted)");
  }
  std::ifstream file(fileName, std::ios::binary | std::ios::ate);
  if (!file || file.tellg() < 0)
  {
    throw ModelFileError("Cannot read the model file " + fileName);
  }
  return file;
}
} // namespace

torch::Tensor
SafeTensors::Find(const std::string & name) const
{
  for (const auto & entry : tensors)
  {
    if (entry.first == name)
    {
      return entry.second;
    }
  }
  return {};
}

SafeTensors
ParseSafeTensors(const char * data, std::uint64_t size, const std::string & source)
{
  const std::uint64_t  headerBytes = HeaderLength(data, size, source);
  const nlohmann::json header = ParseHeader(data + 8, headerBytes, source);
  const std::uint64_t  bufferBytes = size - 8 - headerBytes;
  const char *         buffer = data + 8 + headerBytes;

  SafeTensors        result;
  std::vector<Entry> entries;
  for (const auto & item : header.items())
  {
    if (item.key() == "__metadata__")
    {
      result.metadata = MetadataOf(item.value(), source);
      continue;
    }
    const auto & value = item.value();
    Entry        entry;
    entry.name = item.key();
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets") ||
        !value["dtype"].is_string() || !value["shape"].is_array() || !value["data_offsets"].is_array() ||
        value["data_offsets"].size() != 2)
    {
      Fail(source, "tensor \"" + entry.name + "\" lacks a string dtype, an array shape or two data_offsets");
    }
    const auto dtypeName = value["dtype"].get<std::string>();
    for (const auto & info : DTypes())
    {
      if (dtypeName == info.name)
      {
        entry.dtype = &info;
      }
    }
    if (entry.dtype == nullptr)
    {
      Fail(source, "tensor \"" + entry.name + "\" has the unsupported dtype \"" + dtypeName + "\"");
    }
    // The element count is accumulated with an overflow check: a hostile shape must not wrap around
    // to a small byte count.
    std::uint64_t elements = 1;
    for (const auto & dimension : value["shape"])
    {
      if (!dimension.is_number_unsigned())
      {
        Fail(source, "tensor \"" + entry.name + "\" has a shape entry that is not a non-negative integer");
      }
      const auto extent = dimension.get<std::uint64_t>();
      if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
          (extent != 0 && elements > std::numeric_limits<std::uint64_t>::max() / extent))
      {
        Fail(source, "tensor \"" + entry.name + "\" has an absurd shape (its element count overflows)");
      }
      elements *= extent;
      entry.shape.push_back(static_cast<std::int64_t>(extent));
    }
    if (elements > bufferBytes / entry.dtype->bytes + 1)
    {
      Fail(source, "tensor \"" + entry.name + "\" has an absurd shape: more elements than the file could hold");
    }
    for (const auto & offset : value["data_offsets"])
    {
      if (!offset.is_number_unsigned())
      {
        Fail(source, "tensor \"" + entry.name + "\" has a data offset that is not a non-negative integer");
      }
    }
    entry.begin = value["data_offsets"][0].get<std::uint64_t>();
    entry.end = value["data_offsets"][1].get<std::uint64_t>();
    if (entry.begin > entry.end || entry.end > bufferBytes)
    {
      Fail(source,
           "tensor \"" + entry.name + "\" has data offsets [" + std::to_string(entry.begin) + ", " +
             std::to_string(entry.end) + "] outside the " + std::to_string(bufferBytes) +
             "-byte data buffer (truncated?)");
    }
    if (entry.end - entry.begin != elements * entry.dtype->bytes)
    {
      Fail(source,
           "tensor \"" + entry.name + "\" has " + std::to_string(entry.end - entry.begin) + " bytes but its dtype " +
             dtypeName + " and shape need " + std::to_string(elements * entry.dtype->bytes));
    }
    entries.push_back(std::move(entry));
  }

  // Byte ranges, in offset order, must tile the buffer exactly: no overlap (two tensors sharing
  // bytes), no gap (hidden bytes), nothing left over.
  std::vector<const Entry *> byOffset;
  for (const auto & entry : entries)
  {
    byOffset.push_back(&entry);
  }
  std::sort(byOffset.begin(), byOffset.end(), [](const Entry * a, const Entry * b) {
    return a->begin < b->begin || (a->begin == b->begin && a->end < b->end);
  });
  std::uint64_t expected = 0;
  for (const auto * entry : byOffset)
  {
    if (entry->begin < expected)
    {
      Fail(source, "tensor \"" + entry->name + "\" overlaps the bytes of another tensor");
    }
    if (entry->begin > expected)
    {
      Fail(source, "there are unused bytes before tensor \"" + entry->name + "\"");
    }
    expected = entry->end;
  }
  if (expected != bufferBytes)
  {
    Fail(source,
         "its tensors use " + std::to_string(expected) + " bytes of a " + std::to_string(bufferBytes) +
           "-byte data buffer (trailing bytes)");
  }

  // Only now are data bytes read. Tensors are copied, so they outlive `data`.
  std::sort(entries.begin(), entries.end(), [](const Entry & a, const Entry & b) { return a.begin < b.begin; });
  for (const auto & entry : entries)
  {
    auto tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.dtype->type));
    if (entry.end > entry.begin)
    {
      std::memcpy(tensor.data_ptr(), buffer + entry.begin, entry.end - entry.begin);
    }
    result.tensors.emplace_back(entry.name, tensor);
  }
  return result;
}

SafeTensors
ReadSafeTensors(const std::string & fileName)
{
  std::ifstream file = OpenModelFile(fileName);
  std::string   bytes(static_cast<std::size_t>(file.tellg()), '\0');
  file.seekg(0);
  if (!file.read(&bytes[0], static_cast<std::streamsize>(bytes.size())))
  {
    throw ModelFileError("Cannot read the model file " + fileName);
  }
  return ParseSafeTensors(bytes.data(), bytes.size(), fileName);
}

std::map<std::string, std::string>
ReadSafeTensorsMetadata(const std::string & fileName)
{
  std::ifstream       file = OpenModelFile(fileName);
  const std::uint64_t size = static_cast<std::uint64_t>(file.tellg());
  char                first8[8] = {};
  file.seekg(0);
  file.read(first8, 8); // HeaderLength refuses a file of fewer bytes
  std::string header(static_cast<std::size_t>(HeaderLength(first8, size, fileName)), '\0');
  if (!file.read(&header[0], static_cast<std::streamsize>(header.size())))
  {
    throw ModelFileError("Cannot read the model file " + fileName);
  }
  const auto json = ParseHeader(header.data(), header.size(), fileName);
  return json.contains("__metadata__") ? MetadataOf(json["__metadata__"], fileName)
                                       : std::map<std::string, std::string>{};
}

std::string
SerializeSafeTensors(const SafeTensors & contents)
{
  nlohmann::json header = nlohmann::json::object();
  if (!contents.metadata.empty())
  {
    header["__metadata__"] = contents.metadata;
  }
  std::vector<torch::Tensor> cpuTensors;
  std::uint64_t              offset = 0;
  for (const auto & named : contents.tensors)
  {
    if (named.first == "__metadata__" || header.contains(named.first))
    {
      throw ModelFileError("Cannot write tensor \"" + named.first + "\": the name is reserved or repeated");
    }
    const DTypeInfo * info = nullptr;
    for (const auto & candidate : DTypes())
    {
      if (candidate.type == named.second.scalar_type())
      {
        info = &candidate;
      }
    }
    if (info == nullptr)
    {
      throw ModelFileError("Cannot write tensor \"" + named.first + "\": its dtype has no safetensors code");
    }
    auto                cpu = named.second.detach().to(torch::kCPU).contiguous();
    const std::uint64_t bytes = static_cast<std::uint64_t>(cpu.numel()) * info->bytes;
    header[named.first] = { { "dtype", info->name },
                            { "shape", cpu.sizes().vec() },
                            { "data_offsets", { offset, offset + bytes } } };
    offset += bytes;
    cpuTensors.push_back(cpu);
  }
  std::string headerText = header.dump();
  // Pad the header with spaces so the buffer starts 8-byte aligned (as the reference writer does).
  headerText.append((8 - headerText.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + headerText.size() + offset);
  std::uint64_t headerBytes = headerText.size();
  for (int i = 0; i < 8; ++i)
  {
    out.push_back(static_cast<char>((headerBytes >> (8 * i)) & 0xff));
  }
  out += headerText;
  for (const auto & tensor : cpuTensors)
  {
    out.append(static_cast<const char *>(tensor.data_ptr()), tensor.numel() * tensor.element_size());
  }
  return out;
}

void
WriteFileAtomically(const std::string & fileName, const std::string & bytes)
{
  try
  {
    atomic_file::Write(fileName, bytes, "the model file");
  }
  catch (const atomic_file::WriteError & e)
  {
    throw ModelFileError(e.what());
  }
}

void
WriteSafeTensors(const std::string & fileName, const SafeTensors & contents)
{
  WriteFileAtomically(fileName, SerializeSafeTensors(contents));
}

} // namespace torchcore
} // namespace itk
