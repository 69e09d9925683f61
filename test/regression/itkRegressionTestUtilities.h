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
#ifndef itkRegressionTestUtilities_h
#define itkRegressionTestUtilities_h

#include "itkResNet.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>

namespace itk
{
namespace RegressionTest
{

/** A fresh folder under the build tree, unique to this process (tests may run in parallel). */
inline std::filesystem::path
ScratchFolder(const std::string & name)
{
  const auto folder = std::filesystem::path(REGRESSION_TEST_OUTPUT) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

/** \p count random uint8 patches [count, size, size, 3] from a generator seeded with \p seed. */
inline torch::Tensor
RandomPatches(std::int64_t count, std::int64_t size, std::uint64_t seed)
{
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randint(0, 256, { count, size, size, 3 }, generator, torch::kLong).to(torch::kUInt8);
}

inline regression::ResNetConfig
Config(int depth, std::int64_t genes)
{
  regression::ResNetConfig config;
  config.depth = depth;
  config.numberOfOutputs = genes;
  return config;
}

/** Moves every BatchNorm of \p net far from its initial identity (running variance in [0.5, 2],
 * running mean, shift and scale drawn around 0 and 1), so that eval mode, train mode and a folded
 * BatchNorm give clearly different numbers when they disagree. */
inline void
DisturbBatchNorms(regression::ResNet & net)
{
  torch::NoGradGuard noGrad;
  for (auto & named : net->NamedState())
  {
    const auto & name = named.first;
    auto &       tensor = named.second;
    if (!tensor.is_floating_point()) // num_batches_tracked
    {
      continue;
    }
    if (name.find("running_var") != std::string::npos)
    {
      tensor.uniform_(0.5, 2.0);
    }
    else if (name.find("running_mean") != std::string::npos)
    {
      tensor.normal_(0.0, 0.2);
    }
    else if (name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos)
    {
      tensor.dim() == 1 && name.find("weight") != std::string::npos ? tensor.uniform_(0.5, 1.5)
                                                                    : tensor.normal_(0.0, 0.2);
    }
  }
}

/** The largest |a - b| over two nets' state (parameters and buffers), or infinity if names differ. */
inline double
StateDifference(const regression::ResNet & a, const regression::ResNet & b)
{
  const auto first = a->NamedState();
  const auto second = b->NamedState();
  if (first.size() != second.size())
  {
    return std::numeric_limits<double>::infinity();
  }
  double difference = 0.0;
  for (std::size_t i = 0; i < first.size(); ++i)
  {
    if (first[i].first != second[i].first || first[i].second.sizes() != second[i].second.sizes())
    {
      return std::numeric_limits<double>::infinity();
    }
    difference =
      std::max(difference,
               (first[i].second.to(torch::kFloat64) - second[i].second.to(torch::kFloat64)).abs().max().item<double>());
  }
  return difference;
}

} // namespace RegressionTest
} // namespace itk

#endif
