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

// Patches per second cut at spots: from a JPEG-tiled pyramidal TIFF through OpenSlide, and from the
// her2st-C2 JPEG (held in memory by ITK). The reference, in the same run, is OpenSlide reading the
// same 224 x 224 regions one after another with no resampling: the I/O floor of one thread.
//
//   PatchExtractionBenchmark --slide TILED.tif --spots OUTS_DIR [--jpeg JPEG --jpeg-spots DIR]
//                            [google benchmark flags]
// run_patch_benchmark.sh makes the tiled TIFF from the synthetic slide with vips.

#include "itkSpatialDataReader.h"
#include "itkSpotPatchExtractor.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>

namespace
{
std::string g_Slide, g_Spots, g_Jpeg, g_JpegSpots;

struct Loaded
{
  itk::SlideReader::Pointer           Slide;
  itk::SpatialExpressionData::Pointer Spots;
};

Loaded
Load(const std::string & slidePath, const std::string & spotsPath, double pixelSize)
{
  Loaded loaded{ itk::SlideReader::New(), itk::SpatialDataReader::Read(spotsPath) };
  loaded.Slide->Open(slidePath);
  loaded.Slide->SetPixelSize(pixelSize > 0.0 ? pixelSize : loaded.Spots->GetPixelSize());
  return loaded;
}

void
ReportPatches(benchmark::State & state, std::size_t patches)
{
  state.counters["patches_per_s"] =
    benchmark::Counter(static_cast<double>(patches), benchmark::Counter::kIsIterationInvariantRate);
}

/** The whole extraction (parallel, antialiased resampling) at 0.5 um/px, or 1 um/px (range 1). */
void
BM_ExtractTiledTIFF(benchmark::State & state)
{
  static const auto            loaded = Load(g_Slide, g_Spots, 0.0);
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = state.range(0) == 1 ? 224.0 : 112.0;
  std::size_t patches = 0;
  for (auto _ : state)
  {
    const auto result = itk::SpotPatchExtractor::Extract(*loaded.Slide, *loaded.Spots, settings);
    patches = result.SpotIndices.size();
    benchmark::DoNotOptimize(result.Patches->GetBufferPointer());
  }
  ReportPatches(state, patches);
}

/** Reference: OpenSlide reads of each spot's 224 x 224 region at level 0, one thread, no resampling. */
void
BM_RawOpenSlideRegions(benchmark::State & state)
{
  static const auto          loaded = Load(g_Slide, g_Spots, 0.0);
  std::vector<unsigned char> buffer(3 * 224 * 224);
  for (auto _ : state)
  {
    for (const auto & xy : loaded.Spots->GetPixelPositions())
    {
      loaded.Slide->ReadRegion(0, std::int64_t(xy[0]) - 112, std::int64_t(xy[1]) - 112, 224, 224, buffer.data());
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  ReportPatches(state, loaded.Spots->GetNumberOfSpots());
}

/** her2st-C2: 187 spots from the 92-Mpx JPEG (0.69 um/px) resampled to 0.5 um/px. */
void
BM_ExtractHer2stJPEG(benchmark::State & state)
{
  if (g_Jpeg.empty())
  {
    state.SkipWithError("no --jpeg given");
    return;
  }
  static const auto loaded = Load(g_Jpeg, g_JpegSpots, 0.69);
  std::size_t       patches = 0;
  for (auto _ : state)
  {
    const auto result = itk::SpotPatchExtractor::Extract(*loaded.Slide, *loaded.Spots);
    patches = result.SpotIndices.size();
    benchmark::DoNotOptimize(result.Patches->GetBufferPointer());
  }
  ReportPatches(state, patches);
}

BENCHMARK(BM_ExtractTiledTIFF)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RawOpenSlideRegions)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ExtractHer2stJPEG)->Unit(benchmark::kMillisecond)->UseRealTime();
} // namespace

int
main(int argc, char ** argv)
{
  std::vector<char *> rest{ argv[0] };
  for (int i = 1; i < argc; ++i)
  {
    const auto take = [&](const char * name, std::string & value) {
      if (std::strcmp(argv[i], name) == 0 && i + 1 < argc)
      {
        value = argv[++i];
        return true;
      }
      return false;
    };
    if (!take("--slide", g_Slide) && !take("--spots", g_Spots) && !take("--jpeg", g_Jpeg) &&
        !take("--jpeg-spots", g_JpegSpots))
    {
      rest.push_back(argv[i]);
    }
  }
  if (g_Slide.empty() || g_Spots.empty())
  {
    std::cerr << "usage: " << argv[0] << " --slide TILED.tif --spots OUTS [--jpeg JPEG --jpeg-spots DIR]" << std::endl;
    return 1;
  }
  int count = static_cast<int>(rest.size());
  benchmark::Initialize(&count, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
