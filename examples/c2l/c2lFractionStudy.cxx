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
#include "c2lPipelineReport.h"
#include "c2lProgressBar.h"
#include "itkFileChecks.h"
#include "itkReportWriter.h"
#include "itkSamplingFractionStudy.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace c2l
{
namespace
{
namespace fs = std::filesystem;
using nlohmann::json;
using itk::report::Alignment;
using itk::report::FormatNumber;

/** A regressor metric of a run, or the training-mean baseline's (NaN where there is none). */
using RegressorMetric = double itk::RegressorEvaluation::*;
using BaselineMetric = double  itk::PipelineEvaluationResults::*;

/** A table with one row per fraction and one column per predictor (and the mean baseline). */
std::vector<std::vector<std::string>>
MetricTable(const std::vector<itk::FractionStudyRun> & runs, RegressorMetric metric, BaselineMetric baseline)
{
  std::vector<std::vector<std::string>> rows;
  for (const auto & run : runs)
  {
    std::vector<std::string> row{ FormatNumber(100.0 * run.Fraction, 1) + " %",
                                  std::to_string(run.Results.TrainingSpots),
                                  std::to_string(run.Results.TestSpots) };
    for (const auto & predictor : run.Results.Predictors())
    {
      row.push_back(FormatNumber(predictor.*metric, 4));
    }
    if (baseline != nullptr)
    {
      row.push_back(FormatNumber(run.Results.*baseline, 4));
    }
    rows.push_back(row);
  }
  return rows;
}

json
LineChart(const std::string & output, const std::string & title, const std::string & yLabel,
          const std::vector<itk::FractionStudyRun> & runs, RegressorMetric metric, BaselineMetric baseline)
{
  json       series = json::array();
  const auto predictors = runs.front().Results.Predictors();
  for (std::size_t r = 0; r < predictors.size(); ++r)
  {
    std::vector<double> x;
    std::vector<double> y;
    for (const auto & run : runs)
    {
      x.push_back(100.0 * run.Fraction);
      y.push_back(run.Results.Predictors()[r].*metric);
    }
    series.push_back({ { "label", predictors[r].Label }, { "x", x }, { "y", y } });
  }
  if (baseline != nullptr)
  {
    std::vector<double> x;
    std::vector<double> y;
    for (const auto & run : runs)
    {
      x.push_back(100.0 * run.Fraction);
      y.push_back(run.Results.*baseline);
    }
    series.push_back({ { "label", "training-spot mean" }, { "x", x }, { "y", y } });
  }
  return { { "type", "line_chart" }, { "output", output },
           { "title", title },       { "x_label", "spots sampled for adaptation and training (%)" },
           { "y_label", yLabel },    { "series", series } };
}

/** Where the study's shared central model comes from, in the report's words. */
std::string
CentralModelOrigin(const itk::PipelineSettings & config)
{
  if (!config.CentralModel.empty())
  {
    return "(" + config.CentralModel + ")";
  }
  if (!config.Pretraining.InitialModel.empty())
  {
    return "(" + config.Pretraining.InitialModel + ", continued once, by the first run, on unlabeled tissue tiles)";
  }
  return "(pretrained once, by the first run, on unlabeled tissue tiles)";
}

std::string
WriteStudyReport(const itk::PipelineSettings & config, const fs::path & folder,
                 const std::vector<itk::FractionStudyRun> & runs)
{
  const fs::path figures = folder / "figures";
  fs::create_directories(figures);
  json spec = json::array();
  spec.push_back(LineChart("mae_by_fraction.png",
                           "Test-spot MAE by sampling fraction",
                           "MAE (preprocessed scale)",
                           runs,
                           &itk::RegressorEvaluation::MeanAbsoluteError,
                           &itk::PipelineEvaluationResults::MeanBaselineAbsoluteError));
  spec.push_back(LineChart("pearson_by_fraction.png",
                           "Mean per-gene Pearson by sampling fraction",
                           "mean Pearson",
                           runs,
                           &itk::RegressorEvaluation::MeanPearson,
                           nullptr));
  const auto specFile = (figures / "figures.json").string();
  itk::report::WriteTextFileAtomically(specFile, spec.dump(1));
  const auto renderProblem = RenderFigureSpec(specFile);

  itk::report::ReportDocument document("C2L-ST sampling-fraction study");
  document.AddParagraph(
    "Slide " + config.Slide + ", spots " + config.Spots +
    ". The whole pipeline ran once per sampling fraction: that share of the spots (drawn with the "
    "extraction seed) was used for adaptation and regressor training, the other spots are that run's test "
    "spots, so each row is measured on its own held-out spots. The central model is shared by every run " +
    CentralModelOrigin(config) + ". Errors are on the preprocessed scale (library size normalisation and log1p).");
  if (!renderProblem.empty())
  {
    document.AddParagraph("**The figures could not be rendered**: " + renderProblem +
                          ". The tables below are complete; install xvfb (Debian) for off-screen rendering.");
  }
  std::vector<std::string> header{ "sampled", "training spots", "test spots" };
  std::vector<Alignment>   alignment(3, Alignment::Right);
  for (const auto & predictor : runs.front().Results.Predictors())
  {
    header.push_back(predictor.Label);
    alignment.push_back(Alignment::Right);
  }
  auto withBaseline = header;
  withBaseline.push_back("training-spot mean (no image)");
  auto baselineAlignment = alignment;
  baselineAlignment.push_back(Alignment::Right);

  document.AddHeading("Test-spot MAE");
  document.AddTable(withBaseline,
                    MetricTable(runs,
                                &itk::RegressorEvaluation::MeanAbsoluteError,
                                &itk::PipelineEvaluationResults::MeanBaselineAbsoluteError),
                    baselineAlignment);
  document.AddImage("figures/mae_by_fraction.png", "Test-spot MAE against the share of spots sampled.");
  document.AddHeading("Test-spot RMSE");
  document.AddTable(withBaseline,
                    MetricTable(runs,
                                &itk::RegressorEvaluation::RootMeanSquaredError,
                                &itk::PipelineEvaluationResults::MeanBaselineRootMeanSquaredError),
                    baselineAlignment);
  document.AddHeading("Mean per-gene Pearson at the test spots");
  document.AddTable(header, MetricTable(runs, &itk::RegressorEvaluation::MeanPearson, nullptr), alignment);
  document.AddImage("figures/pearson_by_fraction.png", "Mean per-gene Pearson against the share of spots sampled.");
  document.AddHeading("Mean per-gene Spearman at the test spots");
  document.AddTable(header, MetricTable(runs, &itk::RegressorEvaluation::MeanSpearman, nullptr), alignment);

  document.AddHeading("The runs");
  std::vector<std::vector<std::string>> runTable;
  for (const auto & run : runs)
  {
    runTable.push_back(
      { FormatNumber(100.0 * run.Fraction, 1) + " %", run.Folder + "/report.md", FormatNumber(run.Seconds, 1) });
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
RunFractionStudy(const FractionStudyOptions & options)
{
  const auto config = itk::PipelineSettings::Read(options.Config);
  auto       study = itk::SamplingFractionStudy::New();
  study->SetSettings(config);
  study->SetFractions(options.Fractions);
  study->SetForce(options.Force);
  auto * pipeline = study->GetPipeline();
  pipeline->AddObserver(itk::StartEvent(), [pipeline](const itk::EventObject &) {
    std::cout << "== sampling fraction " << pipeline->GetSettings().Extraction.Fraction << ": "
              << pipeline->GetSettings().Output << std::endl;
  });
  pipeline->AddObserver(itk::IterationEvent(),
                        [pipeline](const itk::EventObject &) { std::cout << pipeline->GetMessage() << std::endl; });
  auto progress = ProgressBar::New();
  progress->Watch(pipeline->GetStepRunner(), "");
  // Each run's own report, as c2l run writes it, once its pipeline has finished.
  study->AddObserver(itk::IterationEvent(), [pipeline](const itk::EventObject &) {
    WriteRunReport(pipeline->GetSettings(), pipeline->GetNumberOfStagesRun());
  });
  study->Update();
  return WriteStudyReport(config, config.Output, study->GetRuns());
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
