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
#include "itkDataParallelGroup.h"
#include "itkSHA256.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#  include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/version.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <pthread.h>
#include <thread>

namespace itk
{
namespace torchcore
{
namespace
{
// LibTorch 2.x moved the collectives of Gloo and NCCL from c10d::ProcessGroup to c10d::Backend.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

// Our keys in the store; c10d's process group has its own prefix below them.
const std::string KeyPrefix = "c2l/";
const std::string AbortKey = KeyPrefix + "abort";

std::string
Text(const std::vector<std::uint8_t> & bytes)
{
  return { bytes.begin(), bytes.end() };
}

std::vector<std::uint8_t>
Bytes(const std::string & text)
{
  return { text.begin(), text.end() };
}

std::string
Seconds(std::chrono::milliseconds duration)
{
  std::ostringstream text;
  text << static_cast<double>(duration.count()) / 1000.0 << " s";
  return text.str();
}

bool
IsLoopback(const std::string & address)
{
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

/** The network device Gloo's connections use: GLOO_SOCKET_IFNAME's interface when set (as in
 * Python), loopback when every rank is on this machine, the address this machine's hostname
 * resolves to otherwise. */
std::shared_ptr<::gloo::transport::Device>
GlooDevice(const DataParallelSettings & settings)
{
  if (const char * interface = std::getenv("GLOO_SOCKET_IFNAME"))
  {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (settings.RendezvousFile.empty() && IsLoopback(settings.MasterAddress))
  {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

/** For two JSON objects: the keys whose values differ, as "key: a vs b"; "" otherwise. */
std::string
JsonDifferences(const std::string & mine, const std::string & theirs)
{
  const auto a = nlohmann::json::parse(mine, nullptr, false);
  const auto b = nlohmann::json::parse(theirs, nullptr, false);
  if (!a.is_object() || !b.is_object())
  {
    return "";
  }
  std::string differences;
  for (const auto & item : a.items())
  {
    const auto other = b.find(item.key());
    if (other == b.end() || *other != item.value())
    {
      differences += (differences.empty() ? "" : ", ") + item.key() + ": " + item.value().dump() + " vs " +
                     (other == b.end() ? std::string("(absent)") : other->dump());
    }
  }
  return differences;
}

/** Consecutive runs of tensors of one dtype and device, each of at most \p bucketBytes (a larger
 * tensor is a bucket of its own). */
std::vector<std::vector<torch::Tensor>>
Buckets(const std::vector<torch::Tensor> & tensors, std::int64_t bucketBytes)
{
  std::vector<std::vector<torch::Tensor>> buckets;
  std::int64_t                            bytes = 0;
  for (const auto & tensor : tensors)
  {
    const std::int64_t size = tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
    const bool         sameKind = !buckets.empty() && buckets.back().front().scalar_type() == tensor.scalar_type() &&
                          buckets.back().front().device() == tensor.device();
    if (!sameKind || bytes + size > bucketBytes)
    {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(tensor);
    bytes += size;
  }
  return buckets;
}

/** The tensors of a bucket copied into one flat contiguous buffer (c10d reduces contiguous tensors
 * only: a non-contiguous view would be reduced wrongly, without an error). */
torch::Tensor
Flatten(const std::vector<torch::Tensor> & bucket)
{
  std::int64_t total = 0;
  for (const auto & tensor : bucket)
  {
    total += tensor.numel();
  }
  auto         flat = torch::empty({ total }, bucket.front().options());
  std::int64_t offset = 0;
  for (const auto & tensor : bucket)
  {
    flat.narrow(0, offset, tensor.numel()).copy_(tensor.reshape({ -1 }));
    offset += tensor.numel();
  }
  return flat;
}

void
Unflatten(const torch::Tensor & flat, const std::vector<torch::Tensor> & bucket)
{
  std::int64_t offset = 0;
  for (const auto & tensor : bucket)
  {
    auto target = tensor; // shares the storage: copy_ writes into the caller's tensor
    target.copy_(flat.narrow(0, offset, tensor.numel()).view(tensor.sizes()));
    offset += tensor.numel();
  }
}
/** SIGPIPE blocked in this thread for a scope, and so in every thread started meanwhile (threads
 * inherit the mask of the thread that creates them). Gloo writes to its sockets with writev, which
 * raises SIGPIPE when it writes to a connection the dead peer has closed (c10d's store sends with
 * MSG_NOSIGNAL; Gloo cannot), and SIGPIPE's default action ends the process without a word: a
 * surviving rank would vanish instead of reporting the dead one (Python ignores SIGPIPE, so
 * PyTorch's own users never meet this). With SIGPIPE blocked in
 * the threads c10d and Gloo start, the write fails with EPIPE and becomes an error. Nothing
 * process-wide changes: the signal's disposition stays the application's, and this thread gets its
 * mask back (after discarding a SIGPIPE raised here meanwhile). */
class SigpipeBlockedForNewThreads
{
public:
  SigpipeBlockedForNewThreads()
  {
    sigemptyset(&m_Sigpipe);
    sigaddset(&m_Sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m_Sigpipe, &m_Saved);
  }
  ~SigpipeBlockedForNewThreads()
  {
    const timespec immediately{ 0, 0 };
    while (sigtimedwait(&m_Sigpipe, nullptr, &immediately) == SIGPIPE)
    {}
    pthread_sigmask(SIG_SETMASK, &m_Saved, nullptr);
  }
  SigpipeBlockedForNewThreads(const SigpipeBlockedForNewThreads &) = delete;
  SigpipeBlockedForNewThreads &
  operator=(const SigpipeBlockedForNewThreads &) = delete;

private:
  sigset_t m_Sigpipe;
  sigset_t m_Saved;
};
} // namespace

struct DataParallelGroup::Impl
{
  DataParallelSettings            settings;
  torch::Device                   device{ torch::kCPU };
  std::chrono::milliseconds       timeout{ 0 };
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend>     backend;
  std::string                     backendName;
  std::int64_t                    checks{ 0 };

  std::string
  Where() const
  {
    return "rank " + std::to_string(settings.Rank) + " of " + std::to_string(settings.WorldSize);
  }

  /** Publishes \p message for the other ranks (best effort), then throws it. */
  [[noreturn]] void
  Abort(const std::string & message)
  {
    try
    {
      store->set(AbortKey, Bytes(message));
    }
    catch (const std::exception &)
    {
      // The store is gone too: the other ranks will notice on their own.
    }
    throw DistributedError(message);
  }

  /** Throws another rank's published problem, if there is one. */
  void
  ThrowIfAborted()
  {
    if (store->check({ AbortKey }))
    {
      throw DistributedError("Another rank stopped the run: " + Text(store->get(AbortKey)));
    }
  }

  void
  OpenStore()
  {
    const auto & s = settings;
    if (!s.RendezvousFile.empty())
    {
      try
      {
        store = c10::make_intrusive<c10d::FileStore>(s.RendezvousFile, static_cast<int>(s.WorldSize));
      }
      catch (const std::exception & e)
      {
        throw DistributedError("The rendezvous file " + s.RendezvousFile + " cannot be used (" + e.what() +
                               "): choose a path in a writable folder that every rank sees");
      }
      store->setTimeout(timeout);
      return;
    }
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(s.MasterPort);
    options.isServer = s.Rank == 0 && !s.StoreHostedByLauncher;
    options.numWorkers = s.WorldSize;
    options.waitWorkers = false; // the join below counts the ranks, with a message that says who is missing
    options.timeout = timeout;
    const std::string endpoint = s.MasterAddress + ":" + std::to_string(s.MasterPort);
    try
    {
      store = c10::make_intrusive<c10d::TCPStore>(s.MasterAddress, options);
    }
    catch (const std::exception & e)
    {
      if (options.isServer)
      {
        throw DistributedError("Rank 0 cannot host the rendezvous store at " + endpoint + " (" + e.what() +
                               "): the port is probably in use (another run?); choose a free one with "
                               "MASTER_PORT (c2l launch --master-port)");
      }
      throw DistributedError(Where() + " cannot reach the rendezvous store at " + endpoint + " within " +
                             Seconds(timeout) + " (" + e.what() +
                             "): check that rank 0 runs, and MASTER_ADDR and MASTER_PORT");
    }
    if (s.StoreHostedByLauncher)
    {
      // The prefix torchrun's workers use in its store (torch.distributed.rendezvous).
      store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(s.RestartCount), store);
    }
  }

  /** Polls \p condition until it holds; throws another rank's published problem as soon as there is
   * one, and \p timedOut's message at the timeout. */
  void
  WaitUntil(const std::function<bool()> & condition, const std::function<std::string()> & timedOut)
  {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition())
    {
      ThrowIfAborted();
      if (std::chrono::steady_clock::now() > deadline)
      {
        throw DistributedError("The rendezvous timed out after " + Seconds(timeout) + ": " + timedOut());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /** Every rank announces itself and its world size; returns when all WorldSize ranks have, or
   * throws. The world size is compared with rank 0's before the wait, so that a rank started with
   * another one is refused at once, on every rank, instead of when the wait times out. */
  void
  Join()
  {
    const auto & s = settings;
    if (store->add(KeyPrefix + "rank_taken/" + std::to_string(s.Rank), 1) > 1)
    {
      Abort("Two processes were started as rank " + std::to_string(s.Rank) +
            " (or the store holds an earlier run's keys: use a new rendezvous file or port)");
    }
    const std::string worldSizeKey = KeyPrefix + "world_size/";
    store->set(worldSizeKey + std::to_string(s.Rank), Bytes(std::to_string(s.WorldSize)));
    WaitUntil([&] { return store->check({ worldSizeKey + "0" }); },
              [] { return std::string("rank 0 did not join: start it, with the same MASTER_ADDR and MASTER_PORT"); });
    const auto rankZeroSize = Text(store->get(worldSizeKey + "0"));
    if (rankZeroSize != std::to_string(s.WorldSize))
    {
      Abort(Where() + " was started with WORLD_SIZE " + std::to_string(s.WorldSize) + ", rank 0 with " + rankZeroSize +
            ": start every rank with the same WORLD_SIZE");
    }
    std::int64_t joined = store->add(KeyPrefix + "joined", 1);
    WaitUntil(
      [&] {
        joined = store->add(KeyPrefix + "joined", 0);
        return joined >= static_cast<std::int64_t>(s.WorldSize);
      },
      [&] {
        return std::to_string(joined) + " of " + std::to_string(s.WorldSize) +
               " ranks joined. Start every rank (RANK 0 to WORLD_SIZE - 1) with the same WORLD_SIZE, MASTER_ADDR "
               "and MASTER_PORT, or raise the timeout";
      });
    if (joined > static_cast<std::int64_t>(s.WorldSize))
    {
      Abort(std::to_string(joined) + " processes joined a run of WORLD_SIZE " + std::to_string(s.WorldSize) +
            ": the ranks were started with different WORLD_SIZEs, or the store holds an earlier run's keys");
    }
  }

  void
  CreateBackend()
  {
    // c10d's process group keeps its keys under a prefix of its own, apart from ours.
    auto groupStore = c10::make_intrusive<c10d::PrefixStore>(KeyPrefix + "group/", store);
#ifdef USE_C10D_NCCL
    if (device.is_cuda())
    {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        groupStore, static_cast<int>(settings.Rank), static_cast<int>(settings.WorldSize), options);
      backendName = "nccl";
      return;
    }
#endif
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(GlooDevice(settings));
    backend = c10::make_intrusive<c10d::ProcessGroupGloo>(
      groupStore, static_cast<int>(settings.Rank), static_cast<int>(settings.WorldSize), options);
    backendName = "gloo";
  }

  /** Waits for a collective; a rank that died or hung becomes a DistributedError that says so. */
  void
  Wait(const std::vector<c10::intrusive_ptr<c10d::Work>> & works, const std::string & what)
  {
    try
    {
      for (const auto & work : works)
      {
        work->wait();
      }
    }
    catch (const std::exception & e)
    {
      Failed(what, e);
    }
  }

  [[noreturn]] void
  Failed(const std::string & what, const std::exception & e)
  {
    throw DistributedError(
      "The " + what + " failed on " + Where() + " (" + e.what() +
      "). Another rank has probably stopped or hangs (its own output says why; a hung rank is given up after " +
      Seconds(timeout) + "). Checkpoints written so far are intact: resume from the last one");
  }
};

DataParallelGroup::DataParallelGroup(const DataParallelSettings & settings, const torch::Device & device)
  : m_Impl(std::make_unique<Impl>())
{
  if (const auto problem = settings.Problem(); !problem.empty())
  {
    throw ConfigurationError("Invalid data-parallel settings: " + problem);
  }
  m_Impl->settings = settings;
  m_Impl->device = device;
  m_Impl->timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(settings.TimeoutSeconds * 1000.0)));
  // The store's server thread, Gloo's transport loop and the process group's workers start here.
  const SigpipeBlockedForNewThreads noSigpipe;
  m_Impl->OpenStore();
  try
  {
    m_Impl->Join();
    m_Impl->CreateBackend();
  }
  catch (const DistributedError &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    throw DistributedError("The rendezvous of " + m_Impl->Where() + " failed: " + e.what());
  }
}

DataParallelGroup::~DataParallelGroup() = default;

int
DataParallelGroup::Rank() const
{
  return static_cast<int>(m_Impl->settings.Rank);
}

int
DataParallelGroup::WorldSize() const
{
  return static_cast<int>(m_Impl->settings.WorldSize);
}

std::string
DataParallelGroup::BackendName() const
{
  return m_Impl->backendName;
}

void
DataParallelGroup::RequireSameOnEveryRank(const std::string & what, const std::string & value)
{
  auto &       impl = *m_Impl;
  const auto   key = KeyPrefix + "check/" + std::to_string(impl.checks++) + "/";
  const auto   digest = SHA256Hex(value.data(), value.size());
  const auto & s = impl.settings;
  try
  {
    if (s.Rank == 0)
    {
      impl.store->set(key + "value", Bytes(value));
      for (unsigned int rank = 1; rank < s.WorldSize; ++rank)
      {
        if (Text(impl.store->get(key + std::to_string(rank))) != digest)
        {
          impl.Abort("Rank " + std::to_string(rank) + " has other " + what + " than rank 0 (its own error names " +
                     "them): start every rank with the same settings and data");
        }
      }
      return;
    }
    impl.store->set(key + std::to_string(s.Rank), Bytes(digest));
    const auto rankZero = Text(impl.store->get(key + "value"));
    if (rankZero != value)
    {
      const auto differences = JsonDifferences(value, rankZero);
      impl.Abort(impl.Where() + " has other " + what + " than rank 0" +
                 (differences.empty() ? std::string() : " (this rank's vs rank 0's: " + differences + ")") +
                 ": start every rank with the same settings and data");
    }
  }
  catch (const DistributedError &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    impl.Failed("comparison of the ranks' " + what, e);
  }
}

void
DataParallelGroup::BroadcastFromRankZero(const std::vector<torch::Tensor> & tensors)
{
  torch::NoGradGuard                          noGrad;
  const auto                                  buckets = Buckets(tensors, BucketBytes);
  std::vector<torch::Tensor>                  flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try
  {
    for (const auto & bucket : buckets)
    {
      std::vector<torch::Tensor> flat{ Flatten(bucket) };
      c10d::BroadcastOptions     options;
      options.rootRank = 0;
      works.push_back(m_Impl->backend->broadcast(flat, options));
      flats.push_back(flat.front());
    }
  }
  catch (const std::exception & e)
  {
    m_Impl->Failed("broadcast of rank 0's state", e);
  }
  m_Impl->Wait(works, "broadcast of rank 0's state");
  if (Rank() == 0)
  {
    return; // the source keeps its own values
  }
  for (std::size_t i = 0; i < buckets.size(); ++i)
  {
    Unflatten(flats[i], buckets[i]);
  }
}

void
DataParallelGroup::AverageGradients(const std::vector<torch::Tensor> & parameters)
{
  torch::NoGradGuard         noGrad;
  std::vector<torch::Tensor> gradients;
  for (const auto & parameter : parameters)
  {
    auto parameterCopy = parameter; // the same tensor: mutable_grad needs a non-const handle
    if (!parameterCopy.grad().defined())
    {
      parameterCopy.mutable_grad() = torch::zeros_like(parameter);
    }
    gradients.push_back(parameterCopy.grad());
  }
  const auto                                  buckets = Buckets(gradients, BucketBytes);
  std::vector<torch::Tensor>                  flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try
  {
    // Every bucket's all-reduce starts before the first is waited for: they overlap.
    for (const auto & bucket : buckets)
    {
      std::vector<torch::Tensor> flat{ Flatten(bucket) };
      c10d::AllreduceOptions     options;
      options.reduceOp = c10d::ReduceOp::SUM;
      works.push_back(m_Impl->backend->allreduce(flat, options));
      flats.push_back(flat.front());
    }
  }
  catch (const std::exception & e)
  {
    m_Impl->Failed("all-reduce of the gradients", e);
  }
  m_Impl->Wait(works, "all-reduce of the gradients");
  for (std::size_t i = 0; i < buckets.size(); ++i)
  {
    flats[i].div_(static_cast<double>(WorldSize()));
    Unflatten(flats[i], buckets[i]);
  }
}

double
DataParallelGroup::Average(double value)
{
  std::vector<torch::Tensor> sum{ torch::full({ 1 }, value, torch::TensorOptions(torch::kFloat64)).to(m_Impl->device) };
  try
  {
    m_Impl->Wait({ m_Impl->backend->allreduce(sum) }, "all-reduce of the loss");
  }
  catch (const DistributedError &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    m_Impl->Failed("all-reduce of the loss", e);
  }
  return sum.front().item<double>() / static_cast<double>(WorldSize());
}

void
DataParallelGroup::Barrier()
{
  try
  {
    m_Impl->Wait({ m_Impl->backend->barrier() }, "barrier");
  }
  catch (const DistributedError &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    m_Impl->Failed("barrier", e);
  }
}

} // namespace torchcore
} // namespace itk
