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
#ifndef itkAttentionProduct_h
#define itkAttentionProduct_h

#include <torch/torch.h>

namespace itk
{
namespace diffusion
{

/** softmax(q k^T * scale) v for each of the P (batch x heads) pairs of [P, N, d] queries and
 * [P, M, d] keys and values, the scores and softmax in fp32 whatever the input type (diffusers'
 * upcast_softmax). Chooses one of the three forms below: fp32 on the CPU, the fused kernel; elsewhere
 * the one product, or query slices where scores without gradients would exceed 32 Mi floats. */
torch::Tensor
Attend(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale);

/** The composite form, as diffusers' AttnProcessor computes it: baddbmm, softmax, bmm. */
torch::Tensor
AttendInOneProduct(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale);

/** The composite form a slice of query rows of all pairs at a time, so that the scores never exceed
 * 32 Mi floats (128 MiB): two 224 px images under guidance would otherwise hold 2 x 32 heads x 3136^2
 * scores (2.5 GB) at once, a batch of 16 images 20 GB. Each row sees the same operations as in the one
 * product. Without gradients only: with autograd every slice would keep its own scores. */
torch::Tensor
AttendInQuerySlices(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale);

} // namespace diffusion
} // namespace itk

#endif
