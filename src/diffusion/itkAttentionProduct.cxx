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
#include "itkAttentionProduct.h"

#include "itkFusedAttention.h"

#include <algorithm>

namespace itk
{
namespace diffusion
{
namespace
{
constexpr std::int64_t MaximumAttentionScores = std::int64_t{ 32 } * 1024 * 1024;
} // namespace

torch::Tensor
Attend(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale)
{
  if (FusedAttentionApplies(q, k, v))
  {
    return AttendFused(q, k, v, scale);
  }
  if (!torch::GradMode::is_enabled() && q.size(0) * q.size(1) * k.size(1) > MaximumAttentionScores)
  {
    return AttendInQuerySlices(q, k, v, scale);
  }
  return AttendInOneProduct(q, k, v, scale);
}

torch::Tensor
AttendInOneProduct(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale)
{
  // The scale is folded into the product (beta = 0 ignores the uninitialised input).
  auto scores = torch::baddbmm(torch::empty({ q.size(0), q.size(1), k.size(1) }, q.options().dtype(torch::kFloat32)),
                               q.to(torch::kFloat32),
                               k.to(torch::kFloat32).transpose(1, 2),
                               0.0,
                               scale);
  return torch::bmm(torch::softmax(scores, -1).to(v.scalar_type()), v);
}

torch::Tensor
AttendInQuerySlices(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale)
{
  const auto pairs = q.size(0);
  const auto queries = q.size(1);
  const auto keys = k.size(1);
  const auto rows = std::max<std::int64_t>(1, MaximumAttentionScores / (pairs * keys));
  const auto keysTransposed = k.to(torch::kFloat32).transpose(1, 2);
  const auto queriesFp32 = q.to(torch::kFloat32);
  auto       scores = torch::empty({ pairs, std::min(rows, queries), keys }, queriesFp32.options());
  auto       weights = torch::empty_like(scores);
  auto       out = torch::empty({ pairs, queries, v.size(2) }, v.options());
  for (std::int64_t first = 0; first < queries; first += rows)
  {
    const auto count = std::min(rows, queries - first);
    // The last, shorter slice gets buffers of its own: the products write contiguous outputs.
    auto sliceScores = count == scores.size(1) ? scores : torch::empty({ pairs, count, keys }, scores.options());
    auto sliceWeights = count == scores.size(1) ? weights : torch::empty_like(sliceScores);
    at::baddbmm_out(sliceScores, sliceScores, queriesFp32.narrow(1, first, count), keysTransposed, 0.0, scale);
    at::_softmax_out(sliceWeights, sliceScores, 2, false);
    out.narrow(1, first, count).copy_(torch::bmm(sliceWeights.to(v.scalar_type()), v));
  }
  return out;
}

} // namespace diffusion
} // namespace itk
