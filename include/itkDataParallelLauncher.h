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
#ifndef itkDataParallelLauncher_h
#define itkDataParallelLauncher_h

#include "SpatialTranscriptomicsExport.h"

#include <ostream>
#include <string>
#include <vector>

namespace itk
{

/** \class DataParallelLauncher
 * \brief Starts the local ranks of a data-parallel run on this machine, as torchrun does, without
 * Python, and waits for them.
 *
 * Each rank is a process running the same program and arguments, with torchrun's variables set
 * (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), and
 * OMP_NUM_THREADS set to its share of the machine's cores unless the user set it. The launcher takes
 * no part in the training (rank 0 hosts the store). While Run runs, SIGINT and SIGTERM are passed on
 * to the ranks (the caller's handlers are restored when it returns), and only its own children are
 * waited for. When a rank fails, the others get GracePeriod seconds to stop on their own (they notice
 * a dead rank at their next collective and say so), then SIGTERM, then, 10 s later, SIGKILL.
 * `c2l launch` is this class on the command line.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT DataParallelLauncher
{
public:
  unsigned int ProcessesPerNode{ 1 };
  unsigned int Nodes{ 1 };
  /** This machine's index, 0 to Nodes - 1. */
  unsigned int NodeRank{ 0 };
  /** Node 0's address and the port where rank 0 hosts the store. */
  std::string  MasterAddress{ "127.0.0.1" };
  unsigned int MasterPort{ 29500 };
  /** Seconds the other ranks get to stop on their own after one fails. */
  double GracePeriod{ 30.0 };

  /** Runs \p program (a path) with \p arguments (argv[1..]; argv[0] is \p name) as every local rank
   * and waits for all of them. Returns 0 when every rank succeeded, else the first failing rank's
   * exit status (128 + the signal that ended it); names every failing rank on \p messages. Throws
   * itk::ExceptionObject for settings that cannot work or a process that cannot be started. */
  int
  Run(const std::string & program, const std::string & name, const std::vector<std::string> & arguments,
      std::ostream & messages) const;
};

} // end namespace itk

#endif
