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
#include "c2lPipeline.h"

#include "c2lPipelineEvaluation.h"
#include "c2lPipelineReport.h"
#include "c2lResultFiles.h"

#include "itkColourNoisePatches.h"
#include "itkConditioningProfiles.h"
#include "itkMacro.h"
#include "itkReportWriter.h"
#include "itkSpotPatchDataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <functional>
#include <iostream>
#include <sstream>

namespace c2l
{
namespace
{
namespace fs = std::filesystem;
using nlohmann::json;

/** Runs the stages in order, each unless it finished before with the same settings and no stage
 * before it had to run again; records each finished stage (settings, seconds, order) in stages/. */
class StageRunner
{
public:
  explicit StageRunner(fs::path folder)
    : m_Stages(std::move(folder) / "stages")
  {
    fs::create_directories(m_Stages);
  }

  void
  Run(const std::string & name, const json & settings, const std::function<void()> & work)
  {
    const fs::path marker = m_Stages / (name + ".json");
    ++m_Order;
    if (!m_Rerunning && fs::exists(marker))
    {
      const auto recorded = json::parse(ReadTextFile(marker.string()), nullptr, false);
      if (!recorded.is_discarded() && recorded.value("settings", json()) == settings)
      {
        std::cout << "[" << name << "] finished in an earlier run: kept" << std::endl;
        return;
      }
    }
    // Everything after a stage that runs again is stale: its inputs change.
    m_Rerunning = true;
    fs::remove(marker);
    std::cout << "[" << name << "]" << std::endl;
    const auto start = std::chrono::steady_clock::now();
    work();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    itk::report::WriteTextFileAtomically(
      marker.string(),
      json{ { "stage", name }, { "settings", settings }, { "seconds", seconds }, { "order", m_Order } }.dump(2));
    std::ostringstream line; // its own formatting: std::cout's stays as the stages left it
    line << "[" << name << "] " << std::fixed << std::setprecision(1) << seconds << " s";
    std::cout << line.str() << std::endl;
  }

private:
  fs::path m_Stages;
  int      m_Order{ 0 };
  bool     m_Rerunning{ false };
};

json
Fingerprint(const PipelineConfig & c, const char * section)
{
  return json::parse(c.ToJSON())[section];
}

/** A training stage writes \p output with checkpoints (every tenth of its steps unless the config
 * says otherwise), continues from the checkpoint a killed run left, and runs where the config says.
 * Works for the pretraining, adaptation and regressor options alike. */
template <typename TOptions>
void
PrepareTrainingStage(TOptions & o, const std::string & output, const PipelineConfig & c)
{
  o.out = output;
  o.checkpoint = output + ".checkpoint";
  o.checkpointEvery = o.checkpointEvery > 0 ? o.checkpointEvery : std::max(1u, o.steps / 10);
  o.resume = fs::exists(o.checkpoint);
  o.force = true; // the pipeline's own file, from a run that did not finish
  o.device = c.device;
  o.threads = c.threads;
}
} // namespace

void
PrepareResultsFolder(const std::string & folderName, const std::string & recordName, const std::string & settings,
                     const std::string & what, bool force)
{
  const fs::path folder(folderName);
  const fs::path recorded = folder / recordName;
  if (fs::exists(folder) && !fs::is_directory(folder))
  {
    itkGenericExceptionMacro(<< "The output " << folderName << " is a file, not a folder");
  }
  if (fs::exists(recorded))
  {
    if (ReadTextFile(recorded.string()) != settings && !force)
    {
      itkGenericExceptionMacro(<< folderName << " holds the results of other settings (its " << recordName
                               << "); choose another output folder, or --force to replace them (stages whose "
                               << "settings are unchanged are kept)");
    }
  }
  else if (fs::exists(folder) && !fs::is_empty(folder) && !force)
  {
    itkGenericExceptionMacro(<< folderName << " is not empty and holds no " << what
                             << "; choose a new folder, or --force to write into it");
  }
  fs::create_directories(folder);
  itk::report::WriteTextFileAtomically(recorded.string(), settings);
}

std::string
RunPipeline(const PipelineConfig & c, bool force)
{
  PrepareResultsFolder(c.output, "pipeline.json", c.ToJSON(), "pipeline run", force);
  const fs::path folder(c.output);
  const auto     path = [&folder](const std::string & name) { return (folder / name).string(); };
  StageRunner    stages(folder);
  const json     inputs{ { "slide", c.slide }, { "spots", c.spots }, { "pixel_size_um", c.pixelSize } };

  const std::string dataset = path("dataset.h5");
  stages.Run("extract", { { "inputs", inputs }, { "extraction", Fingerprint(c, "extraction") } }, [&] {
    ExtractOptions o = c.extraction;
    o.slide = c.slide;
    o.spots = c.spots;
    o.pixelSize = c.pixelSize;
    o.output = dataset;
    o.force = true; // the pipeline's own file, from a run that did not finish
    RunExtract(o);
  });
  const auto        real = itk::SpotPatchDataset::Read(dataset);
  const std::size_t trainingSpots = real->GetSpots()->GetSpotIndices(true).size();
  if (real->GetSpots()->GetSpotIndices(false).empty() || real->GetSpots()->GetSplit().empty())
  {
    itkGenericExceptionMacro(<< "The split left no test spot to evaluate on; lower extraction.fraction");
  }

  std::string central = c.centralModel;
  if (central.empty())
  {
    const std::string tiles = path("tiles.h5");
    stages.Run(
      "tiles", { { "inputs", inputs }, { "extraction", Fingerprint(c, "extraction") }, { "tiles", c.tiles } }, [&] {
        ExtractOptions o = c.extraction;
        o.slide = c.slide;
        o.spots.clear();
        o.tiles = c.tiles;
        o.pixelSize = real->GetSpots()->GetPixelSize(); // as the extraction found it
        o.output = tiles;
        o.force = true;
        RunExtract(o);
      });
    central = path("central.safetensors");
    stages.Run("pretrain", Fingerprint(c, "pretraining"), [&] {
      PretrainOptions o = c.pretraining;
      o.data = { tiles };
      PrepareTrainingStage(o, central, c);
      RunPretrain(o);
      fs::remove(o.checkpoint);
    });
  }

  const std::string local = path("local.safetensors");
  stages.Run("adapt", { { "central", central }, { "adaptation", Fingerprint(c, "adaptation") } }, [&] {
    AdaptOptions o = c.adaptation;
    o.central = central;
    o.data = dataset;
    PrepareTrainingStage(o, local, c);
    RunAdapt(o);
    fs::remove(o.checkpoint);
  });

  // One synthesis at the largest ratio; each lower ratio trains on its first pairs (the profiles
  // are independent draws, so a prefix is a draw at the lower ratio).
  const double      largestRatio = *std::max_element(c.ratios.begin(), c.ratios.end());
  const std::string synthetic = path("synthetic.h5");
  stages.Run("synthesize", { { "ratio", largestRatio }, { "synthesis", Fingerprint(c, "synthesis") } }, [&] {
    SampleOptions o = c.synthesis;
    o.model = local;
    o.central = central;
    o.expression = dataset;
    o.ratio = largestRatio;
    o.guidanceGiven = true;
    o.out = synthetic;
    o.force = true;
    o.device = c.device;
    o.threads = c.threads;
    RunSample(o);
  });

  // The control: the same pairs with images from no model, each pixel drawn from the real training
  // patches, so that the report can say what the generator adds beyond its profiles.
  const std::string control = path("control.h5");
  stages.Run("control", { { "ratio", largestRatio }, { "synthesis", Fingerprint(c, "synthesis") } }, [&] {
    // A smart pointer: the selected dataset is a temporary, its patches must outlive it.
    const itk::SpotPatchDataset::PatchStackType::Pointer trainingPatches =
      real->Select(real->GetSpots()->GetSpotIndices(true))->GetPatches();
    itk::MakeColourNoiseControl(*itk::SpotPatchDataset::Read(synthetic), trainingPatches, c.synthesis.seed)
      ->Write(control);
  });

  std::vector<RegressorRun> regressors{ { "real only", 0.0, path("regressor_real.safetensors") } };
  for (const double ratio : c.ratios)
  {
    std::ostringstream name;
    name << "regressor_r" << ratio << ".safetensors";
    regressors.push_back({ "real + synthetic x" + FormatRatio(ratio), ratio, path(name.str()) });
  }
  regressors.push_back({ "real + colour-noise control x" + FormatRatio(largestRatio),
                         largestRatio,
                         path("regressor_control_r" + FormatRatio(largestRatio) + ".safetensors"),
                         true });
  for (const auto & regressor : regressors)
  {
    const std::string stage = regressor.control     ? "regress-control-r" + FormatRatio(regressor.ratio)
                              : regressor.ratio > 0 ? "regress-r" + FormatRatio(regressor.ratio)
                                                    : "regress-real";
    stages.Run(stage, { { "ratio", regressor.ratio }, { "regressor", Fingerprint(c, "regressor") } }, [&] {
      TrainRegressorOptions o = c.regressor;
      o.data = dataset;
      if (regressor.ratio > 0)
      {
        o.synthetic = regressor.control ? control : synthetic;
        o.syntheticPairs = itk::NumberOfConditioningProfiles(regressor.ratio, trainingSpots);
      }
      PrepareTrainingStage(o, regressor.file, c);
      RunTrainRegressor(o);
      fs::remove(o.checkpoint);
    });
  }

  stages.Run("evaluate", Fingerprint(c, "evaluation"), [&] {
    EvaluatePipeline(c, dataset, synthetic, control, regressors, path("evaluation"));
  });
  std::string report;
  stages.Run("report", json::object(), [&] { report = WritePipelineReport(c, folder.string()); });
  if (report.empty())
  {
    report = path("report.md");
  }
  return report;
}

std::vector<StageTiming>
ReadStageTimings(const std::string & folder)
{
  std::vector<std::pair<int, StageTiming>> found;
  const fs::path                           stages = fs::path(folder) / "stages";
  if (fs::is_directory(stages))
  {
    for (const auto & entry : fs::directory_iterator(stages))
    {
      if (entry.path().extension() != ".json")
      {
        continue;
      }
      const auto recorded = json::parse(ReadTextFile(entry.path().string()), nullptr, false);
      if (recorded.is_discarded())
      {
        continue;
      }
      found.push_back({ recorded.value("order", 0),
                        { recorded.value("stage", std::string()), recorded.value("seconds", 0.0), false } });
    }
  }
  std::sort(found.begin(), found.end(), [](const auto & a, const auto & b) { return a.first < b.first; });
  std::vector<StageTiming> timings;
  for (auto & f : found)
  {
    timings.push_back(std::move(f.second));
  }
  return timings;
}

} // namespace c2l
