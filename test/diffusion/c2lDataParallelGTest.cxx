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

// Data-parallel pretraining through its public entry points, on loopback: c2l launch against
// c2l pretrain in one process and against the library's ranks in threads of one process (the
// MethodStepRunner c2l drives), torchrun where Python's torch has it, a rank killed mid-run and the
// run resumed, and the refusals of ranks that disagree.

#include "c2lTestHarness.h"
#include "itkLoopbackPort.h"

#include "itkMethodStepRunner.h"
#include "itkSafeTensors.h"

#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;

// A tiny U-Net, 1 thread per rank (so that one process and the ranks compute alike), batch 4.
// From the paper's recipe (lr 1e-4), the settings type's defaults that the in-process ranks use.
const std::string Tiny =
  " --recipe paper --base-channels 8 --scales 2 --layers-per-block 1 --batch 4 --threads 1 --seed 1";

class C2LDataParallel : public c2lTest::CommandFixture
{
protected:
  void
  SetUp() override
  {
    UseFolder(fs::path(DIFFUSION_TEST_OUTPUT) / ("c2l-data-parallel-" + std::to_string(::getpid())));
    const auto slide = Run("synth-slide --spots 24 --seed 3 --out " + Path("slide"));
    ASSERT_EQ(slide.exitCode, 0) << slide.output;
    const auto extracted = Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                               " --genes 10 --patch-px 16 --out " + Path("data.h5"));
    ASSERT_EQ(extracted.exitCode, 0) << extracted.output;
  }

  /** c2l with \p environment ("NAME=value ...") before it, as a shell runs it. */
  c2lTest::RunResult
  RunWith(const std::string & environment, const std::string & arguments, const std::string & log) const
  {
    const std::string command =
      "env " + environment + " " + std::string(C2L_EXECUTABLE) + " " + arguments + " > " + Path(log) + " 2>&1";
    const int status = std::system(command.c_str());
    return { WEXITSTATUS(status), FileBytes(Path(log)) };
  }

  std::string
  Pretrain(const std::string & output, const std::string & more = "") const
  {
    return "pretrain --data " + Path("data.h5") + " --out " + Path(output) + Tiny + more;
  }

  /** The largest difference between two safetensors files' tensors, per name prefix (model, ema,
   * adam); the files must hold the same names. */
  static std::map<std::string, double>
  LargestDifferences(const std::string & a, const std::string & b)
  {
    const auto                    first = itk::torchcore::ReadSafeTensors(a);
    const auto                    second = itk::torchcore::ReadSafeTensors(b);
    std::map<std::string, double> largest;
    EXPECT_EQ(first.tensors.size(), second.tensors.size());
    for (const auto & [name, tensor] : first.tensors)
    {
      const auto other = second.Find(name);
      EXPECT_TRUE(other.defined()) << name;
      if (!other.defined() || !tensor.is_floating_point())
      {
        continue;
      }
      const auto kind = name.find('.') == std::string::npos ? std::string("model") : name.substr(0, name.find('.'));
      largest[kind] = std::max(largest[kind], (tensor - other).abs().max().item<double>());
    }
    return largest;
  }
};
} // namespace

TEST_F(C2LDataParallel, LaunchedRanksTrainTheModelOfOneProcessAndOfInProcessRanks)
{
  const std::string steps = " --steps 20 --checkpoint-every 10";
  const auto        single = Run(Pretrain("single.safetensors", steps));
  ASSERT_EQ(single.exitCode, 0) << single.output;
  const auto launched = Run("launch --nproc-per-node 2 --master-port " + std::to_string(itk::testing::FreePort()) +
                            " -- " + Pretrain("launched.safetensors", steps));
  ASSERT_EQ(launched.exitCode, 0) << launched.output;
  EXPECT_NE(launched.output.find("rank 1 of 2: trained 20 steps"), std::string::npos) << launched.output;
  EXPECT_NE(launched.output.find("rank 0 of 2: trained 20 steps"), std::string::npos) << launched.output;
  for (const auto & [kind, difference] :
       LargestDifferences(Path("single.safetensors.checkpoint"), Path("launched.safetensors.checkpoint")))
  {
    std::cout << kind << ": largest difference " << difference << std::endl;
    EXPECT_LE(difference, 1e-5) << kind << " of 2 launched ranks x batch 2 against 1 process x batch 4";
  }

  // The same two ranks as threads of one process, through the library's step runner.
  itk::PretrainingStepSettings settings;
  settings.Data = { Path("data.h5") };
  settings.Output = Path("in-process.safetensors");
  settings.Training.BaseChannels = 8;
  settings.Training.NumberOfScales = 2;
  settings.Training.LayersPerBlock = 1;
  settings.Training.BatchSize = 4;
  settings.Training.Seed = 1;
  settings.Training.NumberOfSteps = 20;
  settings.Training.CheckpointInterval = 10;
  settings.Threads = 1;
  settings.DataParallel.WorldSize = 2;
  settings.DataParallel.MasterPort = itk::testing::FreePort();
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (unsigned int rank = 0; rank < 2; ++rank)
  {
    ranks.emplace_back([&, rank] {
      auto mine = settings;
      mine.DataParallel.Rank = rank;
      try
      {
        itk::MethodStepRunner::New()->Pretrain(mine);
      }
      catch (const itk::ExceptionObject & e)
      {
        errors[rank] = e.GetDescription();
      }
    });
  }
  for (auto & rank : ranks)
  {
    rank.join();
  }
  ASSERT_EQ(errors, std::vector<std::string>(2)) << errors[0] << "\n" << errors[1];
  const bool same = FileBytes(Path("in-process.safetensors")) == FileBytes(Path("launched.safetensors"));
  EXPECT_TRUE(same) << "c2l launch's model file differs from the in-process ranks'";
  if (!same)
  {
    for (const auto & [kind, difference] :
         LargestDifferences(Path("in-process.safetensors.checkpoint"), Path("launched.safetensors.checkpoint")))
    {
      std::cout << kind << ": in-process against launched, largest difference " << difference << std::endl;
    }
  }
}

TEST_F(C2LDataParallel, TorchrunStartsTheSameRanks)
{
  if (std::system("/usr/bin/python3 -c 'import torch.distributed.launcher.api' > /dev/null 2>&1") != 0)
  {
    GTEST_SKIP() << "no Python torch with torch.distributed (python3-torch) on this machine";
  }
  const std::string steps = " --steps 6";
  const auto launched = Run("launch --nproc-per-node 2 --master-port " + std::to_string(itk::testing::FreePort()) +
                            " -- " + Pretrain("launched.safetensors", steps));
  ASSERT_EQ(launched.exitCode, 0) << launched.output;
  // torchrun's own launcher: its agent hosts the store, and the ranks join it as clients.
  const std::string torchrun = "/usr/bin/python3 " + std::string(TORCHRUN_LAUNCH_SCRIPT) + " " +
                               std::to_string(itk::testing::FreePort()) + " " + C2L_EXECUTABLE + " " +
                               Pretrain("torchrun.safetensors", steps) + " > " + Path("torchrun.log") + " 2>&1";
  ASSERT_EQ(std::system(torchrun.c_str()), 0) << FileBytes(Path("torchrun.log"));
  EXPECT_EQ(FileBytes(Path("torchrun.safetensors")), FileBytes(Path("launched.safetensors")))
    << FileBytes(Path("torchrun.log"));
}

TEST_F(C2LDataParallel, AKilledRankStopsTheOtherAndTheRunResumesExactly)
{
  // The reference: 2 ranks, 300 steps, uninterrupted.
  const std::string run = " --steps 300 --checkpoint-every 5 --collective-timeout 30";
  const auto full = Run("launch --nproc-per-node 2 --master-port " + std::to_string(itk::testing::FreePort()) + " -- " +
                        Pretrain("full.safetensors", run));
  ASSERT_EQ(full.exitCode, 0) << full.output;

  // The same run, started in the background; rank 1 is killed once a checkpoint exists.
  const std::string checkpoint = Path("killed.safetensors.checkpoint");
  const std::string log = Path("killed.log");
  const std::string port = std::to_string(itk::testing::FreePort());
  const pid_t       launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0)
  {
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    const std::string command = std::string(C2L_EXECUTABLE) + " launch --nproc-per-node 2 --grace-period 60 " +
                                "--master-port " + port + " -- " + Pretrain("killed.safetensors", run);
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  const auto waitUntil = [](const std::function<bool()> & condition, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!condition() && std::chrono::steady_clock::now() < end)
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
  };
  ASSERT_TRUE(waitUntil([&] { return fs::exists(checkpoint); }, 120.0)) << FileBytes(log);
  // Rank 1: the launcher's child whose environment says RANK=1.
  pid_t rankOne = 0;
  for (const auto & entry : fs::directory_iterator("/proc"))
  {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
    {
      continue;
    }
    std::istringstream stat(FileBytes(entry.path().string() + "/stat"));
    std::string        pid, command, state;
    pid_t              parent = 0;
    stat >> pid >> command >> state >> parent;
    const auto environment = FileBytes(entry.path().string() + "/environ");
    if (parent == launcher && environment.find(std::string("RANK=1") + '\0') != std::string::npos &&
        environment.find(std::string("LOCAL_RANK=1") + '\0') != std::string::npos)
    {
      rankOne = std::stoi(name);
    }
  }
  ASSERT_GT(rankOne, 0) << "rank 1's process was not found";
  ASSERT_EQ(kill(rankOne, SIGKILL), 0);
  const auto killedAt = std::chrono::steady_clock::now();
  int        status = 0;
  ASSERT_EQ(waitpid(launcher, &status, 0), launcher);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killedAt).count();
  const auto   output = FileBytes(log);
  EXPECT_LT(seconds, 30.0) << "rank 0 did not stop within the collective timeout\n" << output;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGKILL) << "the launcher returns the first failure's status\n" << output;
  EXPECT_NE(output.find("rank 1 (pid " + std::to_string(rankOne) + ") was killed by signal 9"), std::string::npos)
    << output;
  EXPECT_NE(output.find("c2l: error: "), std::string::npos) << output;
  EXPECT_NE(output.find("failed on rank 0 of 2"), std::string::npos) << "rank 0's own error\n" << output;
  EXPECT_FALSE(fs::exists(Path("killed.safetensors"))) << "no model is written by a failed run";

  // The checkpoint left behind is whole, and resuming from it ends where the uninterrupted run did.
  const auto kept = itk::torchcore::ReadSafeTensors(checkpoint);
  const int  step = std::stoi(kept.metadata.at("step"));
  EXPECT_EQ(step % 5, 0);
  EXPECT_LT(step, 300) << "the run ended before the kill: the test proves nothing";
  const auto resumed = Run("launch --nproc-per-node 2 --master-port " + std::to_string(itk::testing::FreePort()) +
                           " -- " + Pretrain("killed.safetensors", run + " --resume"));
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("to step 300"), std::string::npos) << resumed.output;
  EXPECT_EQ(FileBytes(Path("killed.safetensors")), FileBytes(Path("full.safetensors")))
    << "the resumed run's model differs from the uninterrupted run's";
}

TEST_F(C2LDataParallel, RanksThatDisagreeAreRefusedWithClearErrors)
{
  // Two ranks started by hand (as a SLURM script would), with their own extra arguments; both must
  // stop before training, at once (the timeout is 20 s), each with its own one-line error.
  const auto startTwoRanks = [&](const std::string & rankZeroArguments, const std::string & rankOneArguments) {
    const std::string ranks =
      "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(itk::testing::FreePort()) + " WORLD_SIZE=2";
    const auto command = [&](unsigned int rank, const std::string & arguments) {
      return "env " + ranks + " RANK=" + std::to_string(rank) + " " + C2L_EXECUTABLE + " " + arguments +
             " --steps 2 --collective-timeout 20 > " + Path("rank" + std::to_string(rank) + ".log") + " 2>&1";
    };
    const auto start = std::chrono::steady_clock::now();
    std::system(("(" + command(0, rankZeroArguments) + " & " + command(1, rankOneArguments) + "; wait)").c_str());
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
    return std::make_pair(FileBytes(Path("rank0.log")), FileBytes(Path("rank1.log")));
  };
  const auto learningRates =
    startTwoRanks(Pretrain("a.safetensors", " --lr 1e-4"), Pretrain("a.safetensors", " --lr 2e-4"));
  ExpectOneLineError({ 1, learningRates.second }, "has other pretraining settings or patches than rank 0");
  ExpectOneLineError({ 1, learningRates.second }, "learning_rate: 0.0002 vs 0.0001");
  ExpectOneLineError({ 1, learningRates.first }, "Rank 1 has other pretraining settings or patches than rank 0");
  EXPECT_FALSE(fs::exists(Path("a.safetensors")));
  // Patches of another slide for rank 1.
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 4 --out " + Path("other")).exitCode, 0);
  ASSERT_EQ(Run("extract --slide " + Path("other/image.tif") + " --spots " + Path("other/outs") +
                " --genes 10 --patch-px 16 --out " + Path("other.h5"))
              .exitCode,
            0);
  const auto data = startTwoRanks(Pretrain("a.safetensors"),
                                  "pretrain --data " + Path("other.h5") + " --out " + Path("a.safetensors") + Tiny);
  ExpectOneLineError({ 1, data.second }, "patches_sha256");
  ExpectOneLineError({ 1, data.first }, "Rank 1 has other pretraining settings or patches than rank 0");

  ExpectOneLineError(RunWith("RANK=x WORLD_SIZE=2", Pretrain("c.safetensors"), "bad-rank.log"),
                     "RANK=\"x\" is not a whole number");
  ExpectOneLineError(RunWith("RANK=1", Pretrain("c.safetensors"), "only-rank.log"), "Only RANK is set");
  ExpectOneLineError(RunWith("RANK=2 WORLD_SIZE=2", Pretrain("c.safetensors"), "outside.log"),
                     "Rank 2 is not below WorldSize 2");
  ExpectOneLineError(RunWith("RANK=0 WORLD_SIZE=3 MASTER_PORT=" + std::to_string(itk::testing::FreePort()),
                             Pretrain("c.safetensors", " --collective-timeout 5"),
                             "split.log"),
                     "does not split evenly over 3 ranks");
  ExpectOneLineError(Run("launch --nproc-per-node 2"), "Name the c2l command");
  ExpectOneLineError(Run("launch --nproc-per-node 2 --master-port 70000 -- inspect x"), "not a TCP port");
}
