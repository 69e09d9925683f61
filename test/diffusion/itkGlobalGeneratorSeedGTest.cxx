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

// A seeded construction gives the same weights whatever other threads build meanwhile: the modules
// the library builds only to overwrite (copies, models loading their weights) draw from the global
// generator too, and once disturbed the seeded weights of the ranks of a data-parallel run in one
// process (threads) differed from run to run.

#include "itkGlobalGeneratorSeed.h"
#include "itkUNet2D.h"

#include "itkDiffusionTestUtilities.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <atomic>
#include <thread>

namespace
{
std::vector<torch::Tensor>
SeededWeights()
{
  const itk::torchcore::GlobalGeneratorSeed seeded(7);
  return itk::diffusion::UNet2D(itk::DiffusionTest::TinyConfig())->parameters();
}
} // namespace

TEST(GlobalGeneratorSeed, SeededWeightsDoNotDependOnConstructionsOnOtherThreads)
{
  const auto        reference = SeededWeights();
  std::atomic<bool> done{ false };
  std::thread       other([&] {
    while (!done)
    {
      itk::torchcore::BuildModuleToOverwrite([] { return itk::diffusion::UNet2D(itk::DiffusionTest::TinyConfig()); });
    }
  });
  int               differing = 0;
  for (int i = 0; i < 100; ++i)
  {
    const auto weights = SeededWeights();
    for (std::size_t k = 0; k < weights.size(); ++k)
    {
      if (!torch::equal(weights[k], reference[k]))
      {
        ++differing;
        break;
      }
    }
  }
  done = true;
  other.join();
  EXPECT_EQ(differing, 0) << "of 100 seeded constructions";
}

TEST(GlobalGeneratorSeed, TheApplicationsRandomStreamIsGivenBack)
{
  torch::manual_seed(3);
  const auto expected = torch::rand({ 4 });
  torch::manual_seed(3);
  SeededWeights();
  itk::torchcore::BuildModuleToOverwrite([] { return itk::diffusion::UNet2D(itk::DiffusionTest::TinyConfig()); });
  EXPECT_TRUE(torch::equal(torch::rand({ 4 }), expected));
}
