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
#include "itkFusedAttention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

namespace itk
{
namespace diffusion
{
namespace
{
using Index = std::int64_t;

// Register block of MultiplyAdd: 4 rows x 8 columns of accumulators (eight SSE registers, four AVX).
constexpr int BlockRows = 4;
constexpr int BlockColumns = 8;
// Scores of one block of query rows, per thread: small enough for the L2 cache with the keys.
constexpr Index BlockScores = 16 * 1024;

/** A strided view of a matrix: element (i, t) at data[i * row + t * column]. */
struct Strided
{
  const float * data;
  Index         row;
  Index         column;
};

// The hot loops are compiled twice on x86-64 Linux with GCC, for x86-64's baseline (SSE2) and for
// AVX2 (Intel since 2013, AMD since 2015), the C library choosing one as the program starts (function
// multiversioning): Debian builds for the baseline, which would leave the wider registers unused.
// The kernel needs GCC or Clang (vector types); other compilers would need another Float8.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#  define ITK_FUSED_ATTENTION_CLONES __attribute__((target_clones("avx2", "default")))
#else
#  define ITK_FUSED_ATTENTION_CLONES
#endif

// Eight floats, as GCC and Clang vector types: two SSE registers on x86-64's baseline, one AVX one.
typedef float Float8 __attribute__((vector_size(8 * sizeof(float))));

// Unaligned loads and stores; by reference, since a vector-returning function would have two ABIs.
inline __attribute__((always_inline)) void
Load(Float8 & v, const float * x)
{
  std::memcpy(&v, x, sizeof(v));
}

inline __attribute__((always_inline)) void
Store(float * x, const Float8 & v)
{
  std::memcpy(x, &v, sizeof(v));
}

/** c(i, j) = (accumulate ? c(i, j) : 0) + alpha * sum_t a(i, t) b(t, j) for the R rows of a block;
 * b and c row-major with leading dimensions ldb and ldc. The block's R x 8 results stay in registers
 * over the whole inner dimension. */
template <int R>
inline __attribute__((always_inline)) void
MultiplyRowBlock(Index inner, Index columns, float alpha, Strided a, const float * b, Index ldb, float * c, Index ldc,
                 bool accumulate)
{
  Index j = 0;
  for (; j + BlockColumns <= columns; j += BlockColumns)
  {
    Float8 sum[R] = {};
    for (Index t = 0; t < inner; ++t)
    {
      Float8 bt;
      Load(bt, b + t * ldb + j);
      for (int r = 0; r < R; ++r)
      {
        sum[r] += a.data[r * a.row + t * a.column] * bt;
      }
    }
    for (int r = 0; r < R; ++r)
    {
      float * cr = c + r * ldc + j;
      Float8  result = alpha * sum[r];
      if (accumulate)
      {
        Float8 previous;
        Load(previous, cr);
        result += previous;
      }
      Store(cr, result);
    }
  }
  for (; j < columns; ++j)
  {
    float sum[R] = {};
    for (Index t = 0; t < inner; ++t)
    {
      for (int r = 0; r < R; ++r)
      {
        sum[r] += a.data[r * a.row + t * a.column] * b[t * ldb + j];
      }
    }
    for (int r = 0; r < R; ++r)
    {
      c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.0f) + alpha * sum[r];
    }
  }
}

/** c = (accumulate ? c : 0) + alpha * a b for a (rows x inner, strided), b (inner x columns, row-major,
 * leading dimension ldb) and c (rows x columns, row-major, ldc): a small single-threaded product whose
 * operands stay in the cache, so no BLAS call (and no BLAS threads inside LibTorch's). */
ITK_FUSED_ATTENTION_CLONES void
MultiplyAdd(Index rows, Index inner, Index columns, float alpha, Strided a, const float * b, Index ldb, float * c,
            Index ldc, bool accumulate)
{
  Index i = 0;
  for (; i + BlockRows <= rows; i += BlockRows)
  {
    const Strided block{ a.data + i * a.row, a.row, a.column };
    MultiplyRowBlock<BlockRows>(inner, columns, alpha, block, b, ldb, c + i * ldc, ldc, accumulate);
  }
  for (; i < rows; ++i)
  {
    const Strided row{ a.data + i * a.row, a.row, a.column };
    MultiplyRowBlock<1>(inner, columns, alpha, row, b, ldb, c + i * ldc, ldc, accumulate);
  }
}

// Reductions with eight partial results, so that they vectorise without reassociating float sums
// (which compilers do not do on their own).
ITK_FUSED_ATTENTION_CLONES float
Maximum(const float * x, Index count)
{
  float partial[8];
  std::fill(partial, partial + 8, -std::numeric_limits<float>::infinity());
  Index i = 0;
  for (; i + 8 <= count; i += 8)
  {
    for (int u = 0; u < 8; ++u)
    {
      partial[u] = std::max(partial[u], x[i + u]);
    }
  }
  for (; i < count; ++i)
  {
    partial[0] = std::max(partial[0], x[i]);
  }
  return *std::max_element(partial, partial + 8);
}

ITK_FUSED_ATTENTION_CLONES float
Sum(const float * x, Index count)
{
  float partial[8] = {};
  Index i = 0;
  for (; i + 8 <= count; i += 8)
  {
    for (int u = 0; u < 8; ++u)
    {
      partial[u] += x[i + u];
    }
  }
  for (; i < count; ++i)
  {
    partial[0] += x[i];
  }
  return ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
         ((partial[2] + partial[6]) + (partial[3] + partial[7]));
}

/** Query rows per block: their scores fill BlockScores floats, in whole register blocks. */
Index
RowsPerBlock(Index queries, Index keys)
{
  const Index rows = std::max<Index>(BlockRows, (BlockScores / std::max<Index>(keys, 1)) / BlockRows * BlockRows);
  return std::min(rows, queries);
}

struct Problem
{
  Index pairs;
  Index queries;
  Index keys;
  Index dim;
  float scale;
};

Problem
ProblemOf(const torch::Tensor & q, const torch::Tensor & k, double scale)
{
  return { q.size(0), q.size(1), k.size(1), q.size(2), static_cast<float>(scale) };
}

/** scores(r, j) = scale * q(first + r) . k(j) for a block of rows of one pair: qBlock the block's rows,
 * pairKT the pair's keys transposed ([d, M]), scores [rows, M]. */
void
ScaledScores(const Problem & p, Index rows, const float * qBlock, const float * pairKT, float * scores)
{
  MultiplyAdd(rows, p.dim, p.keys, p.scale, { qBlock, p.dim, 1 }, pairKT, p.keys, scores, p.keys, false);
}

/** out = softmax(q k^T * scale) v and each query row's log-sum-exp of its scaled scores. q, kT
 * ([P, d, M], the keys transposed) and v contiguous. */
std::pair<torch::Tensor, torch::Tensor>
ForwardKernel(const torch::Tensor & q, const torch::Tensor & kT, const torch::Tensor & v, const Problem & p)
{
  auto          out = torch::empty({ p.pairs, p.queries, p.dim }, q.options());
  auto          logSumExp = torch::empty({ p.pairs, p.queries }, q.options());
  const Index   rowsPerBlock = RowsPerBlock(p.queries, p.keys);
  const Index   blocksPerPair = (p.queries + rowsPerBlock - 1) / rowsPerBlock;
  const float * qData = q.data_ptr<float>();
  const float * kTData = kT.data_ptr<float>();
  const float * vData = v.data_ptr<float>();
  float *       outData = out.data_ptr<float>();
  float *       lseData = logSumExp.data_ptr<float>();
  at::parallel_for(0, p.pairs * blocksPerPair, 1, [&](Index begin, Index end) {
    std::vector<float> scores(rowsPerBlock * p.keys);
    std::vector<float> inverseSums(rowsPerBlock);
    for (Index unit = begin; unit < end; ++unit)
    {
      const Index   pair = unit / blocksPerPair;
      const Index   first = (unit % blocksPerPair) * rowsPerBlock;
      const Index   rows = std::min(rowsPerBlock, p.queries - first);
      const Index   row0 = pair * p.queries + first;
      const float * qBlock = qData + row0 * p.dim;
      ScaledScores(p, rows, qBlock, kTData + pair * p.dim * p.keys, scores.data());
      for (Index r = 0; r < rows; ++r)
      {
        float *     row = scores.data() + r * p.keys;
        const float shift = Maximum(row, p.keys);
        detail::ExponentiateShifted(row, p.keys, shift);
        const float sum = Sum(row, p.keys);
        inverseSums[r] = 1.0f / sum;
        lseData[row0 + r] = shift + std::log(sum);
      }
      float * outBlock = outData + row0 * p.dim;
      MultiplyAdd(rows,
                  p.keys,
                  p.dim,
                  1.0f,
                  { scores.data(), p.keys, 1 },
                  vData + pair * p.keys * p.dim,
                  p.dim,
                  outBlock,
                  p.dim,
                  false);
      for (Index r = 0; r < rows; ++r)
      {
        for (Index d = 0; d < p.dim; ++d)
        {
          outBlock[r * p.dim + d] *= inverseSums[r];
        }
      }
    }
  });
  return { out, logSumExp };
}

struct Gradients
{
  torch::Tensor q;
  torch::Tensor k;
  torch::Tensor v;
};

/** What the forward pass keeps for the backward pass: its contiguous inputs, the keys transposed
 * ([P, d, M], as the scores read them), its output and the rows' log-sum-exp. */
struct ForwardState
{
  torch::Tensor q;
  torch::Tensor k;
  torch::Tensor kT;
  torch::Tensor v;
  torch::Tensor out;
  torch::Tensor logSumExp;
};

/** The gradients of AttendFused, the probabilities recomputed from the saved log-sum-exp one block of
 * query rows at a time: with S = q k^T * scale and P = softmax(S), dV = P^T dO, dP = dO v^T,
 * dS = P (dP - rowsum(dO out)), dq = dS k * scale, dk = dS^T q * scale. One thread per pair, which
 * accumulates that pair's dk and dv (transposed, [d, M]) over its blocks. */
Gradients
BackwardKernel(const ForwardState & forward, const torch::Tensor & gradOut, const Problem & p)
{
  const auto &  q = forward.q;
  const auto    vT = forward.v.transpose(1, 2).contiguous();
  const auto    delta = (gradOut * forward.out).sum(-1).contiguous();
  auto          dq = torch::empty_like(q);
  auto          dkT = torch::zeros({ p.pairs, p.dim, p.keys }, q.options());
  auto          dvT = torch::zeros({ p.pairs, p.dim, p.keys }, q.options());
  const Index   rowsPerBlock = RowsPerBlock(p.queries, p.keys);
  const float * qData = q.data_ptr<float>();
  const float * kData = forward.k.data_ptr<float>();
  const float * kTData = forward.kT.data_ptr<float>();
  const float * vTData = vT.data_ptr<float>();
  const float * lseData = forward.logSumExp.data_ptr<float>();
  const float * deltaData = delta.data_ptr<float>();
  const float * gradOutData = gradOut.data_ptr<float>();
  float *       dqData = dq.data_ptr<float>();
  float *       dkTData = dkT.data_ptr<float>();
  float *       dvTData = dvT.data_ptr<float>();
  at::parallel_for(0, p.pairs, 1, [&](Index begin, Index end) {
    std::vector<float> probabilities(rowsPerBlock * p.keys);
    std::vector<float> scoreGradients(rowsPerBlock * p.keys);
    for (Index pair = begin; pair < end; ++pair)
    {
      const float * pairKT = kTData + pair * p.dim * p.keys;
      for (Index first = 0; first < p.queries; first += rowsPerBlock)
      {
        const Index   rows = std::min(rowsPerBlock, p.queries - first);
        const Index   row0 = pair * p.queries + first;
        const float * qBlock = qData + row0 * p.dim;
        const float * gradOutBlock = gradOutData + row0 * p.dim;
        float *       P = probabilities.data();
        float *       dS = scoreGradients.data();
        ScaledScores(p, rows, qBlock, pairKT, P);
        for (Index r = 0; r < rows; ++r)
        {
          detail::ExponentiateShifted(P + r * p.keys, p.keys, lseData[row0 + r]);
        }
        MultiplyAdd(rows,
                    p.dim,
                    p.keys,
                    1.0f,
                    { gradOutBlock, p.dim, 1 },
                    vTData + pair * p.dim * p.keys,
                    p.keys,
                    dS,
                    p.keys,
                    false);
        for (Index r = 0; r < rows; ++r)
        {
          const float rowDelta = deltaData[row0 + r];
          for (Index j = 0; j < p.keys; ++j)
          {
            dS[r * p.keys + j] = P[r * p.keys + j] * (dS[r * p.keys + j] - rowDelta);
          }
        }
        // dv^T += dO^T P and dk^T += q^T dS * scale: the block's transposed rows as the left factor.
        MultiplyAdd(p.dim,
                    rows,
                    p.keys,
                    1.0f,
                    { gradOutBlock, 1, p.dim },
                    P,
                    p.keys,
                    dvTData + pair * p.dim * p.keys,
                    p.keys,
                    true);
        MultiplyAdd(p.dim,
                    rows,
                    p.keys,
                    p.scale,
                    { qBlock, 1, p.dim },
                    dS,
                    p.keys,
                    dkTData + pair * p.dim * p.keys,
                    p.keys,
                    true);
        MultiplyAdd(rows,
                    p.keys,
                    p.dim,
                    p.scale,
                    { dS, p.keys, 1 },
                    kData + pair * p.keys * p.dim,
                    p.dim,
                    dqData + row0 * p.dim,
                    p.dim,
                    false);
      }
    }
  });
  return { dq, dkT.transpose(1, 2), dvT.transpose(1, 2) };
}

class FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction>
{
public:
  static torch::Tensor
  forward(torch::autograd::AutogradContext * context, const torch::Tensor & q, const torch::Tensor & k,
          const torch::Tensor & v, double scale)
  {
    ForwardState state{ q.contiguous(), k.contiguous(), {}, v.contiguous(), {}, {} };
    state.kT = state.k.transpose(1, 2).contiguous();
    std::tie(state.out, state.logSumExp) =
      ForwardKernel(state.q, state.kT, state.v, ProblemOf(state.q, state.k, scale));
    context->save_for_backward({ state.q, state.k, state.kT, state.v, state.out, state.logSumExp });
    context->saved_data["scale"] = scale;
    return state.out;
  }

  static torch::autograd::tensor_list
  backward(torch::autograd::AutogradContext * context, torch::autograd::tensor_list gradOutputs)
  {
    // The kernel's gradients are plain numbers, not a graph: a second derivative would silently be zero.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "AttendFused has no second derivative: compute it with create_graph=false, or use the composite "
                "attention product");
    const auto         saved = context->get_saved_variables();
    const ForwardState forward{ saved[0], saved[1], saved[2], saved[3], saved[4], saved[5] };
    const auto         scale = context->saved_data["scale"].toDouble();
    const auto gradients = BackwardKernel(forward, gradOutputs[0].contiguous(), ProblemOf(forward.q, forward.k, scale));
    return { gradients.q, gradients.k, gradients.v, torch::Tensor() };
  }
};
} // namespace

namespace detail
{
ITK_FUSED_ATTENTION_CLONES void
ExponentiateShifted(float * x, std::int64_t count, float shift)
{
  // exp(y) = 2^n exp(r) with n = round(y log2(e)) and r = y - n ln(2) in [-ln(2)/2, ln(2)/2]; exp(r)
  // from Cephes' degree-7 polynomial, ln(2) split in two so that r keeps its low bits. Below -87.3
  // the result stays at exp(-87.3) = 1.2e-38, about the smallest normal float, rather than reaching
  // denormals. Branch-free and without library calls, so that the loop vectorises: adding and
  // subtracting 1.5 x 2^23 rounds to the nearest integer. A NaN stays NaN (the comparisons are
  // false for it), as in torch::softmax, and is not converted to an integer.
  constexpr float roundingShift = 12582912.0f;
  for (std::int64_t i = 0; i < count; ++i)
  {
    const float difference = x[i] - shift;
    const float y = difference < -87.3f ? -87.3f : difference;
    const float n = (y * 1.44269504088896341f + roundingShift) - roundingShift;
    const float r = (y - n * 0.693359375f) + n * 2.12194440e-4f;
    float       poly = 1.9875691500e-4f;
    poly = poly * r + 1.3981999507e-3f;
    poly = poly * r + 8.3334519073e-3f;
    poly = poly * r + 4.1665795894e-2f;
    poly = poly * r + 1.6666665459e-1f;
    poly = poly * r + 5.0000001201e-1f;
    const float   expR = poly * r * r + r + 1.0f;
    const float   exponent = n == n ? n : 0.0f;
    const int32_t bits = (static_cast<int32_t>(exponent) + 127) * (1 << 23);
    float         twoToN;
    std::memcpy(&twoToN, &bits, sizeof(twoToN));
    x[i] = expR * twoToN;
  }
}
} // namespace detail

bool
FusedAttentionApplies(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v)
{
  const auto fp32OnCpu = [](const torch::Tensor & t) {
    return t.dim() == 3 && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.layout() == torch::kStrided;
  };
  return fp32OnCpu(q) && fp32OnCpu(k) && fp32OnCpu(v) && k.size(0) == q.size(0) && v.size(0) == q.size(0) &&
         k.size(2) == q.size(2) && v.size(2) == q.size(2) && v.size(1) == k.size(1) && k.size(1) > 0;
}

torch::Tensor
AttendFused(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v, double scale)
{
  TORCH_CHECK(FusedAttentionApplies(q, k, v),
              "AttendFused takes fp32 CPU tensors [P, N, d], [P, M, d], [P, M, d]; got ",
              q.sizes(),
              ", ",
              k.sizes(),
              ", ",
              v.sizes());
  return FusedAttentionFunction::apply(q, k, v, scale);
}

} // namespace diffusion
} // namespace itk
