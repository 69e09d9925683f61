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
#ifndef itkDataParallelSettings_h
#define itkDataParallelSettings_h

// No ITK and no LibTorch here, like the training settings: the LibTorch engine (torchcore's
// DataParallelGroup) and the ITK filters read the same type.

#include <ostream>
#include <string>

namespace itk
{

/** \brief Where one process stands in a data-parallel training run, and how its ranks meet.
 *
 * WorldSize processes (ranks) train one model together: each computes the gradients of its slice
 * of every batch, the gradients are averaged across ranks (LibTorch's c10d: Gloo on CPU, NCCL on
 * CUDA), and every rank takes the same optimizer step. The default (WorldSize 1) is one process
 * with no store and no process group.
 *
 * The ranks meet through a key-value store: a TCP store at MasterAddress:MasterPort, hosted by
 * rank 0 (or by the launcher, when StoreHostedByLauncher: torchrun), or a file store at
 * RendezvousFile (one machine, or a filesystem every rank shares). FromEnvironment reads
 * torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), which `c2l launch`
 * and torchrun set (in a SLURM job, `srun` starts one `c2l launch` per node:
 * Documentation/DataParallel.md).
 *
 * Used by DiffusionPretrainFilter (SetDataParallel), MethodStepRunner::Pretrain and `c2l pretrain`.
 * \ingroup SpatialTranscriptomics */
struct DataParallelSettings
{
  /** This process's rank, in [0, WorldSize). Rank 0 writes the model, checkpoints and logs. */
  unsigned int Rank{ 0 };
  /** How many processes train together; 1: one process, no data parallelism. */
  unsigned int WorldSize{ 1 };
  /** The rank among those on this machine: the CUDA device a rank uses when the device is "cuda". */
  unsigned int LocalRank{ 0 };
  /** The address and port of the TCP store (rank 0's machine). */
  std::string  MasterAddress{ "127.0.0.1" };
  unsigned int MasterPort{ 29500 };
  /** When not empty: the ranks meet through this file instead of TCP (one machine, or a shared
   * filesystem). It must not exist when a run starts; the last rank to leave removes it. */
  std::string RendezvousFile;
  /** The launcher already hosts the TCP store (torchrun sets TORCHELASTIC_USE_AGENT_STORE): every
   * rank joins it as a client, under torchrun's key prefix for RestartCount. */
  bool         StoreHostedByLauncher{ false };
  unsigned int RestartCount{ 0 };
  /** How long the rendezvous and each collective wait for the other ranks before failing with an
   * error that says so. A rank that dies is noticed at once (its connections close); the timeout
   * bounds the wait for a rank that hangs. Raise it for steps that take longer than this. */
  double TimeoutSeconds{ 120.0 };

  /** More than one rank? */
  bool
  IsDataParallel() const
  {
    return WorldSize > 1;
  }

  /** The settings torchrun's variables describe: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
   * MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE and TORCHELASTIC_RESTART_COUNT. Without RANK and
   * WORLD_SIZE: the defaults (one process). Throws std::invalid_argument naming the variable when
   * one is malformed, or when only one of RANK and WORLD_SIZE is set. */
  static DataParallelSettings
  FromEnvironment();

  /** What is wrong with these settings and what to do about it, or "" when they are valid. */
  std::string
  Problem() const;
  /** The settings as a JSON object (snake_case keys). */
  std::string
  ToJSON() const;
  /** One "Name: value" line per setting, each after \p indent (for a filter's PrintSelf). */
  void
  Print(std::ostream & os, const std::string & indent) const;

  bool
  operator==(const DataParallelSettings & other) const;
  bool
  operator!=(const DataParallelSettings & other) const
  {
    return !(*this == other);
  }
};

} // end namespace itk

#endif
