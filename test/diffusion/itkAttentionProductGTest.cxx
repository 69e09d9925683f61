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

// The forms of the attention product: the fused CPU kernel against an independent reference (sums
// of broadcast products in double) in value and gradients, the query slices against the composite
// one product (baddbmm, softmax, bmm), and which form Attend chooses.

#include "itkAttentionProduct.h"
#include "itkFusedAttention.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <vector>

namespace
{
struct Shape
{
  std::int64_t pairs;
  std::int64_t queries;
  std::int64_t keys;
  std::int64_t dim;
};

struct Inputs
{
  torch::Tensor q;
  torch::Tensor k;
  torch::Tensor v;
  torch::Tensor outputWeights; // the loss sum(out * outputWeights) gives every output its own gradient
};

Inputs
RandomInputs(const Shape & shape, double spread)
{
  return { spread * torch::randn({ shape.pairs, shape.queries, shape.dim }),
           spread * torch::randn({ shape.pairs, shape.keys, shape.dim }),
           torch::randn({ shape.pairs, shape.keys, shape.dim }),
           torch::randn({ shape.pairs, shape.queries, shape.dim }) };
}

struct Result
{
  torch::Tensor out;
  torch::Tensor dq;
  torch::Tensor dk;
  torch::Tensor dv;
};

template <typename Product>
Result
ValueAndGradients(Product product, const Inputs & inputs, double scale)
{
  auto q = inputs.q.clone().requires_grad_(true);
  auto k = inputs.k.clone().requires_grad_(true);
  auto v = inputs.v.clone().requires_grad_(true);
  auto out = product(q, k, v, scale);
  (out * inputs.outputWeights).sum().backward();
  return { out.detach(), q.grad(), k.grad(), v.grad() };
}

/** softmax(q k^T * scale) v by broadcasting and sums in double: no matrix product and no BLAS call, an
 * independent reference. (LibTorch's own composite product is not one for a single query row: there
 * its baddbmm, a 1 x d by d x M product, returned NaN from finite inputs now and then, after other
 * tests had run in the same process.) */
torch::Tensor
AttendByBroadcasting(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale)
{
  const auto scores = (q.to(torch::kFloat64).unsqueeze(2) * k.to(torch::kFloat64).unsqueeze(1)).sum(-1) * scale;
  const auto probabilities = torch::softmax(scores, -1);
  return (probabilities.unsqueeze(-1) * v.to(torch::kFloat64).unsqueeze(1)).sum(2).to(q.scalar_type());
}

double
MaxDifference(const torch::Tensor & a, const torch::Tensor & b)
{
  return (a - b).abs().max().item<double>();
}
} // namespace

TEST(FusedAttention, AgreesWithAReferenceInValueAndGradients)
{
  // Rows and keys that do not fill the kernel's 4 x 8 register blocks, one query or one key, diffusers'
  // head dimension 8 at the U-Net's coarse scales, a wide head, and peaked softmaxes (spread 4: scores
  // of tens, rows close to one-hot).
  const std::vector<std::pair<Shape, double>> cases = {
    { { 3, 37, 45, 5 }, 1.0 },   { { 2, 1, 19, 8 }, 1.0 },    { { 2, 13, 1, 8 }, 1.0 },
    { { 4, 256, 256, 8 }, 1.0 }, { { 2, 64, 300, 64 }, 1.0 }, { { 3, 40, 72, 8 }, 4.0 },
  };
  torch::manual_seed(11);
  for (const auto & [shape, spread] : cases)
  {
    SCOPED_TRACE(::testing::Message() << "pairs " << shape.pairs << ", queries " << shape.queries << ", keys "
                                      << shape.keys << ", dim " << shape.dim << ", spread " << spread);
    const auto   inputs = RandomInputs(shape, spread);
    const double scale = 1.0 / std::sqrt(static_cast<double>(shape.dim));
    const auto   fused = ValueAndGradients(itk::diffusion::AttendFused, inputs, scale);
    const auto   reference = ValueAndGradients(AttendByBroadcasting, inputs, scale);
    EXPECT_LE(MaxDifference(fused.out, reference.out), 1e-5);
    EXPECT_LE(MaxDifference(fused.dv, reference.dv), 2e-5);
    // dq and dk scale with the spread of the scores' gradients.
    const double tolerance = 2e-5 * spread * spread;
    EXPECT_LE(MaxDifference(fused.dq, reference.dq), tolerance);
    EXPECT_LE(MaxDifference(fused.dk, reference.dk), tolerance);
    // Not two copies of zero; with one key the softmax is 1 whatever the scores, and so are dq and dk zero.
    const double gradientSize = shape.keys > 1 ? 1e-2 : 0.0;
    EXPECT_GE(reference.dq.abs().max().item<double>(), gradientSize);
    EXPECT_GE(reference.dk.abs().max().item<double>(), gradientSize);
  }
}

TEST(FusedAttention, NotANumberReachesTheOutputsAsInTheReference)
{
  // A diverged activation must not turn into finite numbers: a NaN query poisons its own row, a NaN key
  // every row of its pair, as softmax does.
  torch::manual_seed(15);
  auto inputs = RandomInputs({ 3, 20, 24, 8 }, 1.0);
  inputs.q[0][5][2] = std::numeric_limits<float>::quiet_NaN();
  inputs.k[2][7][0] = std::numeric_limits<float>::quiet_NaN();
  torch::NoGradGuard noGrad;
  const auto         fused = itk::diffusion::AttendFused(inputs.q, inputs.k, inputs.v, 0.3);
  const auto         reference = AttendByBroadcasting(inputs.q, inputs.k, inputs.v, 0.3);
  EXPECT_TRUE(torch::equal(torch::isnan(fused), torch::isnan(reference)));
  EXPECT_EQ(torch::isnan(fused).sum().item<std::int64_t>(), (1 + 20) * 8);
}

TEST(FusedAttention, ResultsDoNotDependOnTheThreadCount)
{
  torch::manual_seed(12);
  const auto inputs = RandomInputs({ 5, 70, 90, 8 }, 1.0);
  const int  threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = ValueAndGradients(itk::diffusion::AttendFused, inputs, 0.3);
  torch::set_num_threads(std::max(2, threads));
  const auto several = ValueAndGradients(itk::diffusion::AttendFused, inputs, 0.3);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.out, several.out));
  EXPECT_TRUE(torch::equal(one.dq, several.dq));
  EXPECT_TRUE(torch::equal(one.dk, several.dk));
  EXPECT_TRUE(torch::equal(one.dv, several.dv));
}

TEST(FusedAttention, RefusesASecondDerivative)
{
  torch::manual_seed(13);
  const auto inputs = RandomInputs({ 2, 8, 8, 4 }, 1.0);
  auto       q = inputs.q.clone().requires_grad_(true);
  const auto out = itk::diffusion::AttendFused(q, inputs.k, inputs.v, 0.5);
  try
  {
    torch::autograd::grad({ out.sum() }, { q }, {}, /*retain_graph=*/true, /*create_graph=*/true);
    ADD_FAILURE() << "a second derivative was allowed";
  }
  catch (const c10::Error & e)
  {
    EXPECT_NE(std::string(e.what()).find("no second derivative"), std::string::npos) << e.what();
  }
}

TEST(FusedAttention, ExponentialMatchesTheCLibrary)
{
  // The kernel's exponential over its whole range, shifted as the softmax shifts it: within 3 units
  // in the last place of std::exp; below -87.3 it stays at exp(-87.3) = 1.2e-38, about the smallest
  // normal float (negligible next to a softmax row's largest term, 1).
  std::vector<float> x;
  for (float y = -87.0f; y <= 88.0f; y += 0.001953125f)
  {
    x.push_back(y + 2.5f);
  }
  auto values = x;
  itk::diffusion::detail::ExponentiateShifted(values.data(), static_cast<std::int64_t>(values.size()), 2.5f);
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    const double exact = std::exp(static_cast<double>(x[i]) - 2.5);
    worst = std::max(worst, std::abs(values[i] - exact) / exact);
  }
  EXPECT_LE(worst, 3.0 * std::numeric_limits<float>::epsilon());
  std::vector<float> tiny = { -88.0f, -100.0f, -1e30f };
  itk::diffusion::detail::ExponentiateShifted(tiny.data(), 3, 0.0f);
  for (const float value : tiny)
  {
    EXPECT_NEAR(value, std::exp(-87.3), 1e-3 * std::exp(-87.3));
  }
}

TEST(AttentionProduct, FusedOnTheCpuInFp32AndTheOneProductOtherwise)
{
  torch::manual_seed(14);
  const auto inputs = RandomInputs({ 2, 30, 30, 8 }, 1.0);
  EXPECT_TRUE(itk::diffusion::FusedAttentionApplies(inputs.q, inputs.k, inputs.v));
  EXPECT_TRUE(torch::equal(itk::diffusion::Attend(inputs.q, inputs.k, inputs.v, 0.4),
                           itk::diffusion::AttendFused(inputs.q, inputs.k, inputs.v, 0.4)));
  const auto q = inputs.q.to(torch::kFloat64);
  const auto k = inputs.k.to(torch::kFloat64);
  const auto v = inputs.v.to(torch::kFloat64);
  EXPECT_FALSE(itk::diffusion::FusedAttentionApplies(q, k, v));
  EXPECT_TRUE(torch::equal(itk::diffusion::Attend(q, k, v, 0.4), itk::diffusion::AttendInOneProduct(q, k, v, 0.4)));
  // Mismatched keys and values are not the kernel's.
  EXPECT_FALSE(itk::diffusion::FusedAttentionApplies(inputs.q, inputs.k, inputs.v.narrow(1, 0, 29)));
  EXPECT_THROW(itk::diffusion::AttendFused(q, k, v, 0.4), c10::Error);
}

TEST(AttentionProduct, QuerySlicesAgreeWithTheOneProduct)
{
  // 4 pairs over 72 x 72 pixels: 107 M scores, above the 32 M of one slice, so four query slices,
  // the last one shorter.
  torch::manual_seed(3);
  const auto         inputs = RandomInputs({ 4, 72 * 72, 72 * 72, 8 }, 1.0);
  torch::NoGradGuard noGrad;
  const auto         sliced = itk::diffusion::AttendInQuerySlices(inputs.q, inputs.k, inputs.v, 0.35);
  const auto         oneShot = itk::diffusion::AttendInOneProduct(inputs.q, inputs.k, inputs.v, 0.35);
  EXPECT_LE(MaxDifference(sliced, oneShot), 1e-5);
  EXPECT_GT(oneShot.abs().max().item<double>(), 1e-2);
}
