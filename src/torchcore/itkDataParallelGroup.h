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
#ifndef itkDataParallelGroup_h
#define itkDataParallelGroup_h

// Data parallelism on LibTorch's own distributed engine, c10d: its stores for the rendezvous and
// its process groups (Gloo on CPU, NCCL on CUDA) for the collectives. c10d's headers stay in the
// .cxx: they are slow to compile and need Gloo's headers (libgloo-dev).

#include "itkDataParallelSettings.h"
#include "itkTorchErrors.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace itk
{
namespace torchcore
{

/** A data-parallel run that cannot go on: a rank that did not join, died or hung, a store that
 * cannot be hosted or reached, or ranks that disagree about what they train. */
class DistributedError : public TorchError
{
public:
  using TorchError::TorchError;
};

/** One process's membership of a data-parallel run: it joins the other ranks when constructed and
 * leaves when destroyed. Every collective must be called by every rank, in the same order.
 *
 * The rendezvous checks before anything trains that every rank was started with the same world
 * size and that no two processes claim one rank; a rank that finds a problem publishes it in the
 * store, so that the others fail at once with its message instead of waiting for the timeout. */
class DataParallelGroup
{
public:
  /** Joins the ranks (DistributedError when that fails or times out). \p device is where the
   * tensors of the collectives live: NCCL for a CUDA device in a build that has it, Gloo otherwise. */
  DataParallelGroup(const DataParallelSettings & settings, const torch::Device & device);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup &) = delete;
  DataParallelGroup &
  operator=(const DataParallelGroup &) = delete;

  int
  Rank() const;
  int
  WorldSize() const;
  /** "gloo" or "nccl". */
  std::string
  BackendName() const;

  /** Fails on every rank whose \p value differs from rank 0's, and on rank 0 when any does, naming
   * \p what and, for JSON objects, the keys that differ. Values go through the store (rank 0's in
   * full, the others' as SHA-256 digests). */
  void
  RequireSameOnEveryRank(const std::string & what, const std::string & value);

  /** Copies rank 0's values into \p tensors on every rank, in place (in flat buckets). */
  void
  BroadcastFromRankZero(const std::vector<torch::Tensor> & tensors);

  /** Replaces each parameter's gradient by its mean over the ranks: flat contiguous buckets of at
   * most BucketBytes are summed across ranks (Gloo has no average), then divided by the world size.
   * A parameter without a gradient counts as a zero gradient. */
  void
  AverageGradients(const std::vector<torch::Tensor> & parameters);

  /** The mean of \p value over the ranks (e.g. a step's loss). */
  double
  Average(double value);

  /** Returns when every rank has reached it. */
  void
  Barrier();

  /** Bytes per bucket of AverageGradients and BroadcastFromRankZero: PyTorch DDP's default, 25 MiB. */
  static constexpr std::int64_t BucketBytes = std::int64_t{ 25 } << 20;

private:
  struct Impl;
  std::unique_ptr<Impl> m_Impl;
};

} // namespace torchcore
} // namespace itk

#endif
