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

// Times the attention product of diffusion_benchmark.py's U-Net on its own: the fused CPU kernel
// (AttendFused) against the composite form (AttendInOneProduct: baddbmm, softmax, bmm) in the same
// process, without gradients (sampling) and forward + backward (training). Prints one JSON line.
// Usage: AttentionBenchmark PAIRS TOKENS HEAD_DIM REPEATS THREADS

#include "itkAttentionProduct.h"
#include "itkFusedAttention.h"

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>

namespace
{
using Product =
  std::function<torch::Tensor(const torch::Tensor &, const torch::Tensor &, const torch::Tensor &, double)>;

/** Best of the repeats, in seconds (the machine is shared and noisy). */
double
Best(int repeats, const std::function<void()> & work)
{
  work(); // warm-up
  double best = 1e30;
  for (int i = 0; i < repeats; ++i)
  {
    const auto start = std::chrono::steady_clock::now();
    work();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

double
Inference(const Product & product, const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
          double scale, int repeats)
{
  torch::NoGradGuard noGrad;
  return Best(repeats, [&] { product(q, k, v, scale); });
}

double
Training(const Product & product, const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
         double scale, int repeats)
{
  const auto qg = q.clone().requires_grad_(true);
  const auto kg = k.clone().requires_grad_(true);
  const auto vg = v.clone().requires_grad_(true);
  const auto weights = torch::randn_like(q);
  return Best(repeats, [&] {
    (product(qg, kg, vg, scale) * weights).sum().backward();
    qg.mutable_grad().reset();
    kg.mutable_grad().reset();
    vg.mutable_grad().reset();
  });
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc != 6)
  {
    std::cerr << "Usage: " << argv[0] << " PAIRS TOKENS HEAD_DIM REPEATS THREADS" << std::endl;
    return 1;
  }
  const std::int64_t pairs = std::stoll(argv[1]);
  const std::int64_t tokens = std::stoll(argv[2]);
  const std::int64_t dim = std::stoll(argv[3]);
  const int          repeats = std::stoi(argv[4]);
  torch::set_num_threads(std::stoi(argv[5]));
  torch::manual_seed(0);
  const auto   q = torch::randn({ pairs, tokens, dim });
  const auto   k = torch::randn({ pairs, tokens, dim });
  const auto   v = torch::randn({ pairs, tokens, dim });
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
  const auto   fused = Product(itk::diffusion::AttendFused);
  const auto   composite = Product(itk::diffusion::AttendInOneProduct);
  std::cout << "{\"pairs\": " << pairs << ", \"tokens\": " << tokens << ", \"head_dim\": " << dim
            << ", \"threads\": " << torch::get_num_threads()
            << ", \"inference_fused\": " << Inference(fused, q, k, v, scale, repeats)
            << ", \"inference_composite\": " << Inference(composite, q, k, v, scale, repeats)
            << ", \"training_fused\": " << Training(fused, q, k, v, scale, repeats)
            << ", \"training_composite\": " << Training(composite, q, k, v, scale, repeats) << "}" << std::endl;
  return 0;
}
