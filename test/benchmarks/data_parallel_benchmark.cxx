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

// What data-parallel pretraining costs on one machine, measured in one run (Documentation/
// DataParallel.md): (1) the all-reduce of a U-Net's gradients between 2 ranks (processes) on
// loopback, for the paper's U-Net (base width 64, 4 scales) and for a flat 63 M-parameter set;
// (2) optimizer steps of the paper's U-Net at global batch BATCH as 1 process x 2 threads and as
// 2 ranks x 1 thread, in images/s, with the ratio of the two. Every measurement runs in processes
// forked before LibTorch starts, so no thread pool or setting leaks between them. Prints JSON lines.
// Usage: DataParallelBenchmark [IMAGE_SIZE=32] [BATCH=8] [STEPS=3] [REPEATS=5]

#include "itkDataParallelGroup.h"
#include "itkDiffusionTrainer.h"
#include "itkGlobalGeneratorSeed.h"
#include "itkLoopbackPort.h"

#include <torch/torch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <vector>

namespace
{
using Clock = std::chrono::steady_clock;
using itk::testing::FreePort;

/** Runs body(rank) in \p ranks forked processes and waits for them; false if any failed. */
bool
InProcesses(unsigned int ranks, const std::function<void(unsigned int)> & body)
{
  std::vector<pid_t> children;
  for (unsigned int rank = 0; rank < ranks; ++rank)
  {
    const pid_t pid = fork();
    if (pid == 0)
    {
      try
      {
        body(rank);
      }
      catch (const std::exception & e)
      {
        std::cerr << "rank " << rank << ": " << e.what() << std::endl;
        _exit(1);
      }
      std::cout.flush();
      _exit(0);
    }
    children.push_back(pid);
  }
  bool succeeded = true;
  for (const pid_t child : children)
  {
    int status = 0;
    waitpid(child, &status, 0);
    succeeded = succeeded && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return succeeded;
}

itk::DataParallelSettings
Rank(unsigned int rank, unsigned int port)
{
  itk::DataParallelSettings settings;
  settings.Rank = rank;
  settings.WorldSize = 2;
  settings.MasterPort = port;
  settings.TimeoutSeconds = 600.0;
  return settings;
}

double
Median(std::vector<double> values)
{
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

itk::diffusion::UNet2DConfig
PaperUNet(std::int64_t imageSize)
{
  itk::diffusion::UNet2DConfig config; // the defaults are the paper's: widths 64, 128, 256, 256
  config.sampleSize = imageSize;
  return config;
}

/** Seconds of one all-reduce (median of \p repeats after a warm-up) of \p parameters' gradients. */
void
TimeAllReduce(const std::string & name, std::vector<torch::Tensor> parameters, unsigned int rank, unsigned int port,
              int repeats)
{
  torch::set_num_threads(1);
  std::int64_t count = 0;
  for (auto & parameter : parameters)
  {
    parameter.mutable_grad() = torch::randn_like(parameter);
    count += parameter.numel();
  }
  itk::torchcore::DataParallelGroup group(Rank(rank, port), torch::kCPU);
  group.AverageGradients(parameters); // warm-up: connections, allocations
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i)
  {
    group.Barrier();
    const auto start = Clock::now();
    group.AverageGradients(parameters);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  if (rank == 0)
  {
    const double bytes = 4.0 * static_cast<double>(count);
    const double median = Median(seconds);
    std::cout << "{\"measure\": \"all-reduce\", \"gradients\": \"" << name << "\", \"parameters\": " << count
              << ", \"bytes\": " << bytes << ", \"seconds\": " << median
              << ", \"algorithm_GB_per_s\": " << bytes / median / 1e9
              << ", \"bus_GB_per_s\": " << 2.0 * (2 - 1) / 2 * bytes / median / 1e9 << "}" << std::endl;
  }
}

/** Seconds per optimizer step of the paper's U-Net at global batch \p batch on this rank. */
void
TimeSteps(const std::string & setup, unsigned int ranks, unsigned int rank, unsigned int port, int threads,
          std::int64_t imageSize, std::int64_t batch, int steps)
{
  torch::set_num_threads(threads);
  itk::diffusion::UNet2D unet = [&] {
    const itk::torchcore::GlobalGeneratorSeed seeded(0);
    return itk::diffusion::UNet2D(PaperUNet(imageSize));
  }();
  itk::diffusion::TrainerOptions options;
  options.batchSize = batch;
  itk::diffusion::DiffusionTrainer trainer(
    unet, itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}), options);
  std::shared_ptr<itk::torchcore::DataParallelGroup> group;
  if (ranks > 1)
  {
    group = std::make_shared<itk::torchcore::DataParallelGroup>(Rank(rank, port), torch::kCPU);
    trainer.SetDataParallelGroup(group);
  }
  const auto patches = torch::randint(0, 256, { 64, 3, imageSize, imageSize }, torch::kUInt8);
  const itk::diffusion::TensorPatchSource source(patches);
  trainer.Step(source); // warm-up
  std::vector<double> seconds;
  for (int i = 0; i < steps; ++i)
  {
    if (group)
    {
      group->Barrier();
    }
    const auto start = Clock::now();
    trainer.Step(source);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  if (rank == 0)
  {
    const double median = Median(seconds);
    std::cout << "{\"measure\": \"training step\", \"setup\": \"" << setup << "\", \"image_size\": " << imageSize
              << ", \"global_batch\": " << batch << ", \"seconds_per_step\": " << median
              << ", \"images_per_s\": " << static_cast<double>(batch) / median << "}" << std::endl;
  }
}
} // namespace

int
main(int argc, char * argv[])
{
  const std::int64_t imageSize = argc > 1 ? std::stoll(argv[1]) : 32;
  const std::int64_t batch = argc > 2 ? std::stoll(argv[2]) : 8;
  const int          steps = argc > 3 ? std::stoi(argv[3]) : 3;
  const int          repeats = argc > 4 ? std::stoi(argv[4]) : 5;
  bool               succeeded = true;

  // (1) All-reduce of the gradients, 2 ranks on loopback.
  unsigned int port = FreePort();
  succeeded &= InProcesses(2, [&](unsigned int rank) {
    itk::diffusion::UNet2D unet(PaperUNet(imageSize));
    TimeAllReduce("paper U-Net", unet->parameters(), rank, port, repeats);
  });
  port = FreePort();
  succeeded &= InProcesses(2, [&](unsigned int rank) {
    // 63 M parameters as 63 tensors of 1 M (the figure the issue names).
    std::vector<torch::Tensor> parameters;
    for (int i = 0; i < 63; ++i)
    {
      parameters.push_back(torch::zeros({ 1'000'000 }, torch::requires_grad()));
    }
    TimeAllReduce("63 M parameters", parameters, rank, port, repeats);
  });

  // (2) Training steps: 1 process x 2 threads against 2 ranks x 1 thread.
  succeeded &=
    InProcesses(1, [&](unsigned int) { TimeSteps("1 rank x 2 threads", 1, 0, 0, 2, imageSize, batch, steps); });
  port = FreePort();
  succeeded &= InProcesses(
    2, [&](unsigned int rank) { TimeSteps("2 ranks x 1 thread", 2, rank, port, 1, imageSize, batch, steps); });
  return succeeded ? 0 : 1;
}
