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

// c2l launch: the local ranks of a data-parallel run of a c2l command, started as torchrun starts
// them (itk::DataParallelLauncher), without Python.

#include "c2lCommands.h"

#include "itkDataParallelLauncher.h"
#include "itkMacro.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace c2l
{

void
AddLaunchCommand(CLI::App & app)
{
  auto   launcher = std::make_shared<itk::DataParallelLauncher>();
  auto   command = std::make_shared<std::vector<std::string>>();
  auto * launch = app.add_subcommand("launch", DescriptionOf("launch"));
  launch->add_option("--nproc-per-node", launcher->ProcessesPerNode, "Ranks to start on this machine (default 1)");
  launch->add_option("--nnodes", launcher->Nodes, "Machines in the run (default 1)");
  launch->add_option("--node-rank", launcher->NodeRank, "This machine's index, 0 to nnodes - 1 (default 0)");
  launch->add_option(
    "--master-addr", launcher->MasterAddress, "Address of node 0, where rank 0 hosts the store (default 127.0.0.1)");
  launch->add_option("--master-port", launcher->MasterPort, "Port of rank 0's store (default 29500)");
  launch->add_option("--grace-period",
                     launcher->GracePeriod,
                     "Seconds the other ranks get to stop on their own after one fails (default 30)");
  // Not required by the parser: the callback says what is missing, with an example.
  launch->add_option("command", *command, "The c2l command every rank runs, after \"--\"");
  launch->callback([launcher, command]() {
    if (command->empty() || command->front() == "launch")
    {
      itkGenericExceptionMacro(<< "Name the c2l command each rank runs after \"--\", e.g. c2l launch "
                                  "--nproc-per-node 2 -- pretrain --data patches.h5 --out model.safetensors");
    }
    std::error_code error;
    const auto      self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error)
    {
      itkGenericExceptionMacro(<< "c2l launch cannot find its own executable (/proc/self/exe): " << error.message());
    }
    std::cerr << std::unitbuf; // the launcher's lines interleave with the ranks' own
    const int code = launcher->Run(self.string(), "c2l", *command, std::cerr);
    std::cout.flush();
    std::exit(code);
  });
}

} // namespace c2l
