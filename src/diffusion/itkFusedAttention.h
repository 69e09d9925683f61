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
#ifndef itkFusedAttention_h
#define itkFusedAttention_h

#include <torch/torch.h>

namespace itk
{
namespace diffusion
{

/** True where AttendFused takes the tensors: fp32 on the CPU, [P, N, d] queries and [P, M, d] keys
 * and values (P = batch x heads). */
bool
FusedAttentionApplies(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v);

/** softmax(q k^T * scale) v for each of the P (batch x heads) pairs, differentiable with respect to
 * q, k and v, without ever holding the [P, N, M] scores.
 *
 * Why: diffusers' heads are 8 wide, so the two products of the composite form are thin (inner size
 * 8, or an 8-column result) around a large score tensor that is written, softmaxed, reread and kept
 * for the backward pass; LibTorch 1.13's CPU bmm also multiplies the pairs one after another, each
 * spread thinly over all threads. Here each thread takes whole blocks of query rows of one pair and
 * keeps their scores in its cache: scores, softmax and product in one pass, with the rows' log-sum-exp
 * kept; the backward pass recomputes the probabilities from it (FlashAttention's scheme) rather than
 * storing them. Each row sees the same arithmetic whatever the thread count, so results do not depend
 * on it. Double backward is refused. Requires FusedAttentionApplies. */
torch::Tensor
AttendFused(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale);

namespace detail
{
/** x[i] = exp(x[i] - shift) for x[i] - shift in [-87.3, 88], exp(-87.3) below (the kernel's exponential, exposed for
 * its test): Cephes' single-precision polynomial, written so that compilers vectorise it. */
void
ExponentiateShifted(float * x, std::int64_t count, float shift);
} // namespace detail

} // namespace diffusion
} // namespace itk

#endif
