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

// The imputation network's parts against independent computations: data consistency restores
// measured values, the shifted-window mask keeps wrapped regions apart (a second computation of
// attention on the unshifted image), shapes pad and crop, and a seed fixes the initial weights.

#include "itkSparseImputationNetwork.h"

#include <ATen/CPUGeneratorImpl.h>

#include "gtest/gtest.h"

TEST(SparseImputationNetwork, DataConsistencyPutsMeasuredValuesBack)
{
  auto estimate = torch::randn({ 2, 1, 5, 6 });
  auto measured = torch::randn({ 2, 1, 5, 6 });
  auto mask = (torch::rand({ 2, 1, 5, 6 }) > 0.5).to(torch::kFloat32);
  auto result = itk::imputation::DataConsistency(estimate, measured, mask);
  EXPECT_TRUE(torch::equal(result * mask, measured * mask));
  EXPECT_TRUE(torch::equal(result * (1 - mask), estimate * (1 - mask)));
}

TEST(SparseImputationNetwork, OutputsKeepTheGridAndTheMeasuredValues)
{
  itk::imputation::SparseImputationNetworkOptions options;
  options.width = 8;
  options.growth = 8;
  itk::imputation::SparseImputationNetwork network(options);
  auto                                     generator = at::make_generator<at::CPUGeneratorImpl>(4);
  network->ResetParameters(generator);
  // 13 x 10 is no multiple of the window 4: padded inside, cropped back.
  auto value = torch::randn({ 3, 1, 13, 10 });
  auto mask = (torch::rand({ 3, 1, 13, 10 }) > 0.6).to(torch::kFloat32);
  value = value * mask;
  torch::NoGradGuard noGrad;
  const auto         outputs = network->forward(value, mask);
  ASSERT_EQ(outputs.size(), 3u);
  for (const auto & output : outputs)
  {
    EXPECT_EQ(output.sizes(), value.sizes());
    EXPECT_TRUE(torch::equal(output * mask, value * mask));
  }
  // The stages change the unmeasured positions.
  EXPECT_GT((outputs.back() * (1 - mask)).abs().sum().item<double>(), 0.0);
}

TEST(SparseImputationNetwork, ShiftedWindowsDoNotMixWrappedRegions)
{
  // With the shift mask, a query in the top-left region must ignore keys that the cyclic shift
  // brought in from the bottom and right edges: changing those pixels cannot change its output
  // row unless they are within its true (unwrapped) window.
  itk::imputation::WindowAttentionBlock block(4, 4, 1, true);
  auto                                  generator = at::make_generator<at::CPUGeneratorImpl>(1);
  {
    torch::NoGradGuard noGrad;
    for (auto & parameter : block->parameters())
    {
      parameter.copy_(torch::randn(parameter.sizes(), generator, torch::kFloat32) * 0.5);
    }
  }
  torch::NoGradGuard noGrad;
  auto               x = torch::randn({ 1, 4, 8, 8 }, generator, torch::kFloat32);
  auto               changed = x.clone();
  changed.index_put_({ 0, torch::indexing::Slice(), 0, 0 }, torch::randn({ 4 }, generator, torch::kFloat32));
  // Pixel (0, 0) is wrapped to the bottom-right window with pixels of rows/columns 6-7 only.
  const auto a = block->forward(x);
  const auto b = block->forward(changed);
  const auto rowsFarAway = torch::indexing::Slice(2, 6);
  EXPECT_TRUE(torch::allclose(a.index({ 0, torch::indexing::Slice(), rowsFarAway, rowsFarAway }),
                              b.index({ 0, torch::indexing::Slice(), rowsFarAway, rowsFarAway })));
  // Within the same unshifted window region, e.g. pixel (7, 7) shares the wrapped window with
  // (0, 0) but lies in another region: the mask must keep it unchanged.
  EXPECT_TRUE(
    torch::allclose(a.index({ 0, torch::indexing::Slice(), 7, 7 }), b.index({ 0, torch::indexing::Slice(), 7, 7 })));
  // Without the mask the shift would mix them: check the test can fail.
  itk::imputation::WindowAttentionBlock plain(4, 4, 1, false);
  {
    torch::NoGradGuard guard;
    auto               source = block->parameters();
    auto               target = plain->parameters();
    for (std::size_t i = 0; i < source.size(); ++i)
    {
      target[i].copy_(source[i]);
    }
  }
  auto rolled = torch::roll(x, { -2, -2 }, { 2, 3 });
  auto rolledChanged = torch::roll(changed, { -2, -2 }, { 2, 3 });
  // The unmasked window attention on the rolled image is what the shifted block would be without
  // its mask: there (7, 7) - rolled to (5, 5) - does see the change at (0, 0) - rolled to (6, 6).
  EXPECT_FALSE(torch::allclose(plain->forward(rolled).index({ 0, torch::indexing::Slice(), 5, 5 }),
                               plain->forward(rolledChanged).index({ 0, torch::indexing::Slice(), 5, 5 })));
}

TEST(SparseImputationNetwork, SeedFixesTheInitialWeights)
{
  itk::imputation::SparseImputationNetworkOptions options;
  options.width = 8;
  options.growth = 8;
  itk::imputation::SparseImputationNetwork a(options), b(options), c(options);
  auto                                     g1 = at::make_generator<at::CPUGeneratorImpl>(7);
  auto                                     g2 = at::make_generator<at::CPUGeneratorImpl>(7);
  auto                                     g3 = at::make_generator<at::CPUGeneratorImpl>(8);
  a->ResetParameters(g1);
  b->ResetParameters(g2);
  c->ResetParameters(g3);
  const auto pa = a->parameters();
  const auto pb = b->parameters();
  const auto pc = c->parameters();
  bool       differs = false;
  for (std::size_t i = 0; i < pa.size(); ++i)
  {
    EXPECT_TRUE(torch::equal(pa[i], pb[i]));
    differs = differs || !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(differs);
}
