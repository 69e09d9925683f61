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

// SHA-256 against FIPS 180-4's published digests.

#include "itkTorchErrors.h"
#include "itkSHA256.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>

namespace
{
using namespace itk;

TEST(SHA256, PublishedTestVectors)
{
  EXPECT_EQ(torchcore::SHA256Hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(torchcore::SHA256Hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(torchcore::SHA256Hex(twoBlocks.data(), twoBlocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(torchcore::SHA256Hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const std::string path = "SHA256GTest-file.bin";
  std::ofstream(path, std::ios::binary) << million;
  EXPECT_EQ(torchcore::SHA256OfFile(path), torchcore::SHA256Hex(million.data(), million.size()));
  std::remove(path.c_str());
  EXPECT_THROW(torchcore::SHA256OfFile("/nonexistent/model.safetensors"), torchcore::ModelFileError);
}

} // namespace
