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

#include "itkPatchDatasetExtractor.h"

#include <iostream>
#include <memory>

namespace c2l
{
void
AddExtractCommand(CLI::App & app)
{
  auto   o = std::make_shared<itk::ExtractionStepSettings>();
  auto * command = app.add_subcommand("extract", DescriptionOf("extract"));
  command
    ->add_option("--slide",
                 o->Slide,
                 "Slide: OpenSlide formats (SVS, NDPI, MRXS, tiled TIFF, ...) or any "
                 "image ITK reads")
    ->required();
  command->add_option("--spots",
                      o->Spots,
                      "Spots and counts: a Visium outs/ folder, an .h5ad, a HEST sample folder, "
                      "or a folder with counts/ and spots/ tables");
  command->add_option("--tiles", o->Tiles, "Instead of --spots: up to N tissue tiles on a grid (unlabeled patches)");
  command->add_option("--holdout-blocks",
                      o->HoldOutBlocks,
                      "With --tiles: blocks of NxN tiles, every third held out (spread over the section)");
  command->add_option("--part", o->Part, "With --holdout-blocks: the training or the held-out tiles (default all)")
    ->check(CLI::IsMember({ "all", "training", "heldout" }));
  command->add_option("--pixel-size", o->PixelSize, "Micrometres per slide pixel (when the slide does not state it)")
    ->check(CLI::PositiveNumber);
  command->add_option("--patch-um", o->PatchMicrometres, "Patch side on the tissue, micrometres (default 112)")
    ->check(CLI::PositiveNumber);
  command->add_option("--patch-px", o->PatchPixels, "Patch side in pixels (default 224)")->check(CLI::Range(8u, 4096u));
  command->add_option("--normalize", o->NormalizationMethod, "Stain-normalise the patches with this method")
    ->check(CLI::IsMember({ "macenko", "vahadane", "reinhard", "ruifrok" }, CLI::ignore_case));
  command->add_option("--target", o->Target, "Reference image for --normalize");
  command->add_option("--target-params", o->TargetParameters, "Saved target parameters for --normalize (JSON)");
  command->add_option("--genes", o->Genes, "Keep the K genes of highest mean expression (default 250)")
    ->check(CLI::Range(1u, 100000u));
  command
    ->add_option("--fraction",
                 o->Fraction,
                 "Fraction of spots for adaptation/training; the rest are test "
                 "spots (e.g. 0.25)")
    ->check(CLI::Range(0.0, 1.0));
  command->add_option("--seed", o->Seed, "Seed of the split");
  command->add_flag("--skip-partial", o->SkipPartial, "Leave out spots whose patch leaves the slide (default: pad)");
  command->add_flag("--force", o->Force, "Replace the output if it exists");
  command->add_option("--out", o->Output, "The dataset (.h5)")->required();
  command->callback([o]() {
    if (o->Spots.empty() == (o->Tiles == 0))
    {
      throw CLI::ValidationError("--spots / --tiles", "give exactly one of --spots and --tiles");
    }
    auto extractor = itk::PatchDatasetExtractor::New();
    extractor->SetSettings(*o);
    extractor->Update();
    std::cout << extractor->GetSummary();
  });
}

} // namespace c2l
