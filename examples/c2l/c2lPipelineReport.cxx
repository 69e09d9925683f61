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
#include "c2lPipelineReport.h"

#include "c2lCommandList.h"

#include "c2lPipeline.h"
#include "itkSpatialTranscriptomicsPipeline.h"
#include "itkFileChecks.h"
#include "itkPipelineEvaluationResults.h"

#include "itkReportFigures.h"
#include "itkReportWriter.h"
#include "itkSpotPatchDataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
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

/** One patch of a stack as an image, enlarged by pixel replication to at least 64 pixels so a
 * person can see it in the grid. */
itk::report::RGBImage
PatchImage(const itk::SpotPatchDataset & dataset, std::size_t index)
{
  const auto            size = dataset.GetPatches()->GetLargestPossibleRegion().GetSize();
  const int             side = static_cast<int>(size[0]);
  const int             zoom = std::max(1, (64 + side - 1) / side);
  const auto *          patch = dataset.GetPatches()->GetBufferPointer() + index * size[0] * size[1];
  itk::report::RGBImage image;
  image.width = side * zoom;
  image.height = side * zoom;
  image.rgb.resize(3 * image.width * image.height);
  for (int y = 0; y < image.height; ++y)
  {
    for (int x = 0; x < image.width; ++x)
    {
      const auto & pixel = patch[(y / zoom) * side + (x / zoom)];
      for (int c = 0; c < 3; ++c)
      {
        image.rgb[3 * (y * image.width + x) + c] = pixel[c];
      }
    }
  }
  return image;
}

} // namespace

std::string
RenderFigureSpec(const std::string & spec)
{
  try
  {
    if (itk::report::DisplayAvailable())
    {
      itk::report::RenderFiguresFromSpec(spec);
      return {};
    }
    const auto self = fs::read_symlink("/proc/self/exe").string();
    const int  status = itk::report::RunUnderVirtualDisplay({ self, "render-figures", "--spec", spec });
    return status == 0 ? std::string()
                       : "c2l render-figures under xvfb-run exited with status " + std::to_string(status);
  }
  catch (const std::exception & e)
  {
    return e.what();
  }
}

std::string
WritePipelineReport(const itk::PipelineSettings & config, const std::string & folderName)
{
  const fs::path folder(folderName);
  const fs::path figures = folder / "figures";
  fs::create_directories(figures);
  const auto   evaluation = itk::PipelineEvaluationResults::Read((folder / "evaluation" / "evaluation.json").string());
  const auto   timings = itk::SpatialTranscriptomicsPipeline::ReadStageTimings(folderName);
  const auto & runs = evaluation.Regressors;

  json spec = json::array();
  // Error by ratio (ratio 0 = real only).
  {
    itk::report::Series                   mae{ "MAE", {}, {} };
    itk::report::Series                   rmse{ "RMSE", {}, {} };
    std::vector<itk::RegressorEvaluation> byRatio;
    std::copy_if(runs.begin(), runs.end(), std::back_inserter(byRatio), [](const itk::RegressorEvaluation & run) {
      return !run.Control;
    });
    std::sort(byRatio.begin(),
              byRatio.end(),
              [](const itk::RegressorEvaluation & a, const itk::RegressorEvaluation & b) { return a.Ratio < b.Ratio; });
    for (const auto & run : byRatio)
    {
      mae.x.push_back(run.Ratio);
      mae.y.push_back(run.MeanAbsoluteError);
      rmse.x.push_back(run.Ratio);
      rmse.y.push_back(run.RootMeanSquaredError);
    }
    spec.push_back({ { "type", "line_chart" },
                     { "output", "mae_by_ratio.png" },
                     { "title", "Test-spot error by synthetic-to-real ratio (0 = real only)" },
                     { "x_label", "synthetic-to-real ratio" },
                     { "y_label", "error (preprocessed scale)" },
                     { "series",
                       { { { "label", mae.label }, { "x", mae.x }, { "y", mae.y } },
                         { { "label", rmse.label }, { "x", rmse.x }, { "y", rmse.y } } } } });
  }
  // The co-trained regressor the figures show, as the evaluation chose it.
  itk::RegressorEvaluation cotrainedRun = runs.front();
  for (const auto & run : runs)
  {
    if (run.Label == evaluation.CotrainedLabel || (evaluation.CotrainedLabel.empty() && !run.Control))
    {
      cotrainedRun = run;
    }
  }
  spec.push_back({ { "type", "scatter" },
                   { "output", "gene_mae_scatter.png" },
                   { "title", "Gene-wise MAE: real only against " + cotrainedRun.Label },
                   { "x_label", "MAE, real only" },
                   { "y_label", "MAE, " + cotrainedRun.Label },
                   { "x", runs.front().GeneMeanAbsoluteError },
                   { "y", cotrainedRun.GeneMeanAbsoluteError },
                   { "diagonal", true } });
  for (const auto & map : evaluation.Maps)
  {
    spec.push_back({ { "type", "spatial_map" },
                     { "output", "map_" + map.Gene + ".png" },
                     { "title", map.Gene + " at the test spots" },
                     { "x", evaluation.SpatialX },
                     { "y", evaluation.SpatialY },
                     { "panels", { map.Truth, map.RealOnly, map.Cotrained } },
                     { "panel_titles", { "measured", "real only", evaluation.CotrainedLabel } } });
  }
  spec.push_back({ { "type", "embedding" },
                   { "output", "feature_embedding.png" },
                   { "title", "Regressor features (PCA): real training patches and synthetic patches" },
                   { "x", evaluation.EmbeddingX },
                   { "y", evaluation.EmbeddingY },
                   { "group", evaluation.EmbeddingGroup },
                   { "group_names", { "real", "synthetic" } } });

  // Real and synthetic patches per expression cluster.
  const auto real = itk::SpotPatchDataset::Read((folder / "dataset.h5").string());
  const auto synthetic = itk::SpotPatchDataset::Read((folder / "synthetic.h5").string());
  std::vector<std::vector<itk::report::RGBImage>> rows;
  std::vector<std::string>                        rowLabels;
  for (const auto & cluster : evaluation.Composition)
  {
    std::vector<itk::report::RGBImage> realRow;
    std::vector<itk::report::RGBImage> syntheticRow;
    for (const auto i : cluster.RealExamples)
    {
      realRow.push_back(PatchImage(*real, i));
    }
    for (const auto i : cluster.SyntheticExamples)
    {
      syntheticRow.push_back(PatchImage(*synthetic, i));
    }
    if (realRow.empty() || syntheticRow.empty())
    {
      continue;
    }
    rows.push_back(realRow);
    rows.push_back(syntheticRow);
    rowLabels.push_back("cluster " + std::to_string(cluster.Cluster) + " real");
    rowLabels.push_back("cluster " + std::to_string(cluster.Cluster) + " synthetic");
  }
  if (!rows.empty())
  {
    const auto grid = itk::report::PatchGrid(rows, 4, 2);
    itk::report::WriteRGBImagePNG(
      (figures / "patch_grid_pixels.png").string(), grid.image.width, grid.image.height, grid.image.rgb);
    spec.push_back({ { "type", "labelled_image" },
                     { "output", "patch_grid.png" },
                     { "title", "Real (training) and synthetic patches per expression cluster" },
                     { "image", "patch_grid_pixels.png" },
                     { "row_labels", rowLabels },
                     { "row_centers", grid.rowCenters } });
  }
  const auto specFile = (figures / "figures.json").string();
  itk::report::WriteTextFileAtomically(specFile, spec.dump(1));
  const auto renderProblem = RenderFigureSpec(specFile);

  // The document.
  itk::report::ReportDocument document("C2L-ST pipeline report");
  document.AddParagraph("Slide " + config.Slide + ", spots " + config.Spots + ": " +
                        std::to_string(evaluation.TrainingSpots) + " spots for adaptation and training, " +
                        std::to_string(evaluation.TestSpots) + " held-out test spots, " +
                        std::to_string(evaluation.GeneNames.size()) + " genes, " +
                        std::to_string(evaluation.SyntheticPairs) + " synthetic pairs at the largest ratio (sampler " +
                        config.Synthesis.Sampler + ", " + std::to_string(config.Synthesis.Steps) +
                        " steps). Errors are on the preprocessed scale (library size "
                        "normalisation and log1p); correlations are per gene over the test spots, averaged over "
                        "the genes where they are defined.");
  if (!renderProblem.empty())
  {
    document.AddParagraph("**The figures could not be rendered**: " + renderProblem +
                          ". The tables below are complete; install xvfb (Debian) for off-screen rendering.");
  }

  document.AddHeading("Expression prediction at the test spots");
  std::vector<std::vector<std::string>> table;
  for (const auto & run : evaluation.Predictors())
  {
    table.push_back({ run.Label,
                      FormatNumber(run.MeanAbsoluteError, 4),
                      FormatNumber(run.RootMeanSquaredError, 4),
                      FormatNumber(run.MeanPearson, 4),
                      FormatNumber(run.MeanSpearman, 4),
                      run.GenesImproved >= 0
                        ? std::to_string(run.GenesImproved) + " / " + std::to_string(evaluation.GeneNames.size())
                        : "" });
  }
  if (!std::isnan(evaluation.MeanBaselineAbsoluteError)) // older evaluations have no baseline
  {
    table.push_back({ "training-spot mean (no image; reference)",
                      FormatNumber(evaluation.MeanBaselineAbsoluteError, 4),
                      FormatNumber(evaluation.MeanBaselineRootMeanSquaredError, 4),
                      "",
                      "",
                      "" });
  }
  document.AddTable(
    { "predictor", "MAE", "RMSE", "mean Pearson", "mean Spearman", "genes with lower MAE" },
    table,
    { Alignment::Left, Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right });
  if (!evaluation.Imputation.empty())
  {
    double meanWeight = 0.0;
    for (const double w : evaluation.CombinationWeights)
    {
      meanWeight += w / evaluation.CombinationWeights.size();
    }
    document.AddParagraph(
      "S2S-ST and the Gaussian-kernel smoothing predict the test spots from the training spots' expression alone "
      "(no image), on the spots' grid (" +
      evaluation.ImputationGrid + "; " + FormatNumber(evaluation.ImputationSeconds, 1) +
      " s). The combination averages the real-only regressor and S2S-ST per gene, with weights fitted on the "
      "training spots only (each fold predicted by a regressor and an S2S-ST trained on the other folds); the "
      "regressor's mean weight is " +
      FormatNumber(meanWeight, 3) + ".");
  }
  for (const auto & control : runs)
  {
    if (control.Control)
    {
      // What the generator adds beyond regularisation towards the training profiles.
      document.AddParagraph("The control co-trains on the same profiles with images of no model (each pixel drawn "
                            "from the real training patches): " +
                            cotrainedRun.Label + " against it, MAE " + FormatNumber(cotrainedRun.MeanAbsoluteError, 4) +
                            " against " + FormatNumber(control.MeanAbsoluteError, 4) + " (gain over the control " +
                            FormatNumber(control.MeanAbsoluteError - cotrainedRun.MeanAbsoluteError, 4) +
                            "; positive: the generated images help beyond their profiles).");
    }
  }
  document.AddImage("figures/mae_by_ratio.png", "Test-spot MAE and RMSE against the synthetic-to-real ratio.");
  document.AddImage("figures/gene_mae_scatter.png",
                    "Per-gene MAE of the real-only regressor against the co-trained one (below the line: improved).");
  for (const auto & map : evaluation.Maps)
  {
    document.AddImage("figures/map_" + map.Gene + ".png",
                      map.Gene + ": measured, real-only and co-trained predictions at the test spots "
                                 "(among the genes that vary most over them).");
  }

  document.AddHeading("Measures that colour cannot pass");
  {
    // Documentation/CentralModel.md: real held-out tiles pass all three, noise of their colours fails all three.
    std::vector<std::vector<std::string>> rows;
    for (const auto & m : evaluation.SampleMeasures)
    {
      const double nuclei = m.NucleiPerPatch / m.RealNucleiPerPatch - 1.0;
      const double energy = m.GradientEnergy / m.RealGradientEnergy - 1.0;
      rows.push_back({ m.Patches,
                       FormatNumber(m.ClassifierAUC, 3),
                       FormatNumber(100.0 * nuclei, 1) + " %",
                       FormatNumber(100.0 * energy, 1) + " %" });
    }
    document.AddParagraph("Against the real test patches: the AUC of a small CNN trained to tell the two sets apart "
                          "(cross-validated; 0.5: indistinguishable; bar: at most 0.8), and the relative "
                          "difference of the nuclei per patch (bar: within 25 %) and of the luminance gradient "
                          "energy (bar: within 20 %).");
    document.AddTable({ "patches", "classifier AUC", "nuclei per patch", "gradient energy" },
                      rows,
                      { Alignment::Left, Alignment::Right, Alignment::Right, Alignment::Right });
  }

  document.AddHeading("Fidelity of the synthetic patches");
  document.AddParagraph("In the real-only regressor's penultimate feature space (" +
                        std::to_string(evaluation.FeatureSize) +
                        " features). The held-out real test patches, measured the same way against the real training "
                        "patches, give the value to expect of patches as real as the real ones.");
  document.AddTable(
    { "patches against the real training patches", "mean cosine similarity to the nearest", "Frechet distance" },
    { { "synthetic", FormatNumber(evaluation.SyntheticNearestCosine, 4), FormatNumber(evaluation.SyntheticFrechet, 4) },
      { "real test (reference)",
        FormatNumber(evaluation.TestNearestCosine, 4),
        FormatNumber(evaluation.TestFrechet, 4) } },
    { Alignment::Left, Alignment::Right, Alignment::Right });
  document.AddImage("figures/feature_embedding.png", "The first two principal components of the features.");

  document.AddHeading("Tissue composition per expression cluster");
  document.AddParagraph(
    "Clusters: k-means on the training spots' expression; a synthetic pair belongs to the cluster "
    "nearest its conditioning profile. Nuclear area fraction: the share of tissue pixels whose "
    "hematoxylin concentration (Macenko stains estimated over real and synthetic patches) exceeds " +
    FormatNumber(evaluation.NuclearThreshold, 3) + ".");
  std::vector<std::vector<std::string>> composition;
  for (const auto & cluster : evaluation.Composition)
  {
    composition.push_back(
      { std::to_string(cluster.Cluster),
        std::to_string(cluster.RealSpots),
        std::to_string(cluster.SyntheticPairs),
        FormatNumber(cluster.RealNuclearFraction, 3) + " ± " + FormatNumber(cluster.RealNuclearFractionSD, 3),
        FormatNumber(cluster.SyntheticNuclearFraction, 3) + " ± " +
          FormatNumber(cluster.SyntheticNuclearFractionSD, 3) });
  }
  document.AddTable({ "cluster", "real spots", "synthetic pairs", "nuclear area, real", "nuclear area, synthetic" },
                    composition,
                    { Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right });
  if (!rows.empty())
  {
    document.AddImage("figures/patch_grid.png", "Real training patches and synthetic patches per expression cluster.");
  }

  document.AddHeading("Wall time per stage");
  double total = 0.0;
  for (const auto & t : timings)
  {
    total += t.Seconds;
  }
  std::vector<std::vector<std::string>> timeTable;
  for (const auto & t : timings)
  {
    timeTable.push_back(
      { t.Name, FormatNumber(t.Seconds, 1), FormatNumber(total > 0 ? 100.0 * t.Seconds / total : 0.0, 1) + " %" });
  }
  timeTable.push_back({ "total (before this report)", FormatNumber(total, 1), "100 %" });
  document.AddTable(
    { "stage", "seconds", "share" }, timeTable, { Alignment::Left, Alignment::Right, Alignment::Right });
  document.AddParagraph("A stage kept from an earlier run shows the time it took then.");

  document.AddHeading("Settings");
  document.AddCodeBlock(itk::FileChecks::ReadText((folder / "pipeline.json").string()));
  document.Write(folderName, "report");
  return (folder / "report.md").string();
}

void
AddRenderFiguresCommand(CLI::App & app)
{
  auto   spec = std::make_shared<std::string>();
  auto * command = app.add_subcommand("render-figures", DescriptionOf("render-figures"));
  command->add_option("--spec", *spec, "The figure spec (figures.json)")->required();
  command->callback([spec]() {
    const int count = itk::report::RenderFiguresFromSpec(*spec);
    std::cout << "rendered " << count << " figures" << std::endl;
  });
}

} // namespace c2l
