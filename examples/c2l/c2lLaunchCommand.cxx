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

// c2l launch: starts the local ranks of a data-parallel run, as torchrun does, without Python:
// one process per rank running a c2l command, with torchrun's variables (RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), and it returns their exit
// status. It takes no part in the training: the ranks meet through rank 0's TCP store.

#include "c2lCommands.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace c2l
{
namespace
{
struct LaunchOptions
{
  unsigned int             ProcessesPerNode{ 1 };
  unsigned int             Nodes{ 1 };
  unsigned int             NodeRank{ 0 };
  std::string              MasterAddress{ "127.0.0.1" };
  unsigned int             MasterPort{ 29500 };
  double                   GracePeriod{ 30.0 };
  std::vector<std::string> Command;
};

/** The signal the launcher received (SIGINT, SIGTERM), to be passed on to the ranks. */
volatile std::sig_atomic_t receivedSignal = 0;

void
RememberSignal(int signal)
{
  receivedSignal = signal;
}

/** A child's wait status as a shell reports it: its exit code, or 128 + the signal that ended it. */
int
ExitCode(int status)
{
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string
Describe(int status)
{
  return WIFEXITED(status)
           ? "exited with status " + std::to_string(WEXITSTATUS(status))
           : "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
}

/** Starts rank \p localRank: this executable (c2l) with the command, in a child process. */
pid_t
StartRank(const LaunchOptions & o, unsigned int localRank, const std::string & self)
{
  const unsigned int worldSize = o.ProcessesPerNode * o.Nodes;
  const unsigned int rank = o.NodeRank * o.ProcessesPerNode + localRank;
  const pid_t        pid = fork();
  if (pid != 0)
  {
    return pid; // the launcher (or -1)
  }
  const std::map<std::string, std::string> variables{ { "RANK", std::to_string(rank) },
                                                      { "WORLD_SIZE", std::to_string(worldSize) },
                                                      { "LOCAL_RANK", std::to_string(localRank) },
                                                      { "LOCAL_WORLD_SIZE", std::to_string(o.ProcessesPerNode) },
                                                      { "GROUP_RANK", std::to_string(o.NodeRank) },
                                                      { "MASTER_ADDR", o.MasterAddress },
                                                      { "MASTER_PORT", std::to_string(o.MasterPort) } };
  for (const auto & [name, value] : variables)
  {
    setenv(name.c_str(), value.c_str(), 1);
  }
  // Rank 0 hosts the store here, not a launcher: a torchrun variable inherited from an outer
  // launcher would make every rank wait for a store nobody hosts.
  unsetenv("TORCHELASTIC_USE_AGENT_STORE");
  // Ranks on one machine share its cores (as torchrun, unless the user chose).
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
  {
    const unsigned int cores = std::max(1u, std::thread::hardware_concurrency());
    setenv("OMP_NUM_THREADS", std::to_string(std::max(1u, cores / o.ProcessesPerNode)).c_str(), 1);
  }
  std::vector<char *> argv;
  std::string         program = "c2l";
  argv.push_back(program.data());
  auto command = o.Command;
  for (auto & argument : command)
  {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  execv(self.c_str(), argv.data());
  std::cerr << "c2l launch: cannot start " << self << " for rank " << rank << ": " << std::strerror(errno) << std::endl;
  _exit(127);
}

void
SignalAll(const std::map<pid_t, unsigned int> & running, int signal)
{
  for (const auto & entry : running)
  {
    kill(entry.first, signal);
  }
}

int
Launch(const LaunchOptions & o)
{
  if (o.ProcessesPerNode < 1 || o.Nodes < 1 || o.NodeRank >= o.Nodes)
  {
    throw std::invalid_argument("--nproc-per-node and --nnodes must be at least 1, and --node-rank below --nnodes");
  }
  if (o.MasterPort < 1 || o.MasterPort > 65535)
  {
    throw std::invalid_argument("--master-port " + std::to_string(o.MasterPort) + " is not a TCP port (1 to 65535)");
  }
  if (o.Command.empty() || o.Command.front() == "launch")
  {
    throw std::invalid_argument("Name the c2l command each rank runs after \"--\", e.g. c2l launch "
                                "--nproc-per-node 2 -- pretrain --data patches.h5 --out model.safetensors");
  }
  std::error_code error;
  const auto      self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
  {
    throw std::runtime_error("c2l launch cannot find its own executable (/proc/self/exe): " + error.message());
  }
  std::signal(SIGINT, RememberSignal);
  std::signal(SIGTERM, RememberSignal);

  std::map<pid_t, unsigned int> running; // pid -> local rank
  for (unsigned int localRank = 0; localRank < o.ProcessesPerNode; ++localRank)
  {
    const pid_t pid = StartRank(o, localRank, self.string());
    if (pid < 0)
    {
      SignalAll(running, SIGTERM);
      throw std::runtime_error(std::string("c2l launch cannot start a process: ") + std::strerror(errno));
    }
    running[pid] = localRank;
  }

  // Wait for every rank. After the first failure the others get GracePeriod seconds to stop on
  // their own (they notice a dead rank at their next collective and say so), then SIGTERM, then,
  // 10 s later, SIGKILL.
  using Clock = std::chrono::steady_clock;
  int                              exitCode = 0;
  std::optional<Clock::time_point> terminateAt;
  std::optional<Clock::time_point> killAt;
  int                              forwarded = 0;
  while (!running.empty())
  {
    if (receivedSignal != 0 && forwarded != receivedSignal)
    {
      forwarded = receivedSignal;
      SignalAll(running, forwarded);
      if (exitCode == 0)
      {
        exitCode = 128 + forwarded;
      }
    }
    const auto now = Clock::now();
    if (terminateAt && now >= *terminateAt)
    {
      std::cerr << "c2l launch: stopping the " << running.size() << " rank(s) still running (SIGTERM)" << std::endl;
      SignalAll(running, SIGTERM);
      terminateAt.reset();
      killAt = now + std::chrono::seconds(10);
    }
    if (killAt && now >= *killAt)
    {
      SignalAll(running, SIGKILL);
      killAt.reset();
    }
    int         status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0)
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto found = running.find(pid);
    if (found == running.end())
    {
      continue;
    }
    const unsigned int rank = o.NodeRank * o.ProcessesPerNode + found->second;
    running.erase(found);
    if (ExitCode(status) == 0)
    {
      continue;
    }
    // Every rank that fails is named; the first failure is the launcher's own status.
    std::cerr << "c2l launch: rank " << rank << " (pid " << pid << ") " << Describe(status);
    if (exitCode == 0)
    {
      exitCode = ExitCode(status);
      if (!running.empty())
      {
        std::cerr << "; the other ranks get " << o.GracePeriod << " s to stop";
        terminateAt = Clock::now() + std::chrono::milliseconds(static_cast<long>(o.GracePeriod * 1000.0));
      }
    }
    std::cerr << std::endl;
  }
  return exitCode;
}
} // namespace

void
AddLaunchCommand(CLI::App & app)
{
  auto   options = std::make_shared<LaunchOptions>();
  auto * command = app.add_subcommand("launch", DescriptionOf("launch"));
  command->add_option("--nproc-per-node", options->ProcessesPerNode, "Ranks to start on this machine (default 1)");
  command->add_option("--nnodes", options->Nodes, "Machines in the run (default 1)");
  command->add_option("--node-rank", options->NodeRank, "This machine's index, 0 to nnodes - 1 (default 0)");
  command->add_option(
    "--master-addr", options->MasterAddress, "Address of node 0, where rank 0 hosts the store (default 127.0.0.1)");
  command->add_option("--master-port", options->MasterPort, "Port of rank 0's store (default 29500)");
  command->add_option("--grace-period",
                      options->GracePeriod,
                      "Seconds the other ranks get to stop on their own after one fails (default 30)");
  // Not required by the parser: Launch says what is missing, with an example.
  command->add_option("command", options->Command, "The c2l command every rank runs, after \"--\"");
  command->callback([options]() {
    const int code = Launch(*options);
    std::cout.flush();
    std::exit(code);
  });
}

} // namespace c2l
