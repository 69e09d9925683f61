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

// c2l synth-slide: the synthetic slide (image, Visium outs/ folder, ground truth) that the demo
// and the tests use.

#include "c2lCommands.h"

#include "itkSyntheticSlide.h"
#include "itkTimeProbe.h"

#include <iostream>
#include <memory>

namespace c2l
{

void
AddSynthSlideCommand(CLI::App & app)
{
  struct Options
  {
    std::string                 Output;
    itk::SyntheticSlideSettings settings;
  };
  auto   options = std::make_shared<Options>();
  auto * command = app.add_subcommand("synth-slide", DescriptionOf("synth-slide"));
  command->add_option("--out", options->Output, "Output folder (created; must be new or empty)")->required();
  command->add_option("--spots", options->settings.NumberOfSpots, "Number of spots")->check(CLI::Range(1u, 20000u));
  command->add_option("--seed", options->settings.Seed, "Seed: the same seed gives the same slide");
  command->add_option("--pixel-size", options->settings.PixelSize, "Micrometres per pixel")
    ->check(CLI::Range(0.1, 10.0));
  command->callback([options]() {
    itk::TimeProbe clock;
    clock.Start();
    const auto slide = itk::SyntheticSlide::Generate(options->settings);
    itk::SyntheticSlide::Write(slide, options->Output);
    clock.Stop();
    const auto size = slide.Image->GetLargestPossibleRegion().GetSize();
    std::cout << "wrote " << options->Output << ": image.tif (" << size[0] << " x " << size[1] << " px at "
              << options->settings.PixelSize << " um/px), outs/ (" << slide.Spots->GetNumberOfSpots() << " spots, "
              << slide.Spots->GetNumberOfGenes() << " genes), ground_truth.json in " << clock.GetTotal() << " s"
              << std::endl;
  });
}

} // namespace c2l
