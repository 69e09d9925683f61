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

// Throughput of StainNormalizeFilter (Macenko) in megapixels per second: estimate + apply, and
// apply only (source parameters given), at 256^2, 1024^2 and 4096^2, with ITK's default threads
// (all cores) and with one thread. run_stain_benchmark.sh times the numpy reference on the same
// images in the same run and prints the ratios.
//
//   StainNormalizeBenchmark --write-images DIR   writes the images (raw RGB) for the numpy script
//   StainNormalizeBenchmark [google benchmark flags]

#include "itkMultiThreaderBase.h"
#include "itkRGBPixel.h"
#include "itkStainNormalizeFilter.h"
#include "itkSyntheticStainedTissue.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <map>

namespace
{
using ImageType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
using FilterType = itk::StainNormalizeFilter<ImageType>;

constexpr unsigned int TargetWidth = 1000;
constexpr unsigned int TargetHeight = 1000;

/** Synthetic H&E (each size its own seed), cached: generating 4096^2 takes a while. */
const std::vector<unsigned char> &
Tissue(unsigned int width, unsigned int height, std::uint32_t seed, bool target)
{
  static std::map<std::tuple<unsigned int, unsigned int, bool>, std::vector<unsigned char>> cache;
  auto & entry = cache[{ width, height, target }];
  if (entry.empty())
  {
    const auto field = itk::SyntheticStainField::Generate(width, height, seed);
    entry = itk::SyntheticStainField::Render(field,
                                             target ? itk::SyntheticStainField::TypicalHEStainMatrix()
                                                    : itk::SyntheticStainField::AlternativeHEStainMatrix());
  }
  return entry;
}

ImageType::Pointer
ToImage(const std::vector<unsigned char> & rgb, unsigned int width, unsigned int height)
{
  auto image = ImageType::New();
  image->SetRegions(ImageType::RegionType({ { 0, 0 } }, { { width, height } }));
  image->Allocate();
  std::memcpy(image->GetBufferPointer(), rgb.data(), rgb.size());
  return image;
}

const itk::StainParameters &
TargetParameters()
{
  static const auto parameters = *itk::StainAnalysis::Estimate(Tissue(TargetWidth, TargetHeight, 7, true).data(),
                                                               TargetWidth * TargetHeight,
                                                               3,
                                                               itk::StainNormalizationMethod::Macenko);
  return parameters;
}

void
Run(benchmark::State & state, bool estimate, bool oneThread)
{
  const auto size = static_cast<unsigned int>(state.range(0));
  const auto input = ToImage(Tissue(size, size, size, false), size, size);
  auto       filter = FilterType::New();
  const auto allThreads = itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
  filter->SetInput(input);
  filter->SetTargetParameters(TargetParameters());
  if (oneThread)
  {
    filter->SetNumberOfWorkUnits(1);
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1); // estimation uses the global pool
  }
  if (!estimate)
  {
    filter->SetSourceParameters(*itk::StainAnalysis::Estimate(
      Tissue(size, size, size, false).data(), std::size_t{ size } * size, 3, itk::StainNormalizationMethod::Macenko));
  }
  for (auto _ : state)
  {
    filter->Modified();
    filter->Update();
    benchmark::DoNotOptimize(filter->GetOutput()->GetBufferPointer());
  }
  if (oneThread)
  {
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(allThreads);
  }
  const double megapixels = double(size) * size / 1e6;
  state.counters["Mpx_per_s"] = benchmark::Counter(megapixels, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = oneThread ? 1 : allThreads;
}

void
BM_StainEstimateApply(benchmark::State & state)
{
  Run(state, true, false);
}
void
BM_StainApplyOnly(benchmark::State & state)
{
  Run(state, false, false);
}
void
BM_StainEstimateApplyOneThread(benchmark::State & state)
{
  Run(state, true, true);
}
void
BM_StainApplyOnlyOneThread(benchmark::State & state)
{
  Run(state, false, true);
}

BENCHMARK(BM_StainEstimateApply)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StainApplyOnly)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StainEstimateApplyOneThread)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StainApplyOnlyOneThread)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

/** Raw RGB files for macenko_numpy.py: tile_<N>.rgb and target_<W>x<H>.rgb. */
int
WriteImages(const std::string & folder)
{
  const auto write = [&](const std::string & name, const std::vector<unsigned char> & bytes) {
    std::ofstream(folder + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  };
  write("target_" + std::to_string(TargetWidth) + "x" + std::to_string(TargetHeight) + ".rgb",
        Tissue(TargetWidth, TargetHeight, 7, true));
  for (unsigned int size : { 256u, 1024u, 4096u })
  {
    write("tile_" + std::to_string(size) + ".rgb", Tissue(size, size, size, false));
  }
  return 0;
}

} // namespace

int
main(int argc, char ** argv)
{
  if (argc == 3 && std::strcmp(argv[1], "--write-images") == 0)
  {
    return WriteImages(argv[2]);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
