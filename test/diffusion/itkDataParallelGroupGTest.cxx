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

// DataParallelGroup on loopback, its ranks as threads of this process: the bucketed gradient mean
// and the broadcast against their closed forms (tensors of several types, one larger than a bucket,
// a non-contiguous gradient, a missing gradient), and every failure it promises to report: other
// world sizes, other settings, a port in use, an unreachable master, a missing rank, a dead rank.

#include "itkDataParallelGroup.h"
#include "itkLoopbackPort.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace
{
using itk::DataParallelSettings;
using itk::torchcore::DataParallelGroup;
using itk::torchcore::DistributedError;
using itk::testing::FreePort;
using itk::testing::LoopbackSocket;

DataParallelSettings
Rank(unsigned int rank, unsigned int worldSize, unsigned int port, double timeout = 20.0)
{
  DataParallelSettings settings;
  settings.Rank = rank;
  settings.WorldSize = worldSize;
  settings.MasterAddress = "127.0.0.1";
  settings.MasterPort = port;
  settings.TimeoutSeconds = timeout;
  return settings;
}

/** Runs body(rank) for each rank on its own thread; returns each rank's error message ("" if none). */
std::vector<std::string>
RunRanks(unsigned int ranks, const std::function<void(unsigned int)> & body)
{
  std::vector<std::string> errors(ranks);
  std::vector<std::thread> threads;
  for (unsigned int rank = 0; rank < ranks; ++rank)
  {
    threads.emplace_back([&, rank] {
      try
      {
        body(rank);
      }
      catch (const DistributedError & e)
      {
        errors[rank] = std::string("DistributedError: ") + e.what();
      }
      catch (const std::exception & e)
      {
        errors[rank] = std::string("other exception: ") + e.what();
      }
    });
  }
  for (auto & thread : threads)
  {
    thread.join();
  }
  return errors;
}

double
SecondsSince(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool
Contains(const std::string & text, const std::string & part)
{
  return text.find(part) != std::string::npos;
}
} // namespace

TEST(DataParallelGroup, AveragesGradientsInBucketsAndBroadcastsRankZerosState)
{
  const unsigned int                      port = FreePort();
  const auto                              base = torch::arange(12, torch::kFloat32).view({ 3, 4 });
  std::vector<std::vector<torch::Tensor>> parameters(2), broadcast(2);
  std::vector<double>                     averages(2);
  const auto                              errors = RunRanks(2, [&](unsigned int rank) {
    DataParallelGroup group(Rank(rank, 2, port), torch::kCPU);
    EXPECT_EQ(group.Rank(), static_cast<int>(rank));
    EXPECT_EQ(group.WorldSize(), 2);
    EXPECT_EQ(group.BackendName(), "gloo");
    const float scale = static_cast<float>(rank + 1);
    auto        small = torch::zeros({ 3, 4 }, torch::requires_grad());
    // 28 MB: larger than a bucket (25 MiB), so it travels in a bucket of its own.
    auto large = torch::zeros({ 7'000'000 }, torch::requires_grad());
    auto noGradientOnRankOne = torch::zeros({ 5 }, torch::requires_grad());
    auto transposed = torch::zeros({ 4, 3 }, torch::requires_grad());
    small.mutable_grad() = base * scale;
    large.mutable_grad() = torch::full({ 7'000'000 }, scale);
    if (rank == 0)
    {
      noGradientOnRankOne.mutable_grad() = torch::ones({ 5 });
    }
    transposed.mutable_grad() = (base * scale).t(); // a non-contiguous gradient
    ASSERT_FALSE(transposed.grad().is_contiguous());
    parameters[rank] = { small, large, noGradientOnRankOne, transposed };
    group.AverageGradients(parameters[rank]);

    // Rank 0's values of three types reach the other rank, into a non-contiguous tensor too.
    auto floats = torch::full({ 2, 3 }, 10.0f * scale);
    auto bytes = torch::full({ 10 }, static_cast<std::uint8_t>(rank == 0 ? 200 : 7), torch::kUInt8);
    auto step = torch::full({ 1 }, std::int64_t{ rank == 0 ? 123456789012 : 5 }, torch::kLong);
    auto storage = torch::zeros({ 3, 2 });
    auto view = storage.t();
    view.copy_(torch::full({ 2, 3 }, scale));
    group.BroadcastFromRankZero({ floats, bytes, step, view });
    broadcast[rank] = { floats, bytes, step, storage };
    averages[rank] = group.Average(rank == 0 ? 1.0 : 4.0);
    group.Barrier();
  });
  ASSERT_EQ(errors, std::vector<std::string>(2)) << errors[0] << "\n" << errors[1];
  for (unsigned int rank = 0; rank < 2; ++rank)
  {
    const auto & p = parameters[rank];
    EXPECT_TRUE(torch::equal(p[0].grad(), base * 1.5f)) << "rank " << rank;
    EXPECT_TRUE(torch::equal(p[1].grad(), torch::full({ 7'000'000 }, 1.5f))) << "rank " << rank;
    EXPECT_TRUE(torch::equal(p[2].grad(), torch::full({ 5 }, 0.5f))) << "a missing gradient counts as 0";
    EXPECT_TRUE(torch::equal(p[3].grad(), (base * 1.5f).t())) << "rank " << rank;
    EXPECT_TRUE(torch::equal(broadcast[rank][0], torch::full({ 2, 3 }, 10.0f)));
    EXPECT_TRUE(torch::equal(broadcast[rank][1], torch::full({ 10 }, 200, torch::kUInt8)));
    EXPECT_EQ(broadcast[rank][2].item<std::int64_t>(), 123456789012);
    EXPECT_TRUE(torch::equal(broadcast[rank][3], torch::ones({ 3, 2 })));
    EXPECT_DOUBLE_EQ(averages[rank], 2.5);
  }
}

TEST(DataParallelGroup, RendezvousThroughAFile)
{
  const auto file = std::filesystem::temp_directory_path() / ("c2l-rendezvous-" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  std::vector<double> averages(2);
  const auto          errors = RunRanks(2, [&](unsigned int rank) {
    auto settings = Rank(rank, 2, 0);
    settings.RendezvousFile = file.string();
    DataParallelGroup group(settings, torch::kCPU);
    averages[rank] = group.Average(rank == 0 ? 2.0 : 3.0);
    group.Barrier();
  });
  ASSERT_EQ(errors, std::vector<std::string>(2)) << errors[0] << "\n" << errors[1];
  EXPECT_DOUBLE_EQ(averages[0], 2.5);
  EXPECT_DOUBLE_EQ(averages[1], 2.5);
  std::filesystem::remove(file);
}

TEST(DataParallelGroup, RanksStartedWithOtherWorldSizesAreRefusedAtOnce)
{
  const unsigned int port = FreePort();
  const auto         start = std::chrono::steady_clock::now();
  const auto         errors = RunRanks(
    2, [&](unsigned int rank) { DataParallelGroup group(Rank(rank, rank == 0 ? 2 : 3, port, 30.0), torch::kCPU); });
  EXPECT_LT(SecondsSince(start), 15.0) << "the refusal waited for the timeout";
  EXPECT_TRUE(Contains(errors[1], "DistributedError")) << errors[1];
  EXPECT_TRUE(Contains(errors[1], "WORLD_SIZE 3, rank 0 with 2")) << errors[1];
  EXPECT_TRUE(Contains(errors[0], "DistributedError")) << errors[0];
  EXPECT_TRUE(Contains(errors[0], "WORLD_SIZE")) << errors[0];
}

TEST(DataParallelGroup, RanksWithOtherSettingsAreRefusedNamingTheDifference)
{
  const unsigned int port = FreePort();
  const auto         errors = RunRanks(2, [&](unsigned int rank) {
    DataParallelGroup group(Rank(rank, 2, port), torch::kCPU);
    group.RequireSameOnEveryRank("same things", R"({"a":1})");
    group.RequireSameOnEveryRank("training options",
                                 rank == 0 ? R"({"batch_size":4,"lr":0.1})" : R"({"batch_size":8,"lr":0.1})");
  });
  EXPECT_TRUE(Contains(errors[1], "rank 1 of 2 has other training options than rank 0")) << errors[1];
  EXPECT_TRUE(Contains(errors[1], "batch_size: 8 vs 4")) << errors[1];
  EXPECT_TRUE(Contains(errors[0], "Rank 1 has other training options than rank 0")) << errors[0];
}

TEST(DataParallelGroup, APortInUseIsReported)
{
  LoopbackSocket taken;
  taken.Listen();
  EXPECT_THROW(
    {
      try
      {
        DataParallelGroup group(Rank(0, 2, taken.Port(), 5.0), torch::kCPU);
      }
      catch (const DistributedError & e)
      {
        EXPECT_TRUE(Contains(e.what(), "cannot host the rendezvous store at 127.0.0.1:" + std::to_string(taken.Port())))
          << e.what();
        EXPECT_TRUE(Contains(e.what(), "in use")) << e.what();
        throw;
      }
    },
    DistributedError);
}

TEST(DataParallelGroup, AnUnreachableMasterIsReportedWithinTheTimeout)
{
  const unsigned int port = FreePort(); // nothing listens there
  const auto         start = std::chrono::steady_clock::now();
  EXPECT_THROW(
    {
      try
      {
        DataParallelGroup group(Rank(1, 2, port, 3.0), torch::kCPU);
      }
      catch (const DistributedError & e)
      {
        EXPECT_TRUE(Contains(e.what(), "cannot reach the rendezvous store at 127.0.0.1:" + std::to_string(port)))
          << e.what();
        throw;
      }
    },
    DistributedError);
  EXPECT_LT(SecondsSince(start), 20.0);
}

TEST(DataParallelGroup, AMissingRankTimesOutNamingHowManyJoined)
{
  const unsigned int port = FreePort();
  const auto         start = std::chrono::steady_clock::now();
  EXPECT_THROW(
    {
      try
      {
        DataParallelGroup group(Rank(0, 3, port, 2.0), torch::kCPU);
      }
      catch (const DistributedError & e)
      {
        EXPECT_TRUE(Contains(e.what(), "1 of 3 ranks joined")) << e.what();
        throw;
      }
    },
    DistributedError);
  const double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 2.0);
  EXPECT_LT(seconds, 10.0);
}

TEST(DataParallelGroup, ADeadRankFailsTheOthersCollectivesPromptly)
{
  const unsigned int port = FreePort();
  std::atomic<bool>  rankOneGone{ false };
  const double       timeout = 30.0;
  double             seconds = 0.0;
  const auto         errors = RunRanks(2, [&](unsigned int rank) {
    if (rank == 1)
    {
      {
        DataParallelGroup group(Rank(1, 2, port, timeout), torch::kCPU);
        group.Barrier();
      } // this rank leaves: its connections close, as those of a killed process do
      rankOneGone = true;
      return;
    }
    DataParallelGroup group(Rank(0, 2, port, timeout), torch::kCPU);
    group.Barrier();
    while (!rankOneGone)
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto parameter = torch::zeros({ 4 }, torch::requires_grad());
    parameter.mutable_grad() = torch::ones({ 4 });
    const auto start = std::chrono::steady_clock::now();
    try
    {
      group.AverageGradients({ parameter });
    }
    catch (...)
    {
      seconds = SecondsSince(start);
      throw;
    }
  });
  EXPECT_EQ(errors[1], "");
  EXPECT_TRUE(Contains(errors[0], "DistributedError: The all-reduce of the gradients failed on rank 0 of 2"))
    << errors[0];
  EXPECT_TRUE(Contains(errors[0], "resume from the last one")) << errors[0];
  EXPECT_LT(seconds, timeout) << "the dead rank was noticed only by the timeout";
}

TEST(DataParallelGroup, ARankThatDiesWhileTheOtherSendsIsAnErrorNotASilentExit)
{
  // Rank 1 is another process that ends abruptly (as a killed one: no destructor runs) while rank 0
  // sends it large buckets: rank 0's writes then meet a closed socket, which raises SIGPIPE, whose
  // default action would end this process without a word.
  const unsigned int port = FreePort();
  const pid_t        child = fork();
  ASSERT_GE(child, 0);
  if (child == 0)
  {
    try
    {
      DataParallelGroup group(Rank(1, 2, port, 30.0), torch::kCPU);
      group.Barrier();
      // Dies in the middle of the second all-reduce, while both ranks are sending.
      auto parameter = torch::zeros({ 20'000'000 }, torch::requires_grad());
      parameter.mutable_grad() = torch::ones({ 20'000'000 });
      group.AverageGradients({ parameter });
      std::thread reducing([&] {
        try
        {
          group.AverageGradients({ parameter });
        }
        catch (...)
        {}
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      _exit(0);
    }
    catch (...)
    {}
    _exit(0);
  }
  std::string error;
  try
  {
    DataParallelGroup group(Rank(0, 2, port, 30.0), torch::kCPU);
    group.Barrier();
    auto parameter = torch::zeros({ 20'000'000 }, torch::requires_grad());
    parameter.mutable_grad() = torch::ones({ 20'000'000 });
    for (int i = 0; i < 50; ++i)
    {
      group.AverageGradients({ parameter });
    }
  }
  catch (const DistributedError & e)
  {
    error = e.what();
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(Contains(error, "The all-reduce of the gradients failed on rank 0 of 2")) << error;
}
