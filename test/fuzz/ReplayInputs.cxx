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

// Runs a fuzz harness (LLVMFuzzerTestOneInput) on the files given, without libFuzzer: how the
// module's own build (any compiler) replays the inputs that once crashed a harness
// (test/fuzz/regressions/<harness>/) as tests of the suite. Under the sanitizer build
// (SpatialTranscriptomics_USE_SANITIZERS) a replay reports what the fuzzer would.

#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size);

int
main(int argc, char * argv[])
{
  for (int i = 1; i < argc; ++i)
  {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in)
    {
      std::cerr << "cannot read " << argv[i] << '\n';
      return 1;
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::cout << "replayed " << argc - 1 << " inputs\n";
  return 0;
}
