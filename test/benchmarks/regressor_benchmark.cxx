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

// Times the C++ gene regressor for regressor_benchmark.py: optimizer steps of RegressorTrainer
// (batch gathering, dihedral augmentation, forward, MAE, backward, AdamW) and batched prediction
// (PredictExpression, eval mode under InferenceMode). Random weights and patches: speed only. Prints
// one JSON line with the best of the timed rounds. HEAP: "retain" keeps freed memory for reuse, as c2l
// does (itk::ProcessMemory::RetainFreedMemoryForReuse); "glibc" leaves glibc's malloc as it starts.
// Usage: RegressorBenchmark DEPTH SIZE BATCH GENES STEPS PREDICT_BATCHES ROUNDS THREADS HEAP

#include "itkHeapRetention.h"
#include "itkRegressorPrediction.h"
#include "itkRegressorTrainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

int
main(int argc, char * argv[])
{
  const std::string heap = argc == 10 ? argv[9] : "";
  if (argc != 10 || (heap != "retain" && heap != "glibc"))
  {
    std::cerr << "Usage: " << argv[0] << " DEPTH SIZE BATCH GENES STEPS PREDICT_BATCHES ROUNDS THREADS retain|glibc"
              << std::endl;
    return 1;
  }
  if (heap == "retain" && !itk::torchcore::RetainFreedMemoryForReuse())
  {
    std::cerr << "This C library cannot keep freed memory for reuse: use glibc" << std::endl;
    return 1;
  }
  const int          depth = std::stoi(argv[1]);
  const std::int64_t size = std::stoll(argv[2]);
  const std::int64_t batch = std::stoll(argv[3]);
  const std::int64_t genes = std::stoll(argv[4]);
  const std::int64_t steps = std::stoll(argv[5]);
  const std::int64_t predictBatches = std::stoll(argv[6]);
  const int          rounds = std::stoi(argv[7]);
  torch::set_num_threads(std::stoi(argv[8]));

  torch::manual_seed(0);
  auto       generator = at::make_generator<at::CPUGeneratorImpl>(0);
  const auto pool = torch::randint(0, 256, { 4 * batch, size, size, 3 }, generator, torch::kLong).to(torch::kUInt8);
  const auto targets = torch::rand({ 4 * batch, genes }, generator);
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const auto seconds = [](auto start, auto end) { return std::chrono::duration<double>(end - start).count(); };

  itk::regression::ResNetConfig config;
  config.depth = depth;
  config.numberOfOutputs = genes;
  itk::regression::ResNet        net(config);
  itk::RegressorTrainingSettings options;
  options.NumberOfSteps = 1000000;
  options.BatchSize = batch;
  itk::regression::RegressorTrainer trainer(net, options, pool, targets);
  trainer.Step(); // warm-up: allocations, kernel selection
  double bestTrain = 0.0;
  for (int round = 0; round < rounds; ++round)
  {
    const auto start = now();
    for (std::int64_t step = 0; step < steps; ++step)
    {
      trainer.Step();
    }
    bestTrain = std::max(bestTrain, static_cast<double>(steps * batch) / seconds(start, now()));
  }

  const auto patches = pool.narrow(0, 0, std::min<std::int64_t>(pool.size(0), predictBatches * batch));
  itk::regression::PredictExpression(net, patches.narrow(0, 0, batch), batch, "cpu"); // warm-up
  double bestPredict = 0.0;
  for (int round = 0; round < rounds; ++round)
  {
    const auto start = now();
    itk::regression::PredictExpression(net, patches, batch, "cpu");
    bestPredict = std::max(bestPredict, static_cast<double>(patches.size(0)) / seconds(start, now()));
  }
  std::cout << "{\"train_images_per_s\": " << bestTrain << ", \"predict_patches_per_s\": " << bestPredict << "}"
            << std::endl;
  return 0;
}
