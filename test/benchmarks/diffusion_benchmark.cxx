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

// Times the C++ diffusion engine for diffusion_benchmark.py: U-Net evaluations with guidance's
// doubled batch (sampling, under InferenceMode) and optimizer steps of the trainer. Prints one JSON
// line. HEAP: "retain" keeps freed memory for reuse, as c2l does (itk::ProcessMemory::RetainFreedMemoryForReuse);
// "glibc" leaves glibc's malloc as it starts.
// Usage: DiffusionBenchmark MODEL.safetensors sample|train SIZE BATCH REPEATS THREADS retain|glibc

#include "itkDiffusionModelFile.h"
#include "itkDiffusionTrainer.h"
#include "itkHeapRetention.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

int
main(int argc, char * argv[])
{
  const std::string heap = argc == 8 ? argv[7] : "";
  if (argc != 8 || (heap != "retain" && heap != "glibc"))
  {
    std::cerr << "Usage: " << argv[0] << " MODEL sample|train SIZE BATCH REPEATS THREADS retain|glibc" << std::endl;
    return 1;
  }
  if (heap == "retain" && !itk::torchcore::RetainFreedMemoryForReuse())
  {
    std::cerr << "This C library cannot keep freed memory for reuse: use glibc" << std::endl;
    return 1;
  }
  const std::string  mode = argv[2];
  const std::int64_t size = std::stoll(argv[3]);
  const std::int64_t batch = std::stoll(argv[4]);
  const int          repeats = std::stoi(argv[5]);
  torch::set_num_threads(std::stoi(argv[6]));
  auto model = itk::diffusion::LoadDiffusionModel(argv[1]);
  torch::manual_seed(0);
  const auto now = [] { return std::chrono::steady_clock::now(); };
  double     seconds = 0.0;
  if (mode == "sample")
  {
    c10::InferenceMode inference;
    model.unet->eval();
    const auto x = torch::randn({ batch, 3, size, size });
    const auto t = torch::full({ 1 }, 500, torch::kLong);
    const auto evaluate = [&] {
      const auto both = model.unet(torch::cat({ x, x }), t).chunk(2, 0);
      return both[1] + 3.0 * (both[0] - both[1]);
    };
    evaluate(); // warm-up
    const auto start = now();
    for (int i = 0; i < repeats; ++i)
    {
      evaluate();
    }
    seconds = std::chrono::duration<double>(now() - start).count() / repeats;
  }
  else
  {
    itk::diffusion::TrainerOptions options;
    options.batchSize = batch;
    itk::diffusion::DiffusionTrainer  trainer(model.unet, model.schedule, options);
    itk::diffusion::TensorPatchSource patches(torch::randint(0, 256, { 64, 3, size, size }).to(torch::kUInt8));
    trainer.Step(patches); // warm-up
    const auto start = now();
    for (int i = 0; i < repeats; ++i)
    {
      trainer.Step(patches);
    }
    seconds = std::chrono::duration<double>(now() - start).count() / repeats;
  }
  std::cout << "{\"mode\": \"" << mode << "\", \"size\": " << size << ", \"batch\": " << batch
            << ", \"seconds\": " << seconds << ", \"threads\": " << torch::get_num_threads() << "}" << std::endl;
  return 0;
}
