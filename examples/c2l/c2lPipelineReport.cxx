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
#include "itkJsonNumbers.h"

#include "itkReportFigures.h"
#include "itkReportWriter.h"
#include "itkSpotPatchDataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
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

std::vector<double>
ValuesOf(const json & array)
{
  std::vector<double> values;
  for (const auto & v : array)
  {
    values.push_back(itk::NumberOrNaN(v));
  }
  return values;
}

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
  const json evaluation = json::parse(itk::FileChecks::ReadText((folder / "evaluation" / "evaluation.json").string()));
  const auto timings = itk::SpatialTranscriptomicsPipeline::ReadStageTimings(folderName);
  const auto & runs = evaluation["regressors"];
  const auto   geneNames = evaluation["gene_names"].get<std::vector<std::string>>();

  json spec = json::array();
  // Error by ratio (ratio 0 = real only).
  {
    itk::report::Series mae{ "MAE", {}, {} };
    itk::report::Series rmse{ "RMSE", {}, {} };
    std::vector<json>   byRatio;
    std::copy_if(runs.begin(), runs.end(), std::back_inserter(byRatio), [](const json & run) {
      return !run.value("control", false);
    });
    std::sort(byRatio.begin(), byRatio.end(), [](const json & a, const json & b) {
      return a["ratio"].get<double>() < b["ratio"].get<double>();
    });
    for (const auto & run : byRatio)
    {
      mae.x.push_back(run["ratio"].get<double>());
      mae.y.push_back(itk::NumberOrNaN(run["mae"]));
      rmse.x.push_back(run["ratio"].get<double>());
      rmse.y.push_back(itk::NumberOrNaN(run["rmse"]));
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
  json cotrainedRun = runs.front();
  for (const auto & run : runs)
  {
    if (run["label"] == evaluation["spatial"]["cotrained_label"] ||
        (!evaluation["spatial"].contains("cotrained_label") && !run.value("control", false)))
    {
      cotrainedRun = run;
    }
  }
  spec.push_back({ { "type", "scatter" },
                   { "output", "gene_mae_scatter.png" },
                   { "title", "Gene-wise MAE: real only against " + cotrainedRun["label"].get<std::string>() },
                   { "x_label", "MAE, real only" },
                   { "y_label", "MAE, " + cotrainedRun["label"].get<std::string>() },
                   { "x", ValuesOf(runs.front()["gene_mae"]) },
                   { "y", ValuesOf(cotrainedRun["gene_mae"]) },
                   { "diagonal", true } });
  const auto & spatial = evaluation["spatial"];
  for (const auto & map : spatial["maps"])
  {
    spec.push_back({ { "type", "spatial_map" },
                     { "output", "map_" + map["gene"].get<std::string>() + ".png" },
                     { "title", map["gene"].get<std::string>() + " at the test spots" },
                     { "x", spatial["x"] },
                     { "y", spatial["y"] },
                     { "panels", { map["truth"], map["real_only"], map["cotrained"] } },
                     { "panel_titles", { "measured", "real only", spatial["cotrained_label"] } } });
  }
  const auto & fidelity = evaluation["fidelity"];
  spec.push_back({ { "type", "embedding" },
                   { "output", "feature_embedding.png" },
                   { "title", "Regressor features (PCA): real training patches and synthetic patches" },
                   { "x", fidelity["embedding"]["x"] },
                   { "y", fidelity["embedding"]["y"] },
                   { "group", fidelity["embedding"]["group"] },
                   { "group_names", { "real", "synthetic" } } });

  // Real and synthetic patches per expression cluster.
  const auto real = itk::SpotPatchDataset::Read((folder / "dataset.h5").string());
  const auto synthetic = itk::SpotPatchDataset::Read((folder / "synthetic.h5").string());
  std::vector<std::vector<itk::report::RGBImage>> rows;
  std::vector<std::string>                        rowLabels;
  for (const auto & cluster : evaluation["composition"])
  {
    std::vector<itk::report::RGBImage> realRow;
    std::vector<itk::report::RGBImage> syntheticRow;
    for (const auto & i : cluster["real_examples"])
    {
      realRow.push_back(PatchImage(*real, i.get<std::size_t>()));
    }
    for (const auto & i : cluster["synthetic_examples"])
    {
      syntheticRow.push_back(PatchImage(*synthetic, i.get<std::size_t>()));
    }
    if (realRow.empty() || syntheticRow.empty())
    {
      continue;
    }
    rows.push_back(realRow);
    rows.push_back(syntheticRow);
    rowLabels.push_back("cluster " + std::to_string(cluster["cluster"].get<int>()) + " real");
    rowLabels.push_back("cluster " + std::to_string(cluster["cluster"].get<int>()) + " synthetic");
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
                        std::to_string(evaluation["training_spots"].get<std::size_t>()) +
                        " spots for adaptation and training, " +
                        std::to_string(evaluation["test_spots"].get<std::size_t>()) + " held-out test spots, " +
                        std::to_string(evaluation["genes"].get<std::size_t>()) + " genes, " +
                        std::to_string(evaluation["synthetic_pairs"].get<std::size_t>()) +
                        " synthetic pairs at the largest ratio (sampler " + config.Synthesis.Sampler + ", " +
                        std::to_string(config.Synthesis.Steps) +
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
  for (const auto & run : runs)
  {
    table.push_back({ run["label"].get<std::string>(),
                      FormatNumber(itk::NumberOrNaN(run["mae"]), 4),
                      FormatNumber(itk::NumberOrNaN(run["rmse"]), 4),
                      FormatNumber(itk::NumberOrNaN(run["mean_pearson"]), 4),
                      FormatNumber(itk::NumberOrNaN(run["mean_spearman"]), 4),
                      run.contains("genes_improved") ? std::to_string(run["genes_improved"].get<std::size_t>()) +
                                                         " / " + std::to_string(geneNames.size())
                                                     : "" });
  }
  if (evaluation.contains("mean_baseline"))
  {
    table.push_back({ "training-spot mean (no image; reference)",
                      FormatNumber(itk::NumberOrNaN(evaluation["mean_baseline"]["mae"]), 4),
                      FormatNumber(itk::NumberOrNaN(evaluation["mean_baseline"]["rmse"]), 4),
                      "",
                      "",
                      "" });
  }
  document.AddTable(
    { "regressor", "MAE", "RMSE", "mean Pearson", "mean Spearman", "genes with lower MAE" },
    table,
    { Alignment::Left, Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right, Alignment::Right });
  for (const auto & control : runs)
  {
    if (control.value("control", false))
    {
      // What the generator adds beyond regularisation towards the training profiles.
      document.AddParagraph("The control co-trains on the same profiles with images of no model (each pixel drawn "
                            "from the real training patches): " +
                            cotrainedRun["label"].get<std::string>() + " against it, MAE " +
                            FormatNumber(itk::NumberOrNaN(cotrainedRun["mae"]), 4) + " against " +
                            FormatNumber(itk::NumberOrNaN(control["mae"]), 4) + " (gain over the control " +
                            FormatNumber(itk::NumberOrNaN(control["mae"]) - itk::NumberOrNaN(cotrainedRun["mae"]), 4) +
                            "; positive: the generated images help beyond their profiles).");
    }
  }
  document.AddImage("figures/mae_by_ratio.png", "Test-spot MAE and RMSE against the synthetic-to-real ratio.");
  document.AddImage("figures/gene_mae_scatter.png",
                    "Per-gene MAE of the real-only regressor against the co-trained one (below the line: improved).");
  for (const auto & map : spatial["maps"])
  {
    document.AddImage("figures/map_" + map["gene"].get<std::string>() + ".png",
                      map["gene"].get<std::string>() +
                        ": measured, real-only and co-trained predictions at the test spots "
                        "(among the genes that vary most over them).");
  }

  document.AddHeading("Measures that colour cannot pass");
  {
    // Documentation/CentralModel.md: real held-out tiles pass all three, noise of their colours fails all three.
    std::vector<std::vector<std::string>> rows;
    for (const auto & m : evaluation.value("sample_measures", json::array()))
    {
      const double nuclei =
        itk::NumberOrNaN(m["nuclei_per_patch"]) / itk::NumberOrNaN(m["real_nuclei_per_patch"]) - 1.0;
      const double energy = itk::NumberOrNaN(m["gradient_energy"]) / itk::NumberOrNaN(m["real_gradient_energy"]) - 1.0;
      rows.push_back({ m["patches"].get<std::string>(),
                       FormatNumber(itk::NumberOrNaN(m["classifier_auc"]), 3),
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
                        std::to_string(fidelity["feature_size"].get<std::size_t>()) +
                        " features). The held-out real test patches, measured the same way against the real training "
                        "patches, give the value to expect of patches as real as the real ones.");
  document.AddTable(
    { "patches against the real training patches", "mean cosine similarity to the nearest", "Frechet distance" },
    { { "synthetic",
        FormatNumber(itk::NumberOrNaN(fidelity["synthetic_nearest_cosine"]), 4),
        FormatNumber(itk::NumberOrNaN(fidelity["synthetic_frechet"]), 4) },
      { "real test (reference)",
        FormatNumber(itk::NumberOrNaN(fidelity["test_nearest_cosine"]), 4),
        FormatNumber(itk::NumberOrNaN(fidelity["test_frechet"]), 4) } },
    { Alignment::Left, Alignment::Right, Alignment::Right });
  document.AddImage("figures/feature_embedding.png", "The first two principal components of the features.");

  document.AddHeading("Tissue composition per expression cluster");
  document.AddParagraph(
    "Clusters: k-means on the training spots' expression; a synthetic pair belongs to the cluster "
    "nearest its conditioning profile. Nuclear area fraction: the share of tissue pixels whose "
    "hematoxylin concentration (Macenko stains estimated over real and synthetic patches) exceeds " +
    FormatNumber(evaluation["nuclear_threshold"].get<double>(), 3) + ".");
  std::vector<std::vector<std::string>> composition;
  for (const auto & cluster : evaluation["composition"])
  {
    composition.push_back({ std::to_string(cluster["cluster"].get<int>()),
                            std::to_string(cluster["real_spots"].get<std::size_t>()),
                            std::to_string(cluster["synthetic_pairs"].get<std::size_t>()),
                            FormatNumber(itk::NumberOrNaN(cluster["real_nuclear_fraction"]), 3) + " ± " +
                              FormatNumber(itk::NumberOrNaN(cluster["real_nuclear_fraction_sd"]), 3),
                            FormatNumber(itk::NumberOrNaN(cluster["synthetic_nuclear_fraction"]), 3) + " ± " +
                              FormatNumber(itk::NumberOrNaN(cluster["synthetic_nuclear_fraction_sd"]), 3) });
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
