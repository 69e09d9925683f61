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
#include "c2lFractionStudy.h"

#include "c2lCommandList.h"

#include "c2lPipeline.h"
#include "itkSpatialTranscriptomicsPipeline.h"
#include "itkPipelineEvaluation.h"
#include "c2lPipelineReport.h"
#include "itkFileChecks.h"
#include "itkJsonNumbers.h"

#include "itkMacro.h"
#include "itkReportWriter.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

namespace c2l
{
namespace
{
namespace fs = std::filesystem;
using nlohmann::json;
using itk::report::Alignment;
using itk::report::FormatNumber;

void
ValidateFractions(const std::vector<double> & fractions)
{
  if (fractions.empty())
  {
    itkGenericExceptionMacro(<< "The study needs at least one sampling fraction (--fractions 0.05,0.1,0.25,0.5)");
  }
  std::set<std::string> names;
  for (const double fraction : fractions)
  {
    if (!(fraction > 0.0 && fraction < 1.0))
    {
      itkGenericExceptionMacro(<< "A sampling fraction must be in (0, 1), the share of the spots used for "
                               << "adaptation and training; got " << fraction);
    }
    if (!names.insert(FractionFolderName(fraction)).second)
    {
      itkGenericExceptionMacro(<< "The sampling fraction " << fraction << " is given twice");
    }
  }
}

/** One fraction's results, from its run's evaluation and stage records. */
json
CollectRun(double fraction, const fs::path & runFolder)
{
  const auto evaluation = itk::PipelineEvaluationResults::Read((runFolder / "evaluation" / "evaluation.json").string());
  json       regressors = json::array();
  for (const auto & run : evaluation.Regressors)
  {
    json entry{ { "label", run.Label },
                { "ratio", run.Ratio },
                { "mae", itk::JsonNumber(run.MeanAbsoluteError) },
                { "rmse", itk::JsonNumber(run.RootMeanSquaredError) },
                { "mean_pearson", itk::JsonNumber(run.MeanPearson) },
                { "mean_spearman", itk::JsonNumber(run.MeanSpearman) } };
    if (run.GenesImproved >= 0)
    {
      entry["genes_improved"] = static_cast<std::size_t>(run.GenesImproved);
    }
    regressors.push_back(entry);
  }
  double seconds = 0.0;
  for (const auto & stage : itk::SpatialTranscriptomicsPipeline::ReadStageTimings(runFolder.string()))
  {
    seconds += stage.Seconds;
  }
  return { { "fraction", fraction },
           { "folder", runFolder.filename().string() },
           { "training_spots", evaluation.TrainingSpots },
           { "test_spots", evaluation.TestSpots },
           { "genes", evaluation.GeneNames.size() },
           { "regressors", regressors },
           { "mean_baseline",
             { { "mae", itk::JsonNumber(evaluation.MeanBaselineAbsoluteError) },
               { "rmse", itk::JsonNumber(evaluation.MeanBaselineRootMeanSquaredError) } } },
           { "seconds", seconds } };
}

/** A table with one row per fraction and one column per regressor (and the mean baseline). */
std::vector<std::vector<std::string>>
MetricTable(const json & runs, const std::string & metric, bool withBaseline)
{
  std::vector<std::vector<std::string>> rows;
  for (const auto & run : runs)
  {
    std::vector<std::string> row{ FormatNumber(100.0 * run["fraction"].get<double>(), 1) + " %",
                                  std::to_string(run["training_spots"].get<std::size_t>()),
                                  std::to_string(run["test_spots"].get<std::size_t>()) };
    for (const auto & regressor : run["regressors"])
    {
      row.push_back(FormatNumber(itk::NumberOrNaN(regressor[metric]), 4));
    }
    if (withBaseline)
    {
      row.push_back(FormatNumber(itk::NumberOrNaN(run["mean_baseline"].value(metric, json())), 4));
    }
    rows.push_back(row);
  }
  return rows;
}

json
LineChart(const std::string & output, const std::string & title, const std::string & yLabel, const json & runs,
          const std::string & metric, bool withBaseline)
{
  json series = json::array();
  for (std::size_t r = 0; r < runs.front()["regressors"].size(); ++r)
  {
    std::vector<double> x;
    std::vector<double> y;
    for (const auto & run : runs)
    {
      x.push_back(100.0 * run["fraction"].get<double>());
      y.push_back(itk::NumberOrNaN(run["regressors"][r][metric]));
    }
    series.push_back({ { "label", runs.front()["regressors"][r]["label"] }, { "x", x }, { "y", y } });
  }
  if (withBaseline)
  {
    std::vector<double> x;
    std::vector<double> y;
    for (const auto & run : runs)
    {
      x.push_back(100.0 * run["fraction"].get<double>());
      y.push_back(itk::NumberOrNaN(run["mean_baseline"].value(metric, json())));
    }
    series.push_back({ { "label", "training-spot mean" }, { "x", x }, { "y", y } });
  }
  return { { "type", "line_chart" }, { "output", output },
           { "title", title },       { "x_label", "spots sampled for adaptation and training (%)" },
           { "y_label", yLabel },    { "series", series } };
}

std::string
WriteStudyReport(const itk::PipelineSettings & config, const fs::path & folder, const json & runs)
{
  const fs::path figures = folder / "figures";
  fs::create_directories(figures);
  json spec = json::array();
  spec.push_back(LineChart(
    "mae_by_fraction.png", "Test-spot MAE by sampling fraction", "MAE (preprocessed scale)", runs, "mae", true));
  spec.push_back(LineChart("pearson_by_fraction.png",
                           "Mean per-gene Pearson by sampling fraction",
                           "mean Pearson",
                           runs,
                           "mean_pearson",
                           false));
  const auto specFile = (figures / "figures.json").string();
  itk::report::WriteTextFileAtomically(specFile, spec.dump(1));
  const auto renderProblem = RenderFigureSpec(specFile);

  itk::report::ReportDocument document("C2L-ST sampling-fraction study");
  document.AddParagraph(
    "Slide " + config.Slide + ", spots " + config.Spots +
    ". The whole pipeline ran once per sampling fraction: that share of the spots (drawn with the "
    "extraction seed) was used for adaptation and regressor training, the other spots are that run's test "
    "spots, so each row is measured on its own held-out spots. The central model is shared by every run " +
    (config.CentralModel.empty() ? std::string("(pretrained once, by the first run, on unlabeled tissue tiles)")
                                 : "(" + config.CentralModel + ")") +
    ". Errors are on the preprocessed scale (library size normalisation and log1p).");
  if (!renderProblem.empty())
  {
    document.AddParagraph("**The figures could not be rendered**: " + renderProblem +
                          ". The tables below are complete; install xvfb (Debian) for off-screen rendering.");
  }
  std::vector<std::string> header{ "sampled", "training spots", "test spots" };
  std::vector<Alignment>   alignment(3, Alignment::Right);
  for (const auto & regressor : runs.front()["regressors"])
  {
    header.push_back(regressor["label"].get<std::string>());
    alignment.push_back(Alignment::Right);
  }
  auto withBaseline = header;
  withBaseline.push_back("training-spot mean (no image)");
  auto baselineAlignment = alignment;
  baselineAlignment.push_back(Alignment::Right);

  document.AddHeading("Test-spot MAE");
  document.AddTable(withBaseline, MetricTable(runs, "mae", true), baselineAlignment);
  document.AddImage("figures/mae_by_fraction.png", "Test-spot MAE against the share of spots sampled.");
  document.AddHeading("Test-spot RMSE");
  document.AddTable(withBaseline, MetricTable(runs, "rmse", true), baselineAlignment);
  document.AddHeading("Mean per-gene Pearson at the test spots");
  document.AddTable(header, MetricTable(runs, "mean_pearson", false), alignment);
  document.AddImage("figures/pearson_by_fraction.png", "Mean per-gene Pearson against the share of spots sampled.");
  document.AddHeading("Mean per-gene Spearman at the test spots");
  document.AddTable(header, MetricTable(runs, "mean_spearman", false), alignment);

  document.AddHeading("The runs");
  std::vector<std::vector<std::string>> runTable;
  for (const auto & run : runs)
  {
    const std::string name = run["folder"].get<std::string>();
    runTable.push_back({ FormatNumber(100.0 * run["fraction"].get<double>(), 1) + " %",
                         name + "/report.md",
                         FormatNumber(run["seconds"].get<double>(), 1) });
  }
  document.AddTable({ "sampled", "report", "wall time of its stages (s)" },
                    runTable,
                    { Alignment::Right, Alignment::Left, Alignment::Right });
  document.AddHeading("Settings");
  document.AddCodeBlock(itk::FileChecks::ReadText((folder / "study_settings.json").string()));
  document.Write(folder.string(), "report");
  return (folder / "report.md").string();
}
} // namespace

std::string
FractionFolderName(double fraction)
{
  return "fraction-" + itk::PipelineEvaluation::FormatRatio(100.0 * fraction);
}

std::string
RunFractionStudy(const FractionStudyOptions & options)
{
  ValidateFractions(options.Fractions);
  const auto     config = itk::PipelineSettings::Read(options.Config);
  const fs::path folder(config.Output);
  const json     settings{ { "pipeline", json::parse(config.ToJSON()) }, { "fractions", options.Fractions } };
  itk::SpatialTranscriptomicsPipeline::PrepareResultsFolder(
    folder.string(), "study_settings.json", settings.dump(2), "study", options.Force);

  json runs = json::array();
  for (std::size_t i = 0; i < options.Fractions.size(); ++i)
  {
    const double          fraction = options.Fractions[i];
    itk::PipelineSettings run = config;
    run.Output = (folder / FractionFolderName(fraction)).string();
    run.Extraction.Fraction = fraction;
    if (config.CentralModel.empty() && i > 0)
    {
      // Pretraining sees the slide's unlabeled tiles, never the split: one central model serves all.
      run.CentralModel = (folder / FractionFolderName(options.Fractions.front()) / "central.safetensors").string();
    }
    std::cout << "== sampling fraction " << fraction << ": " << run.Output << std::endl;
    RunPipeline(run, options.Force);
    runs.push_back(CollectRun(fraction, run.Output));
  }
  itk::report::WriteTextFileAtomically((folder / "study_results.json").string(), runs.dump(1));
  return WriteStudyReport(config, folder, runs);
}

void
AddStudyFractionsCommand(CLI::App & app)
{
  auto   options = std::make_shared<FractionStudyOptions>();
  auto * command = app.add_subcommand("study-fractions", DescriptionOf("study-fractions"));
  command->add_option("--config", options->Config, "Pipeline settings (JSON); its output folder becomes the study's")
    ->required();
  command
    ->add_option(
      "--fractions", options->Fractions, "Shares of the spots for adaptation and training (default 0.05,0.1,0.25,0.5)")
    ->delimiter(',');
  command->add_flag(
    "--force", options->Force, "Replace results of other settings in the output folder (unchanged stages are kept)");
  command->callback([options]() {
    const auto report = RunFractionStudy(*options);
    std::cout << "the study's report: " << report << " (and .html)" << std::endl;
  });
}

} // namespace c2l
