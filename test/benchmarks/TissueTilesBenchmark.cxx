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

// Tissue tiles of a real slide: TissueTileExtractor (tissue measured on small cuts, a chunk at a
// time, then only the chosen tiles cut at full size) against what it did before, kept here as the
// reference: every grid tile cut at full size, then measured, then chosen. Same slide, settings
// and seed, one process; prints both times, the patch bytes each holds at its peak, and how many
// chosen tiles the two share.
//   TissueTilesBenchmark SLIDE PIXEL_SIZE_UM [TILE_UM=112] [TILE_PX=224] [MAX_TILES=2000]

#include "itkSlideReader.h"
#include "itkTimeProbe.h"
#include "itkTissueTileExtractor.h"

#include <algorithm>
#include <iostream>
#include <random>
#include <set>

namespace
{
/** The former tissue tiles (whole-grid part only: no hold-out). */
itk::SpotPatchDataset::Pointer
CutEverythingThenChoose(const itk::SlideReader & slide, const itk::TissueTileSettings & settings,
                        std::size_t & gridTiles)
{
  const auto               dimensions = slide.GetLevelDimensions(0);
  const double             side = settings.Extraction.PatchSizeMicrometres / slide.GetPixelSize();
  std::vector<std::string> ids;
  std::vector<itk::SpatialExpressionData::PositionType> positions;
  for (double y = side / 2; y + side / 2 <= dimensions[1]; y += side)
  {
    for (double x = side / 2; x + side / 2 <= dimensions[0]; x += side)
    {
      ids.push_back("tile-" + std::to_string(static_cast<long>(x)) + "-" + std::to_string(static_cast<long>(y)));
      positions.push_back({ x, y });
    }
  }
  gridTiles = ids.size();
  auto grid = itk::SpatialExpressionData::New();
  grid->SetSpots(ids, positions);
  grid->SetPixelSize(slide.GetPixelSize());
  auto extraction = settings.Extraction;
  extraction.SkipPartialPatches = true;
  const auto all =
    itk::SpotPatchDataset::FromExtraction(itk::SpotPatchExtractor::Extract(slide, *grid, extraction), *grid, "slide");
  const auto               size = all->GetPatches()->GetLargestPossibleRegion().GetSize();
  const std::size_t        pixels = size[0] * size[1];
  std::vector<std::size_t> kept;
  for (std::size_t k = 0; k < size[2]; ++k)
  {
    if (itk::TissueTileExtractor::TissueFraction(all->GetPatches()->GetBufferPointer() + k * pixels, pixels) >=
        settings.MinimumTissueFraction)
    {
      kept.push_back(k);
    }
  }
  std::mt19937      generator(settings.Seed);
  const std::size_t count = std::min<std::size_t>(settings.MaximumTiles, kept.size());
  for (std::size_t i = 0; i < count; ++i)
  {
    const std::size_t j = i + static_cast<std::size_t>((generator() + 0.5) / 4294967296.0 * (kept.size() - i));
    std::swap(kept[i], kept[j]);
  }
  kept.resize(count);
  std::sort(kept.begin(), kept.end());
  return all->Select(kept);
}

std::set<std::string>
IdsOf(const itk::SpotPatchDataset & tiles)
{
  const auto & ids = tiles.GetSpots()->GetSpotIds();
  return { ids.begin(), ids.end() };
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 3)
  {
    std::cerr << "usage: " << argv[0] << " SLIDE PIXEL_SIZE_UM [TILE_UM=112] [TILE_PX=224] [MAX_TILES=2000]\n";
    return 2;
  }
  auto slide = itk::SlideReader::New();
  slide->Open(argv[1]);
  slide->SetPixelSize(std::stod(argv[2]));
  itk::TissueTileSettings settings;
  settings.Extraction.PatchSizeMicrometres = argc > 3 ? std::stod(argv[3]) : 112.0;
  settings.Extraction.PatchSizePixels = argc > 4 ? static_cast<unsigned int>(std::stoul(argv[4])) : 224u;
  settings.MaximumTiles = argc > 5 ? static_cast<unsigned int>(std::stoul(argv[5])) : 2000u;
  const std::size_t tileBytes =
    3 * std::size_t{ settings.Extraction.PatchSizePixels } * settings.Extraction.PatchSizePixels;

  itk::TimeProbe screened;
  screened.Start();
  const auto chosen = itk::TissueTileExtractor::Extract(*slide, settings, argv[1]);
  screened.Stop();

  std::size_t    gridTiles = 0;
  itk::TimeProbe everything;
  everything.Start();
  const auto reference = CutEverythingThenChoose(*slide, settings, gridTiles);
  everything.Stop();

  const auto               a = IdsOf(*chosen);
  const auto               b = IdsOf(*reference);
  std::vector<std::string> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  std::cout << "grid tiles: " << gridTiles << ", chosen: " << chosen->GetNumberOfPatches() << " (reference "
            << reference->GetNumberOfPatches() << "), in common: " << common.size() << "\n"
            << "TissueTileExtractor: " << screened.GetTotal() << " s, patch bytes held at most "
            << chosen->GetNumberOfPatches() * tileBytes +
                 4096 * 3 * itk::TissueTileExtractor::ScreeningPixels * itk::TissueTileExtractor::ScreeningPixels
            << "\n"
            << "cut everything, then choose: " << everything.GetTotal() << " s, patch bytes held at most "
            << gridTiles * tileBytes + reference->GetNumberOfPatches() * tileBytes << "\n"
            << "time ratio: " << everything.GetTotal() / screened.GetTotal() << "x\n";
  return 0;
}
