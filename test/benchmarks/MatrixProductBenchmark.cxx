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

// MatrixOperations::Multiply (BLAS dgemm) against the loop FeatureFidelity used before it (kept here as
// the reference, i-k-j order so its inner loop runs along rows), on square matrices up to the
// ResNet-50 feature count (2,048), and the Fréchet distance at that size, where two such products
// and two eigen-decompositions are the cost. Run by hand:
//   build/test/benchmarks/MatrixProductBenchmark --benchmark_counters_tabular=true

#include "itkMatrixOperations.h"
#include "itkFeatureFidelity.h"

#include <benchmark/benchmark.h>

#include <random>

namespace
{
itk::Array2D<double>
RandomMatrix(std::size_t rows, std::size_t columns, unsigned int seed)
{
  std::mt19937                     generator(seed);
  std::normal_distribution<double> normal;
  itk::Array2D<double>             m(static_cast<unsigned int>(rows), static_cast<unsigned int>(columns));
  for (double & v : m)
  {
    v = normal(generator);
  }
  return m;
}

/** The product as FeatureFidelity computed it before MatrixOperations::Multiply. */
itk::Array2D<double>
LoopProduct(const itk::Array2D<double> & a, const itk::Array2D<double> & b)
{
  auto product = itk::MatrixOperations::Zeros(a.rows(), b.cols());
  for (std::size_t i = 0; i < a.rows(); ++i)
  {
    double * out = product[static_cast<unsigned int>(i)];
    for (std::size_t k = 0; k < a.cols(); ++k)
    {
      const double   factor = a(i, k);
      const double * row = b[static_cast<unsigned int>(k)];
      for (std::size_t j = 0; j < b.cols(); ++j)
      {
        out[j] += factor * row[j];
      }
    }
  }
  return product;
}

void
BM_LoopProduct(benchmark::State & state)
{
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto a = RandomMatrix(n, n, 1);
  const auto b = RandomMatrix(n, n, 2);
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(LoopProduct(a, b).data_block());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
    2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
}

void
BM_MatrixOperationsMultiply(benchmark::State & state)
{
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto a = RandomMatrix(n, n, 1);
  const auto b = RandomMatrix(n, n, 2);
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(itk::MatrixOperations::Multiply(a, b).data_block());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
    2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
}

/** 512 real and 512 synthetic feature vectors of 2,048 features, as the pipeline's fidelity step. */
void
BM_FrechetDistance2048(benchmark::State & state)
{
  const auto real = RandomMatrix(512, 2048, 3);
  const auto synthetic = RandomMatrix(512, 2048, 4);
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(itk::FeatureStatistics::FrechetDistance(real, synthetic));
  }
}
} // namespace

BENCHMARK(BM_LoopProduct)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatrixOperationsMultiply)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FrechetDistance2048)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_MAIN();
