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

// The gene FiLM adapter on a tiny U-Net: it starts as the identity (the local model equals the
// central one bit for bit), it modulates only the blocks it was given, the null condition uses its
// own embedding, and training it leaves the frozen U-Net untouched.

#include "itkDiffusionTestUtilities.h"
#include "itkGeneFiLMAdapter.h"

#include "gtest/gtest.h"

namespace
{
using namespace itk;

/** The engine tests' tiny U-Net (two scales, attention at the coarse one, 16x16), seeded. */
diffusion::UNet2D
TinyUNet()
{
  torch::manual_seed(0);
  diffusion::UNet2D unet(DiffusionTest::TinyConfig());
  unet->eval();
  return unet;
}

struct Batch
{
  torch::Tensor images = torch::randn({ 3, 3, 16, 16 });
  torch::Tensor timesteps = torch::tensor({ 5, 400, 999 });
  torch::Tensor conditions = torch::randn({ 3, 12 });
  torch::Tensor isNull = torch::tensor({ false, true, false });
};

TEST(GeneFiLMAdapter, StartsAsTheCentralModelExactly)
{
  auto       unet = TinyUNet();
  const auto blocks = adaptation::ResnetBlockChannels(unet);
  EXPECT_EQ(blocks.size(), 8u); // 2 down blocks x 1, the middle 2, 2 up blocks x (1 + 1)
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 12;
  adaptation::GeneFiLMAdapter adapter(options, blocks);
  Batch                       batch;
  torch::NoGradGuard          noGrad;
  const auto                  central = unet->forward(batch.images, batch.timesteps);
  const auto                  modulator = adapter->Bind(batch.conditions, batch.isNull);
  const auto                  local = unet->forward(batch.images, batch.timesteps, modulator.get());
  EXPECT_TRUE(torch::equal(central, local));
}

TEST(GeneFiLMAdapter, ModulatesOnlyTheChosenBlocks)
{
  auto       unet = TinyUNet();
  const auto blocks = adaptation::ResnetBlockChannels(unet);
  ASSERT_TRUE(blocks.count("mid_block.resnets.0"));
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 12;
  options.embeddingSize = 6;
  options.blocks = { "mid_block.resnets.0" };
  adaptation::GeneFiLMAdapter adapter(options, blocks);
  EXPECT_EQ(adapter->Blocks().size(), 1u);
  EXPECT_EQ(adapter->NamedWeights().size(), 5u); // projection (2), null embedding, one FiLM map (2)
  {
    torch::NoGradGuard noGrad;
    for (auto & w : adapter->NamedWeights())
    {
      if (w.first.rfind("film.", 0) == 0)
      {
        w.second.normal_(0.0, 0.5);
      }
    }
  }
  Batch              batch;
  torch::NoGradGuard noGrad;
  const auto         central = unet->forward(batch.images, batch.timesteps);
  const auto local = unet->forward(batch.images, batch.timesteps, adapter->Bind(batch.conditions, batch.isNull).get());
  EXPECT_FALSE(torch::allclose(central, local));
  // Two different conditions give two different outputs for the same noisy image.
  const auto other = unet->forward(batch.images, batch.timesteps, adapter->Bind(-batch.conditions, batch.isNull).get());
  EXPECT_GT((other - local).abs().select(0, 0).max().item<double>(), 1e-4);
  // The null row ignores its condition: any condition there gives the same output.
  EXPECT_TRUE(torch::allclose(other.select(0, 1), local.select(0, 1)));
}

TEST(GeneFiLMAdapter, NullRowsTakeTheNullEmbedding)
{
  auto                        unet = TinyUNet();
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 12;
  options.embeddingSize = 4;
  adaptation::GeneFiLMAdapter adapter(options, adaptation::ResnetBlockChannels(unet));
  Batch                       batch;
  const auto                  embedding = adapter->Embed(batch.conditions, batch.isNull);
  EXPECT_TRUE(torch::equal(embedding.select(0, 1), torch::zeros({ 4 })));
  EXPECT_TRUE(torch::allclose(embedding.select(0, 0),
                              torch::silu(torch::matmul(adapter->NamedWeights()[0].second, batch.conditions[0]) +
                                          adapter->NamedWeights()[1].second)));
}

TEST(GeneFiLMAdapter, TrainingLeavesTheFrozenUNetUntouched)
{
  auto unet = TinyUNet();
  adaptation::Freeze(unet);
  std::vector<torch::Tensor> before;
  for (const auto & p : unet->parameters())
  {
    before.push_back(p.clone());
  }
  adaptation::GeneFiLMOptions options;
  options.numberOfGenes = 12;
  adaptation::GeneFiLMAdapter adapter(options, adaptation::ResnetBlockChannels(unet));
  torch::optim::AdamW         optimizer(adapter->parameters(), torch::optim::AdamWOptions(1e-2));
  Batch                       batch;
  for (int step = 0; step < 3; ++step)
  {
    optimizer.zero_grad();
    const auto out = unet->forward(batch.images, batch.timesteps, adapter->Bind(batch.conditions, batch.isNull).get());
    const auto loss = (out - batch.images).pow(2).mean();
    loss.backward();
    optimizer.step();
  }
  std::size_t k = 0;
  for (const auto & p : unet->parameters())
  {
    EXPECT_FALSE(p.grad().defined());
    EXPECT_TRUE(torch::equal(p, before[k++]));
  }
  // The adapter moved: its FiLM maps are no longer zero.
  bool moved = false;
  for (const auto & w : adapter->NamedWeights())
  {
    moved |= w.first.rfind("film.", 0) == 0 && w.second.abs().sum().item<double>() > 0.0;
  }
  EXPECT_TRUE(moved);
}

TEST(GeneFiLMAdapter, BadSizesAndBlocksThrow)
{
  auto                        unet = TinyUNet();
  const auto                  blocks = adaptation::ResnetBlockChannels(unet);
  adaptation::GeneFiLMOptions options;
  EXPECT_THROW(adaptation::GeneFiLMAdapter(options, blocks), std::invalid_argument); // no genes
  options.numberOfGenes = 12;
  options.blocks = { "mid_block.resnets.7" };
  EXPECT_THROW(adaptation::GeneFiLMAdapter(options, blocks), std::invalid_argument);
  options.blocks.clear();
  adaptation::GeneFiLMAdapter adapter(options, blocks);
  EXPECT_THROW(adapter->Bind(torch::randn({ 2, 11 }), torch::zeros({ 2 }, torch::kBool)), std::invalid_argument);
}

} // namespace
