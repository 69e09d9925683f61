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
#include "itkDataParallelSettings.h"

#include "itkTrainingSettingsChecks.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace itk
{
namespace
{
/** The variable \p name as an unsigned integer at most \p largest, or \p fallback when it is unset. */
unsigned int
UnsignedVariable(const char * name, unsigned int fallback, unsigned long largest)
{
  const char * text = std::getenv(name);
  if (text == nullptr)
  {
    return fallback;
  }
  char * end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (*text == '\0' || *text == '-' || *end != '\0' || errno != 0 || value > largest)
  {
    throw std::invalid_argument(std::string("The environment variable ") + name + "=\"" + text +
                                "\" is not a whole number from 0 to " + std::to_string(largest));
  }
  return static_cast<unsigned int>(value);
}
} // namespace

DataParallelSettings
DataParallelSettings::FromEnvironment()
{
  DataParallelSettings settings;
  const bool           hasRank = std::getenv("RANK") != nullptr;
  const bool           hasWorldSize = std::getenv("WORLD_SIZE") != nullptr;
  if (hasRank != hasWorldSize)
  {
    throw std::invalid_argument(std::string("Only ") + (hasRank ? "RANK" : "WORLD_SIZE") +
                                " is set: a data-parallel run needs both RANK and WORLD_SIZE (and MASTER_ADDR, "
                                "MASTER_PORT), as torchrun and c2l launch set them; unset it for one process");
  }
  if (!hasRank)
  {
    return settings;
  }
  const unsigned long largestRank = std::numeric_limits<int>::max();
  settings.Rank = UnsignedVariable("RANK", 0, largestRank);
  settings.WorldSize = UnsignedVariable("WORLD_SIZE", 1, largestRank);
  settings.LocalRank = UnsignedVariable("LOCAL_RANK", settings.Rank, largestRank);
  if (const char * address = std::getenv("MASTER_ADDR"))
  {
    settings.MasterAddress = address;
  }
  settings.MasterPort = UnsignedVariable("MASTER_PORT", settings.MasterPort, 65535);
  if (const char * agentStore = std::getenv("TORCHELASTIC_USE_AGENT_STORE"))
  {
    // torchrun writes Python's str(True).
    settings.StoreHostedByLauncher = std::string(agentStore) == "True";
  }
  settings.RestartCount = UnsignedVariable("TORCHELASTIC_RESTART_COUNT", 0, largestRank);
  return settings;
}

std::string
DataParallelSettings::Problem() const
{
  if (WorldSize < 1)
  {
    return "WorldSize must be at least 1 (1: one process)";
  }
  if (Rank >= WorldSize)
  {
    return "Rank " + std::to_string(Rank) + " is not below WorldSize " + std::to_string(WorldSize) +
           ": ranks count from 0 to WorldSize - 1";
  }
  if (!(TimeoutSeconds > 0.0) || TimeoutSeconds > 7.0 * 24 * 3600)
  {
    return "TimeoutSeconds (" + NumberText(TimeoutSeconds) + ") must be positive and at most a week";
  }
  if (IsDataParallel() && RendezvousFile.empty())
  {
    if (MasterAddress.empty())
    {
      return "no MasterAddress: set the address of rank 0's machine (MASTER_ADDR), or a RendezvousFile";
    }
    if (MasterPort < 1 || MasterPort > 65535)
    {
      return "MasterPort " + std::to_string(MasterPort) + " is not a TCP port (1 to 65535)";
    }
  }
  return "";
}

std::string
DataParallelSettings::ToJSON() const
{
  return nlohmann::json{
    { "rank", Rank },
    { "world_size", WorldSize },
    { "local_rank", LocalRank },
    { "master_address", MasterAddress },
    { "master_port", MasterPort },
    { "rendezvous_file", RendezvousFile },
    { "store_hosted_by_launcher", StoreHostedByLauncher },
    { "restart_count", RestartCount },
    { "timeout_seconds", TimeoutSeconds }
  }.dump();
}

void
DataParallelSettings::Print(std::ostream & os, const std::string & indent) const
{
  os << indent << "Rank: " << Rank << '\n';
  os << indent << "WorldSize: " << WorldSize << '\n';
  os << indent << "LocalRank: " << LocalRank << '\n';
  os << indent << "MasterAddress: " << MasterAddress << '\n';
  os << indent << "MasterPort: " << MasterPort << '\n';
  os << indent << "RendezvousFile: " << RendezvousFile << '\n';
  os << indent << "StoreHostedByLauncher: " << StoreHostedByLauncher << '\n';
  os << indent << "RestartCount: " << RestartCount << '\n';
  os << indent << "TimeoutSeconds: " << TimeoutSeconds << '\n';
}

bool
DataParallelSettings::operator==(const DataParallelSettings & other) const
{
  return ToJSON() == other.ToJSON();
}

} // end namespace itk
