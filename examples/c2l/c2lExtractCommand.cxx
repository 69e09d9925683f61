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
#include "itkTissueTiles.h"
#include "itkTimeProbe.h"

#include <algorithm>
#include <iostream>
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
  itk::TissueTileSettings settings;
  settings.Extraction.PatchSizeMicrometres = o.patchMicrometres;
  settings.Extraction.PatchSizePixels = o.patchPixels;
  if (!o.normalize.empty())
  {
    settings.Extraction.NormalizationTarget = NormalizationTarget(o);
  }
  settings.MaximumTiles = o.tiles;
  settings.Seed = o.seed;
  settings.HoldOutBlockTiles = o.holdOutBlocks;
  settings.Part = o.part == "training"  ? itk::TileGridPart::Training
                  : o.part == "heldout" ? itk::TileGridPart::HeldOut
                                        : itk::TileGridPart::All;
  const auto tiles = itk::ExtractTissueTiles(slide, settings, o.slide);
  tiles->Write(o.output);
  std::cout << "wrote " << o.output << ": " << tiles->GetNumberOfPatches() << " tissue tiles of " << o.patchPixels
            << " px (" << o.patchMicrometres << " um)" << std::endl;
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
  command->add_option("--holdout-blocks",
                      o->holdOutBlocks,
                      "With --tiles: blocks of NxN tiles, every third held out (spread over the section)");
  command->add_option("--part", o->part, "With --holdout-blocks: the training or the held-out tiles (default all)")
    ->check(CLI::IsMember({ "all", "training", "heldout" }));
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
