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

/** Strings kept alive for a child's execve: its argv and its environment. */
struct ExecArguments
{
  std::vector<std::string> storage;
  std::vector<char *>      argv;
  std::vector<char *>      environment;
};

/** The program, its arguments and the environment of local rank \p localRank: this process's
 * environment with torchrun's variables for the rank (and OMP_NUM_THREADS, unless the user set it). */
ExecArguments
RankArguments(const DataParallelLauncher & o, unsigned int localRank, const std::string & name,
              const std::vector<std::string> & arguments)
{
  const unsigned int                 rank = o.NodeRank * o.ProcessesPerNode + localRank;
  std::map<std::string, std::string> set{ { "RANK", std::to_string(rank) },
                                          { "WORLD_SIZE", std::to_string(o.ProcessesPerNode * o.Nodes) },
                                          { "LOCAL_RANK", std::to_string(localRank) },
                                          { "LOCAL_WORLD_SIZE", std::to_string(o.ProcessesPerNode) },
                                          { "GROUP_RANK", std::to_string(o.NodeRank) },
                                          { "MASTER_ADDR", o.MasterAddress },
                                          { "MASTER_PORT", std::to_string(o.MasterPort) } };
  // Ranks on one machine share its cores (as torchrun, unless the user chose).
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
  {
    const unsigned int cores = std::max(1u, std::thread::hardware_concurrency());
    set["OMP_NUM_THREADS"] = std::to_string(std::max(1u, cores / o.ProcessesPerNode));
  }
  ExecArguments exec;
  exec.storage.push_back(name);
  exec.storage.insert(exec.storage.end(), arguments.begin(), arguments.end());
  const std::size_t argumentCount = exec.storage.size();
  for (char ** variable = environ; *variable != nullptr; ++variable)
  {
    const std::string entry(*variable);
    const std::string key = entry.substr(0, entry.find('='));
    // Rank 0 hosts the store here, not a launcher: torchrun's flag inherited from an outer launcher
    // would make every rank wait for a store nobody hosts.
    if (set.count(key) == 0 && key != "TORCHELASTIC_USE_AGENT_STORE")
    {
      exec.storage.push_back(entry);
    }
  }
  for (const auto & [key, value] : set)
  {
    exec.storage.push_back(key + "=" + value);
  }
  for (std::size_t i = 0; i < exec.storage.size(); ++i)
  {
    (i < argumentCount ? exec.argv : exec.environment).push_back(exec.storage[i].data());
  }
  exec.argv.push_back(nullptr);
  exec.environment.push_back(nullptr);
  return exec;
}

/** Starts local rank \p localRank as a child process running \p program. Everything the child
 * needs is prepared before fork: between fork and execve it calls only async-signal-safe functions,
 * so a launcher in a multi-threaded program cannot deadlock there. */
pid_t
StartRank(const DataParallelLauncher & o, unsigned int localRank, const std::string & program, const std::string & name,
          const std::vector<std::string> & arguments)
{
  auto              exec = RankArguments(o, localRank, name, arguments);
  const std::string failure = "cannot start " + program + " for local rank " + std::to_string(localRank) + "\n";
  const pid_t       pid = fork();
  if (pid != 0)
  {
    return pid; // the launcher (or -1)
  }
  execve(program.c_str(), exec.argv.data(), exec.environment.data());
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
  // SIGINT and SIGTERM are passed on to the ranks while they run; the caller's handlers come back
  // when Run returns.
  receivedSignal = 0;
  struct sigaction passOn
  {};
  passOn.sa_handler = RememberSignal;
  sigemptyset(&passOn.sa_mask);
  struct sigaction savedInterrupt
  {};
  struct sigaction savedTerminate
  {};
  sigaction(SIGINT, &passOn, &savedInterrupt);
  sigaction(SIGTERM, &passOn, &savedTerminate);
  const auto restoreHandlers = [&] {
    sigaction(SIGINT, &savedInterrupt, nullptr);
    sigaction(SIGTERM, &savedTerminate, nullptr);
  };

  std::map<pid_t, unsigned int> running; // pid -> local rank
  for (unsigned int localRank = 0; localRank < o.ProcessesPerNode; ++localRank)
  {
    const pid_t pid = StartRank(o, localRank, program, name, arguments);
    if (pid < 0)
    {
      const int error = errno;
      SignalAll(running, SIGTERM);
      restoreHandlers();
      itkGenericExceptionMacro(<< "Cannot start a process for local rank " << localRank << ": "
                               << std::strerror(error));
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
    // Only this run's ranks are waited for: the caller's other children are not reaped here.
    int  status = 0;
    auto found = running.begin();
    for (; found != running.end(); ++found)
    {
      if (waitpid(found->first, &status, WNOHANG) == found->first)
      {
        break;
      }
    }
    if (found == running.end())
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const pid_t        pid = found->first;
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
  restoreHandlers();
  return exitCode;
}

} // end namespace itk
