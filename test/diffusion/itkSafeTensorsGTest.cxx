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

// safetensors: round trips of every dtype and the metadata, atomic writes, and the rejection of
// truncated and hostile files before any data byte is trusted.

#include "itkSafeTensors.h"
#include "itkDiffusionTestUtilities.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <fstream>

#include <sys/stat.h>

namespace
{
using itk::torchcore::ModelFileError;
using itk::torchcore::ParseSafeTensors;
using itk::torchcore::SafeTensors;

/** A file image with a hand-written header and `dataBytes` zero bytes of data. */
std::string
Image(const std::string & header, std::size_t dataBytes)
{
  std::string   out;
  std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
  {
    out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  }
  return out + header + std::string(dataBytes, '\0');
}

/** Expects parsing to fail with a message that contains `expected`. */
void
ExpectRejected(const std::string & bytes, const std::string & expected)
{
  try
  {
    itk::torchcore::ParseSafeTensors(bytes.data(), bytes.size(), "hostile.safetensors");
    ADD_FAILURE() << "accepted a file that should fail with: " << expected;
  }
  catch (const itk::torchcore::ModelFileError & e)
  {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hostile.safetensors"), std::string::npos) << e.what();
  }
}
} // namespace

TEST(SafeTensors, RoundTripsEveryDTypeAndTheMetadata)
{
  torch::manual_seed(0);
  itk::torchcore::SafeTensors contents;
  contents.tensors = { { "f32", torch::randn({ 2, 3 }) },
                       { "f16", torch::randn({ 5 }).to(torch::kFloat16) },
                       { "bf16", torch::randn({ 1, 4 }).to(torch::kBFloat16) },
                       { "f64", torch::randn({ 3 }, torch::kFloat64) },
                       { "i64", torch::arange(7) },
                       { "u8", torch::arange(3).to(torch::kUInt8) },
                       { "bool", torch::tensor({ true, false, true }) },
                       { "empty", torch::zeros({ 0, 4 }) },
                       { "scalar", torch::tensor(3.5f) } };
  contents.metadata = { { "unet_config", "{\"a\": 1}" }, { "note", "text" } };
  const auto bytes = itk::torchcore::SerializeSafeTensors(contents);
  const auto parsed = itk::torchcore::ParseSafeTensors(bytes.data(), bytes.size(), "memory");
  ASSERT_EQ(parsed.tensors.size(), contents.tensors.size());
  for (const auto & named : contents.tensors)
  {
    const auto read = parsed.Find(named.first);
    ASSERT_TRUE(read.defined()) << named.first;
    EXPECT_EQ(read.scalar_type(), named.second.scalar_type()) << named.first;
    EXPECT_EQ(read.sizes(), named.second.sizes()) << named.first;
    EXPECT_TRUE(torch::equal(read, named.second)) << named.first;
  }
  EXPECT_EQ(parsed.metadata, contents.metadata);
  // Tensors come back in file (offset) order, the order they were written in.
  EXPECT_EQ(parsed.tensors.front().first, "f32");
  EXPECT_FALSE(parsed.Find("absent").defined());
}

TEST(SafeTensors, WritesAtomicallyAndReportsUnwritableFolders)
{
  const auto                  folder = itk::DiffusionTest::ScratchFolder("safetensors-atomic");
  const auto                  file = (folder / "model.safetensors").string();
  itk::torchcore::SafeTensors first;
  first.tensors = { { "x", torch::ones({ 4 }) } };
  itk::torchcore::WriteSafeTensors(file, first);
  itk::torchcore::SafeTensors second;
  second.tensors = { { "x", torch::full({ 4 }, 2.0f) } };
  itk::torchcore::WriteSafeTensors(file, second);
  EXPECT_TRUE(torch::equal(itk::torchcore::ReadSafeTensors(file).Find("x"), second.tensors[0].second));
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp-partial"));
  EXPECT_THROW(itk::torchcore::WriteSafeTensors((folder / "missing" / "m.safetensors").string(), first),
               itk::torchcore::ModelFileError);
  EXPECT_THROW(itk::torchcore::ReadSafeTensors((folder / "absent.safetensors").string()),
               itk::torchcore::ModelFileError);
  std::filesystem::remove_all(folder);
}

TEST(SafeTensors, RejectsTruncatedFiles)
{
  itk::torchcore::SafeTensors contents;
  contents.tensors = { { "a", torch::randn({ 16, 16 }) }, { "b", torch::randn({ 8 }) } };
  const auto bytes = itk::torchcore::SerializeSafeTensors(contents);
  ExpectRejected(bytes.substr(0, 5), "fewer than the 8-byte header length");
  ExpectRejected(bytes.substr(0, 40), "truncated");
  // Cut inside the data: the last tensor's range runs past the end.
  ExpectRejected(bytes.substr(0, bytes.size() - 3), "outside");
}

TEST(SafeTensors, RejectsHostileHeaders)
{
  const std::string f32 = "\"dtype\":\"F32\"";
  std::string       huge(8, '\0');
  huge[4] = 0x10; // 2^36 bytes of header
  ExpectRejected(huge + "{}", "more than the 100 MB allowed");
  ExpectRejected(Image("{not json", 0), "not valid JSON");
  ExpectRejected(Image("[1, 2]", 0), "not a JSON object");
  ExpectRejected(Image("{\"a\": 3}", 0), "lacks a string dtype");
  ExpectRejected(Image("{\"a\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unsupported dtype");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "not a non-negative");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "need 8");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4),
                 "absurd shape");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1099511627776],\"data_offsets\":[0,4]}}", 4), "absurd shape");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[4,0]}}", 4), "outside");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{" + f32 +
                         ",\"shape\":[1],\"data_offsets\":[2,6]}}",
                       8),
                 "overlaps");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "unused bytes");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[0,4]}}", 12), "trailing bytes");
  ExpectRejected(Image("{\"__metadata__\":{\"k\":3}}", 0), "not a string");
  ExpectRejected(Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 4), "outside");
  // A well-formed file still parses (the checks above fail for their own reasons only).
  const auto good = Image("{\"a\":{" + f32 + ",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
  EXPECT_EQ(itk::torchcore::ParseSafeTensors(good.data(), good.size(), "good").tensors.size(), 1u);
}

TEST(SafeTensors, RefusesPathsThatAreNotRegularFilesBeforeReading)
{
  // A directory once reached the reader as a file and its "size" became a string length; a FIFO
  // would block the reader until something wrote to it. Each is refused by name before a byte is read.
  const auto folder = itk::DiffusionTest::ScratchFolder("safetensors-not-files");
  const auto fifo = (folder / "pipe.safetensors").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::pair<std::string, std::string>> cases{ { folder.string(), "is a directory" },
                                                                { fifo, "is a FIFO" },
                                                                { "/dev/null", "is a device" },
                                                                { (folder / "absent").string(), "does not exist" },
                                                                { "", "no file name" } };
  for (const auto & [path, expected] : cases)
  {
    for (const bool headerOnly : { false, true })
    {
      try
      {
        if (headerOnly)
        {
          itk::torchcore::ReadSafeTensorsMetadata(path);
        }
        else
        {
          itk::torchcore::ReadSafeTensors(path);
        }
        ADD_FAILURE() << "read " << path;
      }
      catch (const itk::torchcore::ModelFileError & e)
      {
        EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("Cannot read the model file " + path), std::string::npos) << e.what();
      }
    }
  }
  std::filesystem::remove_all(folder);
}

TEST(SafeTensors, MetadataAloneComesFromTheHeader)
{
  const auto                  folder = itk::DiffusionTest::ScratchFolder("safetensors-metadata");
  const auto                  file = (folder / "model.safetensors").string();
  itk::torchcore::SafeTensors contents;
  contents.tensors = { { "x", torch::randn({ 64, 64 }) } };
  contents.metadata = { { "format", "c2l-local-model" }, { "note", "text" } };
  itk::torchcore::WriteSafeTensors(file, contents);
  EXPECT_EQ(itk::torchcore::ReadSafeTensorsMetadata(file), contents.metadata);

  // The tensors are not read: a file cut inside its data still yields its metadata, which the
  // full reader refuses; a file cut inside its header is refused by both.
  const auto bytes = itk::torchcore::SerializeSafeTensors(contents);
  std::ofstream((folder / "cut-data.safetensors").string(), std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  EXPECT_EQ(itk::torchcore::ReadSafeTensorsMetadata((folder / "cut-data.safetensors").string()), contents.metadata);
  EXPECT_THROW(itk::torchcore::ReadSafeTensors((folder / "cut-data.safetensors").string()),
               itk::torchcore::ModelFileError);
  std::ofstream((folder / "cut-header.safetensors").string(), std::ios::binary) << bytes.substr(0, 20);
  EXPECT_THROW(itk::torchcore::ReadSafeTensorsMetadata((folder / "cut-header.safetensors").string()),
               itk::torchcore::ModelFileError);
  std::ofstream((folder / "tiny.safetensors").string(), std::ios::binary) << "abc";
  EXPECT_THROW(itk::torchcore::ReadSafeTensorsMetadata((folder / "tiny.safetensors").string()),
               itk::torchcore::ModelFileError);
  // No __metadata__: an empty map.
  itk::torchcore::SafeTensors bare;
  bare.tensors = contents.tensors;
  itk::torchcore::WriteSafeTensors((folder / "bare.safetensors").string(), bare);
  EXPECT_TRUE(itk::torchcore::ReadSafeTensorsMetadata((folder / "bare.safetensors").string()).empty());
  std::filesystem::remove_all(folder);
}
