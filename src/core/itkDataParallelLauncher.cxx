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
#include "itkDataParallelLauncher.h"

#include "itkMacro.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace itk
{
namespace
{
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
StartRank(const DataParallelLauncher & o, unsigned int localRank, const std::string & program, const std::string & name,
          const std::vector<std::string> & arguments)
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
  std::string         programName = name;
  argv.push_back(programName.data());
  auto copies = arguments;
  for (auto & argument : copies)
  {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  execv(program.c_str(), argv.data());
  const std::string failure =
    "cannot start " + program + " for rank " + std::to_string(rank) + ": " + std::strerror(errno) + "\n";
  // Only async-signal-safe calls after fork: write, then _exit.
  [[maybe_unused]] const auto written = write(STDERR_FILENO, failure.data(), failure.size());
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

} // namespace

int
DataParallelLauncher::Run(const std::string & program, const std::string & name,
                          const std::vector<std::string> & arguments, std::ostream & messages) const
{
  const DataParallelLauncher & o = *this;
  if (o.ProcessesPerNode < 1 || o.Nodes < 1 || o.NodeRank >= o.Nodes)
  {
    itkGenericExceptionMacro(<< "ProcessesPerNode and Nodes must be at least 1, and NodeRank below Nodes "
                                "(c2l launch: --nproc-per-node, --nnodes, --node-rank)");
  }
  if (o.MasterPort < 1 || o.MasterPort > 65535)
  {
    itkGenericExceptionMacro(<< "MasterPort " << o.MasterPort << " is not a TCP port (1 to 65535)");
  }
  if (!(o.GracePeriod >= 0.0))
  {
    itkGenericExceptionMacro(<< "GracePeriod must be 0 or more seconds");
  }
  std::signal(SIGINT, RememberSignal);
  std::signal(SIGTERM, RememberSignal);

  std::map<pid_t, unsigned int> running; // pid -> local rank
  for (unsigned int localRank = 0; localRank < o.ProcessesPerNode; ++localRank)
  {
    const pid_t pid = StartRank(o, localRank, program, name, arguments);
    if (pid < 0)
    {
      SignalAll(running, SIGTERM);
      itkGenericExceptionMacro(<< "Cannot start a process for local rank " << localRank << ": "
                               << std::strerror(errno));
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
      messages << "stopping the " << running.size() << " rank(s) still running (SIGTERM)" << std::endl;
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
    messages << "rank " << rank << " (pid " << pid << ") " << Describe(status);
    if (exitCode == 0)
    {
      exitCode = ExitCode(status);
      if (!running.empty())
      {
        messages << "; the other ranks get " << o.GracePeriod << " s to stop";
        terminateAt = Clock::now() + std::chrono::milliseconds(static_cast<long>(o.GracePeriod * 1000.0));
      }
    }
    messages << std::endl;
  }
  return exitCode;
}

} // end namespace itk
