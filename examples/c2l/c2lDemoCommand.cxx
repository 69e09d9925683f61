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
// c2l demo: the whole pipeline (c2l run) with small settings on a synthetic slide it generates,
// whose gene programs drive its morphology: on the 2-core CPU in minutes, with the report.

#include "c2lCommands.h"
#include "c2lPipeline.h"

#include "itkSyntheticSlide.h"
#include "itkTimeProbe.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace c2l
{
namespace
{
struct DemoOptions
{
  std::string   Output;
  unsigned int  Spots{ 480 };
  std::uint32_t Seed{ 1 };
  bool          Force{ false };
};

/** The demo's pipeline: small enough for a 2-core CPU in minutes (16-pixel patches of 112 um, a
 * small U-Net, short training, S2S-ST at half its steps with three folds), otherwise the paper's
 * method and defaults. */
nlohmann::json
DemoPipeline(const std::filesystem::path & folder)
{
  return { { "output", (folder / "run").string() },
           { "slide", (folder / "slide" / "image.tif").string() },
           { "spots", (folder / "slide" / "outs").string() },
           { "ratios", { 1, 2, 4 } },
           { "extraction",
             { { "patch_um", 112 }, { "patch_px", 16 }, { "genes", 60 }, { "fraction", 0.25 }, { "seed", 1 } } },
           { "pretraining",
             { { "tiles", 1200 },
               { "base_channels", 32 },
               { "scales", 3 },
               { "layers_per_block", 1 },
               { "steps", 800 },
               { "batch", 16 },
               { "lr", 2e-4 } } },
           { "adaptation", { { "steps", 1200 }, { "batch", 16 }, { "grad_accum", 1 }, { "lr", 1e-3 } } },
           { "synthesis", { { "steps", 20 }, { "guidance", 3 }, { "batch", 64 }, { "seed", 5 } } },
           { "regressor", { { "depth", 18 }, { "steps", 300 }, { "batch", 32 }, { "lr", 1e-3 } } },
           { "evaluation", { { "clusters", 4 }, { "map_genes", 3 } } },
           { "imputation", { { "steps", 200 }, { "folds", 3 } } } };
}

void
RunDemo(const DemoOptions & o)
{
  namespace fs = std::filesystem;
  const fs::path folder = fs::absolute(o.Output);
  const fs::path config = folder / "pipeline.json";
  if (fs::exists(folder) && !fs::is_empty(folder) && !fs::exists(config) && !o.Force)
  {
    itkGenericExceptionMacro(<< folder.string() << " already holds files; choose an empty folder or pass --force");
  }
  fs::create_directories(folder);
  itk::TimeProbe clock;
  clock.Start();
  if (!fs::exists(folder / "slide" / "ground_truth.json"))
  {
    itk::SyntheticSlideSettings settings;
    settings.NumberOfSpots = o.Spots;
    settings.Seed = o.Seed;
    const auto slide = itk::SyntheticSlide::Generate(settings);
    fs::remove_all(folder / "slide");
    itk::SyntheticSlide::Write(slide, (folder / "slide").string());
    std::cout << "[synthetic slide] " << o.Spots << " spots, seed " << o.Seed << std::endl;
  }
  std::ofstream(config) << DemoPipeline(folder).dump(2) << '\n';
  const auto report = RunPipeline(itk::PipelineSettings::Read(config.string()), o.Force);
  clock.Stop();
  std::cout << "demo finished in " << clock.GetTotal() << " s; the report: " << report << " (and .html)" << std::endl;
}

} // namespace

void
AddDemoCommand(CLI::App & app)
{
  auto   options = std::make_shared<DemoOptions>();
  auto * command = app.add_subcommand("demo", DescriptionOf("demo"));
  command->add_option("--out", options->Output, "Output folder (created; a demo folder resumes where it stopped)")
    ->required();
  command->add_option("--spots", options->Spots, "Spots of the synthetic slide (default 480)")
    ->check(CLI::Range(40u, 20000u));
  command->add_option("--seed", options->Seed, "Seed of the synthetic slide (default 1)");
  command->add_flag("--force", options->Force, "Write into a folder that holds other files or other results");
  command->callback([options]() { RunDemo(*options); });
}

void
AddRunCommand(CLI::App & app)
{
  struct Options
  {
    std::string Config;
    bool        Force{ false };
  };
  auto   options = std::make_shared<Options>();
  auto * command = app.add_subcommand("run", DescriptionOf("run"));
  command->add_option("--config", options->Config, "Pipeline settings (JSON; see Documentation/Pipeline.md)")
    ->required();
  command->add_flag(
    "--force", options->Force, "Replace results of other settings in the output folder (unchanged stages are kept)");
  command->callback([options]() {
    const auto report = RunPipeline(itk::PipelineSettings::Read(options->Config), options->Force);
    std::cout << "the report: " << report << " (and .html)" << std::endl;
  });
}

} // namespace c2l
