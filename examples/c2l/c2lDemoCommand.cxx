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
// whose gene programs drive its morphology, starting from the committed central model of real
// tissue: on the 2-core CPU in minutes, with the report.

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
  std::string   InitialModel;
  unsigned int  Spots{ 480 };
  std::uint32_t Seed{ 1 };
  bool          Force{ false };
};

/** The committed central model (models/ of the source tree, or its installed copy), or "" when
 * neither is there. */
std::string
CommittedCentralModel()
{
  for (const char * candidate : { C2L_SOURCE_CENTRAL_MODEL, C2L_INSTALLED_CENTRAL_MODEL })
  {
    if (std::filesystem::exists(candidate))
    {
      return candidate;
    }
  }
  return "";
}

/** The demo's pipeline: small enough for a 2-core CPU in minutes. The central model of real tissue
 * (64 um at 32 px) is continued briefly on the slide's own tiles (pretraining.init), then adapted;
 * a ResNet-18, S2S-ST at half its steps with three folds; otherwise the paper's method and defaults. */
nlohmann::json
DemoPipeline(const std::filesystem::path & folder, const std::string & initialModel)
{
  return { { "output", (folder / "run").string() },
           { "slide", (folder / "slide" / "image.tif").string() },
           { "spots", (folder / "slide" / "outs").string() },
           { "ratios", { 1, 2, 4 } },
           { "extraction",
             { { "patch_um", 64 }, { "patch_px", 32 }, { "genes", 60 }, { "fraction", 0.25 }, { "seed", 1 } } },
           { "pretraining",
             { { "tiles", 1200 },
               { "init", initialModel },
               { "steps", 300 },
               { "batch", 16 },
               { "lr", 2e-4 },
               { "warmup", 0.05 } } },
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
  const std::string initialModel =
    o.InitialModel.empty() ? CommittedCentralModel() : fs::absolute(o.InitialModel).string();
  if (initialModel.empty())
  {
    itkGenericExceptionMacro(<< "The demo continues the module's committed central model (models/"
                             << fs::path(C2L_SOURCE_CENTRAL_MODEL).filename().string()
                             << "), which is neither in the source tree nor installed: pass --init FILE");
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
  std::ofstream(config) << DemoPipeline(folder, initialModel).dump(2) << '\n';
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
  command
    ->add_option("--init",
                 options->InitialModel,
                 "Central model to continue on the slide and adapt (default: the module's committed model, " +
                   (CommittedCentralModel().empty() ? std::string("not found here") : CommittedCentralModel()) + ")")
    ->check(CLI::ExistingFile);
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
