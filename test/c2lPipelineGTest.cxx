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
// c2l run (the whole pipeline), as a user runs it: every stage on a small synthetic slide with tiny
// settings, the report and its files, a re-run that resumes, refusals of folders holding other
// results, and c2l predict on what the run produced.

#include "c2lTestHarness.h"
#include "c2lTinyPipeline.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

#include <unistd.h>

namespace
{
namespace fs = std::filesystem;
using nlohmann::json;

class C2LPipeline : public c2lTest::CommandFixture
{
protected:
  void
  SetUp() override
  {
    UseFolder(fs::path(PIPELINE_TEST_OUTPUT) / ("c2l-pipeline-" + std::to_string(::getpid())));
  }

  /** The slide (once) and a config with tiny settings; \p change edits it before writing. */
  std::string
  WriteConfig(const std::string & name, const std::function<void(json &)> & change = {})
  {
    if (!fs::exists(Path("slide")))
    {
      const auto slide = Run("synth-slide --spots 60 --seed 3 --out " + Path("slide"));
      EXPECT_EQ(slide.exitCode, 0) << slide.output;
    }
    json config = c2lTest::TinyPipelineConfig();
    if (change)
    {
      change(config);
    }
    std::ofstream(Path(name)) << config.dump(2);
    return Path(name);
  }
};

// A library user gets what c2l run gets: examples/SpatialTranscriptomicsPipelineExample sets the
// same tiny settings field by field on its own synthetic slide (the same 60 spots, seed 3) and runs
// SpatialTranscriptomicsPipeline, with no c2l and no JSON file.
TEST_F(C2LPipeline, TheLibraryAloneGivesTheSameMetricsAsC2lRun)
{
  const auto config = WriteConfig("pipeline.json");
  const auto viaTool = Run("run --config " + config);
  ASSERT_EQ(viaTool.exitCode, 0) << viaTool.output;
  const std::string command =
    std::string(PIPELINE_EXAMPLE_EXECUTABLE) + " " + Path("library") + " > " + Path("library.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_EQ(WEXITSTATUS(status), 0) << FileBytes(Path("library.txt"));

  const auto tool = json::parse(FileBytes(Path("run/evaluation/evaluation.json")));
  const auto library = json::parse(FileBytes(Path("library/run/evaluation/evaluation.json")));
  ASSERT_EQ(tool["regressors"].size(), 4u);
  ASSERT_EQ(library["regressors"].size(), tool["regressors"].size());
  for (std::size_t r = 0; r < tool["regressors"].size(); ++r)
  {
    for (const char * metric : { "label", "ratio", "mae", "rmse", "mean_pearson", "gene_mae", "gene_pearson" })
    {
      EXPECT_EQ(library["regressors"][r][metric], tool["regressors"][r][metric]) << r << " " << metric;
    }
  }
  for (const char * part : { "mean_baseline", "fidelity", "composition", "sample_measures", "spatial" })
  {
    EXPECT_EQ(library[part], tool[part]) << part;
  }
  for (const char * part : { "predictors", "combination_weights", "grid" })
  {
    EXPECT_EQ(library["imputation"][part], tool["imputation"][part]) << part;
  }
  EXPECT_EQ(FileBytes(Path("library/run/evaluation/regressor_r2_test_predictions.tsv")),
            FileBytes(Path("run/evaluation/regressor_r2_test_predictions.tsv")));
  // The library writes no report: that is the tool's.
  EXPECT_FALSE(fs::exists(Path("library/run/report.md")));
}

TEST_F(C2LPipeline, RunsEveryStageThenResumes)
{
  const auto config = WriteConfig("pipeline.json");
  const auto first = Run("run --config " + config);
  ASSERT_EQ(first.exitCode, 0) << first.output;
  for (const char * file : { "pipeline.json",
                             "dataset.h5",
                             "tiles.h5",
                             "central.safetensors",
                             "local.safetensors",
                             "synthetic.h5",
                             "regressor_real.safetensors",
                             "regressor_r1.safetensors",
                             "regressor_r2.safetensors",
                             "evaluation/evaluation.json",
                             "evaluation/regressor_real_metrics.json",
                             "evaluation/regressor_real_test_predictions.tsv",
                             "report.md",
                             "report.html" })
  {
    EXPECT_TRUE(fs::exists(Path("run/" + std::string(file)))) << file;
  }
  // No checkpoint is left behind once a stage has finished.
  EXPECT_FALSE(fs::exists(Path("run/central.safetensors.checkpoint")));

  // 30 training and 30 test spots; the ratio-2 regressor saw 60 synthetic pairs.
  const auto evaluation = json::parse(FileBytes(Path("run/evaluation/evaluation.json")));
  EXPECT_EQ(evaluation["training_spots"], 30);
  EXPECT_EQ(evaluation["test_spots"], 30);
  EXPECT_EQ(evaluation["synthetic_pairs"], 60);
  // Real only, x1, x2 and the colour-noise control at x2.
  ASSERT_EQ(evaluation["regressors"].size(), 4u);
  EXPECT_EQ(evaluation["regressors"][3]["control"], true);
  EXPECT_EQ(evaluation["regressors"][3]["ratio"], 2.0);
  EXPECT_TRUE(fs::exists(Path("run/control.h5")));
  EXPECT_TRUE(fs::exists(Path("run/regressor_control_r2.safetensors")));
  for (const auto & run : evaluation["regressors"])
  {
    EXPECT_TRUE(run["mae"].is_number()) << run.dump();
    EXPECT_EQ(run["gene_mae"].size(), 12u);
  }
  EXPECT_EQ(evaluation["composition"].size(), 2u);
  EXPECT_TRUE(evaluation["mean_baseline"]["mae"].is_number()) << evaluation.dump();
  // S2S-ST, the Gaussian-kernel smoothing and the combination, whose weights came from the two
  // fold regressors (each trained without one half of the training spots).
  const auto & imputation = evaluation["imputation"];
  ASSERT_EQ(imputation["predictors"].size(), 3u) << imputation.dump();
  EXPECT_EQ(imputation["predictors"][0]["label"], "S2S-ST imputation");
  for (const auto & predictor : imputation["predictors"])
  {
    EXPECT_TRUE(predictor["mae"].is_number()) << predictor.dump();
    EXPECT_EQ(predictor["gene_mae"].size(), 12u);
  }
  ASSERT_EQ(imputation["combination_weights"].size(), 12u);
  for (const auto & w : imputation["combination_weights"])
  {
    EXPECT_GE(w.get<double>(), 0.0);
    EXPECT_LE(w.get<double>(), 1.0);
  }
  EXPECT_TRUE(fs::exists(Path("run/regressor_real_fold0.safetensors")));
  EXPECT_TRUE(fs::exists(Path("run/regressor_real_fold1.safetensors")));
  EXPECT_FALSE(fs::exists(Path("run/regressor_real_fold2.safetensors")));
  EXPECT_TRUE(fs::exists(Path("run/evaluation/imputation_s2sst_test_predictions.tsv")));
  EXPECT_TRUE(fs::exists(Path("run/evaluation/combination_real_s2sst_metrics.json")));
  ASSERT_EQ(evaluation["sample_measures"].size(), 2u);
  for (const auto & measure : evaluation["sample_measures"])
  {
    EXPECT_GE(measure["classifier_auc"].get<double>(), 0.0) << measure.dump();
    EXPECT_LE(measure["classifier_auc"].get<double>(), 1.0) << measure.dump();
    EXPECT_TRUE(measure["gradient_energy"].is_number()) << measure.dump();
  }
  const auto report = FileBytes(Path("run/report.md"));
  for (const char * text : { "real only",
                             "real + synthetic x2",
                             "real + colour-noise control x2",
                             "gain over the control",
                             "Measures that colour cannot pass",
                             "classifier AUC",
                             "training-spot mean",
                             "S2S-ST imputation",
                             "real only + S2S-ST (per-gene weights, 2-fold cross-fitting)",
                             "Fidelity",
                             "Wall time per stage",
                             "pretrain" })
  {
    EXPECT_NE(report.find(text), std::string::npos) << text;
  }
  // Figures come from VTK under a display, or under xvfb-run where there is none.
  if (std::getenv("DISPLAY") != nullptr || std::system("command -v xvfb-run > /dev/null 2>&1") == 0)
  {
    for (const char * figure :
         { "mae_by_ratio.png", "gene_mae_scatter.png", "feature_embedding.png", "patch_grid.png" })
    {
      EXPECT_TRUE(fs::exists(Path("run/figures/" + std::string(figure)))) << figure << "\n" << report;
    }
  }

  // The same settings again: every stage is kept.
  const auto again = Run("run --config " + config);
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_NE(again.output.find("[regress-r2] finished in an earlier run: kept"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("trained"), std::string::npos) << again.output;

  // Other settings in the same folder: refused without --force; with it, only what changed reruns.
  const auto changed = WriteConfig("changed.json", [](json & c) { c["regressor"]["steps"] = 4; });
  ExpectOneLineError(Run("run --config " + changed), "holds the results of other settings");
  const auto forced = Run("run --config " + changed + " --force");
  ASSERT_EQ(forced.exitCode, 0) << forced.output;
  EXPECT_NE(forced.output.find("[adapt] finished in an earlier run: kept"), std::string::npos) << forced.output;
  EXPECT_NE(forced.output.find("[regress-real]\n"), std::string::npos) << forced.output;

  // c2l predict on the run's regressor and dataset: the test spots, with metrics.
  const auto predict = Run("predict --model " + Path("run/regressor_real.safetensors") + " --data " +
                           Path("run/dataset.h5") + " --out " + Path("p.tsv") + " --metrics " + Path("m.json"));
  ASSERT_EQ(predict.exitCode, 0) << predict.output;
  const auto table = FileBytes(Path("p.tsv"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 31); // header + 30 test spots
  EXPECT_TRUE(json::parse(FileBytes(Path("m.json")))["mae"].is_number());
  ExpectOneLineError(Run("predict --model " + Path("run/regressor_real.safetensors") + " --data " +
                         Path("run/dataset.h5") + " --out " + Path("p.tsv")),
                     "exists");
  ExpectOneLineError(
    Run("predict --model " + Path("run/dataset.h5") + " --data " + Path("run/dataset.h5") + " --out " + Path("q.tsv")),
    "Cannot load the gene regressor");

  // The same predictions as AnnData, opened by anndata itself: the 30 test spots, the truth beside.
  ASSERT_EQ(Run("predict --model " + Path("run/regressor_real.safetensors") + " --data " + Path("run/dataset.h5") +
                " --out " + Path("p.h5ad"))
              .exitCode,
            0);
  const std::string reader = std::string(SpatialTranscriptomics_PYTHON) + " " + SpatialTranscriptomics_SOURCE_DIR +
                             "/test/data/read_h5ad_with_anndata.py " + Path("p.h5ad") + " > " + Path("p.json");
  ASSERT_EQ(WEXITSTATUS(std::system(reader.c_str())), 0) << FileBytes(Path("p.json"));
  const auto seen = json::parse(FileBytes(Path("p.json")));
  EXPECT_EQ(seen["shape"], json({ 30, 12 }));
  EXPECT_EQ(seen["spatial"].size(), 30u);
  EXPECT_EQ(seen["layers"]["truth"].size(), 30u);
  EXPECT_EQ(seen["uns"]["scale"], "preprocessed");
  // The table's first value, as TSV and as X (float32 of the same number).
  const auto firstRow = table.substr(table.find('\n') + 1);
  const auto firstValue = std::stod(firstRow.substr(firstRow.find('\t') + 1));
  EXPECT_NEAR(seen["X"][0][0].get<double>(), firstValue, 1e-5 * std::abs(firstValue) + 1e-6);
}

TEST_F(C2LPipeline, StudiesSamplingFractionsWithOneCentralModel)
{
  const auto config = WriteConfig("study.json", [](json & c) { c["output"] = "study"; });
  const auto study = Run("study-fractions --config " + config + " --fractions 0.25,0.5");
  ASSERT_EQ(study.exitCode, 0) << study.output;
  for (const char * file : { "study_settings.json",
                             "study_results.json",
                             "report.md",
                             "report.html",
                             "fraction-25/report.md",
                             "fraction-25/central.safetensors",
                             "fraction-50/report.md" })
  {
    EXPECT_TRUE(fs::exists(Path("study/" + std::string(file)))) << file;
  }
  // The second run adapts the central model the first one pretrained instead of pretraining again.
  EXPECT_FALSE(fs::exists(Path("study/fraction-50/central.safetensors")));
  const auto second = json::parse(FileBytes(Path("study/fraction-50/pipeline.json")));
  EXPECT_EQ(fs::path(second["central_model"].get<std::string>()),
            fs::path(Path("study/fraction-25/central.safetensors")));
  EXPECT_EQ(second["extraction"]["fraction"], 0.5);

  // One entry per fraction, in the given order, with that fraction's split of the 60 spots and the
  // metrics its own evaluation wrote.
  const auto results = json::parse(FileBytes(Path("study/study_results.json")));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["training_spots"], 15);
  EXPECT_EQ(results[0]["test_spots"], 45);
  EXPECT_EQ(results[1]["training_spots"], 30);
  EXPECT_EQ(results[1]["test_spots"], 30);
  const auto evaluation = json::parse(FileBytes(Path("study/fraction-50/evaluation/evaluation.json")));
  ASSERT_EQ(results[1]["regressors"].size(), 4u); // with the colour-noise control
  for (std::size_t r = 0; r < 4; ++r)
  {
    EXPECT_EQ(results[1]["regressors"][r]["mae"], evaluation["regressors"][r]["mae"]);
    EXPECT_EQ(results[1]["regressors"][r]["label"], evaluation["regressors"][r]["label"]);
  }
  const auto report = FileBytes(Path("study/report.md"));
  for (const char * text : { "Test-spot MAE",
                             "25.0 %",
                             "50.0 %",
                             "real + synthetic x2",
                             "real + colour-noise control x2",
                             "training-spot mean",
                             "fraction-50/report.md" })
  {
    EXPECT_NE(report.find(text), std::string::npos) << text << "\n" << report;
  }
  if (std::getenv("DISPLAY") != nullptr || std::system("command -v xvfb-run > /dev/null 2>&1") == 0)
  {
    EXPECT_TRUE(fs::exists(Path("study/figures/mae_by_fraction.png"))) << report;
    EXPECT_TRUE(fs::exists(Path("study/figures/pearson_by_fraction.png"))) << report;
  }

  // Again with the same settings: nothing trains again.
  const auto again = Run("study-fractions --config " + config + " --fractions 0.25,0.5");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(again.output.find("trained"), std::string::npos) << again.output;

  // Other fractions in the same folder are refused without --force; bad fractions are refused.
  ExpectOneLineError(Run("study-fractions --config " + config + " --fractions 0.25"),
                     "holds the results of other settings (its study_settings.json)");
  ExpectOneLineError(Run("study-fractions --config " + config + " --fractions 0,0.5"), "must be in (0, 1)");
  ExpectOneLineError(Run("study-fractions --config " + config + " --fractions 0.5,0.5"), "given twice");
  const auto occupied = WriteConfig("occupied.json", [](json & c) { c["output"] = "slide"; });
  ExpectOneLineError(Run("study-fractions --config " + occupied), "holds no study");
}

TEST_F(C2LPipeline, RefusesBadSettingsAndOccupiedFolders)
{
  ExpectOneLineError(Run("run --config " + WriteConfig("a.json", [](json & c) { c["regressor"]["step"] = 3; })),
                     "Unknown key \"step\"");
  ExpectOneLineError(Run("run --config " + WriteConfig("b.json", [](json & c) { c["slide"] = "missing.tif"; })),
                     "missing.tif does not exist");
  ExpectOneLineError(Run("run --config " + WriteConfig("c.json", [](json & c) { c["extraction"]["fraction"] = 1.0; })),
                     "fraction must be in (0, 1)");
  ExpectOneLineError(Run("run --config " + WriteConfig("d.json", [](json & c) { c["ratios"] = json::array(); })),
                     "at least one synthetic-to-real ratio");
  ExpectOneLineError(Run("run --config " + WriteConfig("e.json", [](json & c) { c["regressor"]["depth"] = "fifty"; })),
                     "wrong type");
  std::ofstream(Path("broken.json")) << "{ \"output\": ";
  ExpectOneLineError(Run("run --config " + Path("broken.json")), "not valid JSON");

  // A folder with someone's files is never written into without --force, and the files stay.
  fs::create_directories(Path("run"));
  std::ofstream(Path("run/notes.txt")) << "mine";
  ExpectOneLineError(Run("run --config " + WriteConfig("f.json")), "is not empty");
  EXPECT_EQ(FileBytes(Path("run/notes.txt")), "mine");
}

} // namespace
