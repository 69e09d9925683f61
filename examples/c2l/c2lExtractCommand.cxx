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

// c2l extract: a slide and its spots in, the paired (patch, expression) dataset out.

#include "c2lCommands.h"
#include "c2lSteps.h"
#include "c2lImageFiles.h"

#include "itkImageFileReader.h"
#include "itkSpatialDataReaders.h"
#include "itkSpotPatchDataset.h"
#include "itkStainNormalizeFilter.h"
#include "itkTimeProbe.h"

#include <algorithm>
#include <iostream>
#include <random>
#include <memory>

namespace c2l
{
namespace
{

/** The target of --normalize: saved parameters, or the analysis of a reference image. */
itk::StainParameters
NormalizationTarget(const ExtractOptions & o)
{
  if (!o.targetParameters.empty())
  {
    return itk::StainParameters::ReadJSONFile(o.targetParameters);
  }
  if (o.target.empty())
  {
    itkGenericExceptionMacro(<< "--normalize needs --target REF_IMAGE or --target-params P.json");
  }
  RequireColorImage(o.target, "target");
  using ImageType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  const auto reference = itk::ReadImage<ImageType>(o.target);
  const auto estimate =
    itk::EstimateStainParameters(reinterpret_cast<const unsigned char *>(reference->GetBufferPointer()),
                                 reference->GetBufferedRegion().GetNumberOfPixels(),
                                 3,
                                 itk::StainNormalizationMethodFromString(o.normalize));
  if (!estimate)
  {
    itkGenericExceptionMacro(<< "The target " << o.target
                             << " has no tissue; choose a reference that shows stained tissue");
  }
  return *estimate;
}

/** At most \p count names, for messages. */
std::string
FirstOf(const std::vector<std::string> & names, std::size_t count = 5)
{
  std::string listing;
  for (std::size_t i = 0; i < std::min(count, names.size()); ++i)
  {
    listing += (i ? ", " : "") + names[i];
  }
  return names.size() > count ? listing + ", ..." : listing;
}

/** A grid of patch-sized tiles over the whole slide, as spots without genes (level-0 pixels). */
itk::SpatialExpressionData::Pointer
TileGrid(const itk::SlideReader & slide, double patchMicrometres)
{
  const auto                                            dimensions = slide.GetLevelDimensions(0);
  const double                                          side = patchMicrometres / slide.GetPixelSize();
  std::vector<std::string>                              ids;
  std::vector<itk::SpatialExpressionData::PositionType> positions;
  for (double y = side / 2; y + side / 2 <= dimensions[1]; y += side)
  {
    for (double x = side / 2; x + side / 2 <= dimensions[0]; x += side)
    {
      ids.push_back("tile-" + std::to_string(static_cast<long>(x)) + "-" + std::to_string(static_cast<long>(y)));
      positions.push_back({ x, y });
    }
  }
  if (ids.empty())
  {
    itkGenericExceptionMacro(<< "The slide is smaller than one " << patchMicrometres << " um tile");
  }
  auto tiles = itk::SpatialExpressionData::New();
  tiles->SetSpots(ids, positions);
  tiles->SetPixelSize(slide.GetPixelSize());
  return tiles;
}

/** Fraction of a patch's pixels that are not background: H&E background is near white, so a
 * pixel whose mean of red, green and blue is below 220 counts as tissue. */
double
TissueFraction(const itk::RGBPixel<unsigned char> * pixels, std::size_t count)
{
  std::size_t tissue = 0;
  for (std::size_t i = 0; i < count; ++i)
  {
    tissue += (int(pixels[i][0]) + int(pixels[i][1]) + int(pixels[i][2])) < 3 * 220;
  }
  return static_cast<double>(tissue) / static_cast<double>(count);
}

/** The tiles that are at least half tissue; at most \p count of them, chosen at random (seeded). */
std::vector<std::size_t>
TissueTiles(const itk::SpotPatchDataset & tiles, unsigned int count, std::uint32_t seed)
{
  const auto               size = tiles.GetPatches()->GetLargestPossibleRegion().GetSize();
  const std::size_t        pixels = size[0] * size[1];
  std::vector<std::size_t> kept;
  for (std::size_t k = 0; k < size[2]; ++k)
  {
    if (TissueFraction(tiles.GetPatches()->GetBufferPointer() + k * pixels, pixels) >= 0.5)
    {
      kept.push_back(k);
    }
  }
  // A partial Fisher-Yates shuffle from raw draws (std:: distributions differ between libraries).
  std::mt19937 generator(seed);
  for (std::size_t i = 0; i < std::min<std::size_t>(count, kept.size()); ++i)
  {
    const std::size_t j = i + static_cast<std::size_t>((generator() + 0.5) / 4294967296.0 * (kept.size() - i));
    std::swap(kept[i], kept[j]);
  }
  kept.resize(std::min<std::size_t>(count, kept.size()));
  std::sort(kept.begin(), kept.end());
  return kept;
}

/** c2l extract --tiles: unlabeled tissue tiles instead of patches at spots. */
void
ExtractTiles(const ExtractOptions & o, itk::SlideReader & slide)
{
  if (o.pixelSize > 0.0)
  {
    slide.SetPixelSize(o.pixelSize);
  }
  else if (slide.GetStatedPixelSize() <= 0.0)
  {
    itkGenericExceptionMacro(<< o.slide << " does not state its pixel size; give --pixel-size (micrometres)");
  }
  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = o.patchMicrometres;
  settings.PatchSizePixels = o.patchPixels;
  settings.SkipPartialPatches = true;
  if (!o.normalize.empty())
  {
    settings.NormalizationTarget = NormalizationTarget(o);
  }
  const auto grid = TileGrid(slide, o.patchMicrometres);
  const auto all =
    itk::SpotPatchDataset::FromExtraction(itk::ExtractSpotPatches(slide, *grid, settings), *grid, o.slide);
  const auto kept = TissueTiles(*all, o.tiles, o.seed);
  if (kept.empty())
  {
    itkGenericExceptionMacro(<< "No tile of " << o.slide << " is at least half tissue (pixels darker than background)");
  }
  all->Select(kept)->Write(o.output);
  std::cout << "wrote " << o.output << ": " << kept.size() << " tissue tiles of " << o.patchPixels << " px ("
            << o.patchMicrometres << " um) out of " << grid->GetNumberOfSpots() << " on the grid" << std::endl;
}

} // namespace

void
RunExtract(const ExtractOptions & o)
{
  RequireWritable(o.output, o.force);
  itk::TimeProbe clock;
  clock.Start();
  auto slide = itk::SlideReader::New();
  slide->Open(o.slide);
  if (o.tiles > 0)
  {
    ExtractTiles(o, *slide);
    return;
  }
  const auto spots = itk::ReadSpatialData(o.spots);
  // The pixel size: given, else stated by the slide, else known from the spots' own files.
  if (o.pixelSize > 0.0)
  {
    slide->SetPixelSize(o.pixelSize);
  }
  else if (slide->GetStatedPixelSize() <= 0.0 && spots->GetPixelSize() > 0.0)
  {
    slide->SetPixelSize(spots->GetPixelSize());
    std::cout << "pixel size " << spots->GetPixelSize() << " um from the spot data (" << spots->GetMetadata("format")
              << ")" << std::endl;
  }
  spots->SetPixelSize(slide->GetPixelSize());

  if (o.fraction > 0.0)
  {
    spots->MakeRandomSplit(o.fraction, o.seed);
  }
  itk::GenePreprocessingSettings preprocessing;
  preprocessing.TopGenes = o.genes;
  spots->Preprocess(preprocessing);

  itk::PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = o.patchMicrometres;
  settings.PatchSizePixels = o.patchPixels;
  settings.SkipPartialPatches = o.skipPartial;
  if (!o.normalize.empty())
  {
    settings.NormalizationTarget = NormalizationTarget(o);
  }
  const auto patches = itk::ExtractSpotPatches(*slide, *spots, settings);
  const auto dataset = itk::SpotPatchDataset::FromExtraction(patches, *spots, o.slide);
  dataset->Write(o.output);
  clock.Stop();

  std::cout << "wrote " << o.output << ": " << dataset->GetNumberOfPatches() << " patches of " << o.patchPixels
            << " px at " << patches.PixelSize << " um/px, " << dataset->GetSpots()->GetPreprocessing().Genes.size()
            << " genes";
  if (!dataset->GetSpots()->GetSplit().empty())
  {
    std::cout << ", " << dataset->GetSpots()->GetSpotIndices(true).size() << " training / "
              << dataset->GetSpots()->GetSpotIndices(false).size() << " test spots (seed " << o.seed << ")";
  }
  std::cout << " in " << clock.GetTotal() << " s" << std::endl;
  if (!patches.PaddedSpots.empty())
  {
    std::cout << patches.PaddedSpots.size()
              << " patch(es) left the slide and were padded with white: " << FirstOf(patches.PaddedSpots) << std::endl;
  }
  if (!patches.SkippedSpots.empty())
  {
    std::cout << patches.SkippedSpots.size()
              << " spot(s) skipped, their patch leaving the slide: " << FirstOf(patches.SkippedSpots) << std::endl;
  }
  if (patches.SourceStains)
  {
    std::cout << "stains: " << *patches.SourceStains << " -> " << *settings.NormalizationTarget << std::endl;
  }
}

void
AddExtractCommand(CLI::App & app)
{
  auto   o = std::make_shared<ExtractOptions>();
  auto * command = app.add_subcommand("extract",
                                      "Cut a patch at every spot of a slide: the paired (patch, "
                                      "expression) dataset");
  command
    ->add_option("--slide",
                 o->slide,
                 "Slide: OpenSlide formats (SVS, NDPI, MRXS, tiled TIFF, ...) or any "
                 "image ITK reads")
    ->required();
  command->add_option("--spots",
                      o->spots,
                      "Spots and counts: a Visium outs/ folder, an .h5ad, a HEST sample folder, "
                      "or a folder with counts/ and spots/ tables");
  command->add_option("--tiles", o->tiles, "Instead of --spots: up to N tissue tiles on a grid (unlabeled patches)");
  command->add_option("--pixel-size", o->pixelSize, "Micrometres per slide pixel (when the slide does not state it)")
    ->check(CLI::PositiveNumber);
  command->add_option("--patch-um", o->patchMicrometres, "Patch side on the tissue, micrometres (default 112)")
    ->check(CLI::PositiveNumber);
  command->add_option("--patch-px", o->patchPixels, "Patch side in pixels (default 224)")->check(CLI::Range(8u, 4096u));
  command->add_option("--normalize", o->normalize, "Stain-normalise the patches with this method")
    ->check(CLI::IsMember({ "macenko", "vahadane", "reinhard", "ruifrok" }, CLI::ignore_case));
  command->add_option("--target", o->target, "Reference image for --normalize");
  command->add_option("--target-params", o->targetParameters, "Saved target parameters for --normalize (JSON)");
  command->add_option("--genes", o->genes, "Keep the K genes of highest mean expression (default 250)")
    ->check(CLI::Range(1u, 100000u));
  command
    ->add_option("--fraction",
                 o->fraction,
                 "Fraction of spots for adaptation/training; the rest are test "
                 "spots (e.g. 0.25)")
    ->check(CLI::Range(0.0, 1.0));
  command->add_option("--seed", o->seed, "Seed of the split");
  command->add_flag("--skip-partial", o->skipPartial, "Leave out spots whose patch leaves the slide (default: pad)");
  command->add_flag("--force", o->force, "Replace the output if it exists");
  command->add_option("--out", o->output, "The dataset (.h5)")->required();
  command->callback([o]() {
    if (o->spots.empty() == (o->tiles == 0))
    {
      throw CLI::ValidationError("--spots / --tiles", "give exactly one of --spots and --tiles");
    }
    RunExtract(*o);
  });
}

} // namespace c2l
