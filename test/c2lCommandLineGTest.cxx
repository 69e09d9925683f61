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

// The c2l executable as a user meets it: help on each command, results that round-trip through
// saved parameters and streaming, and bad input answered by one line and a non-zero exit, with
// nothing a user wrote overwritten.

#include "itkImageFileWriter.h"
#include "itkStainTestUtilities.h"
#include "c2lTestHarness.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <sstream>

namespace
{
namespace fs = std::filesystem;
using itk::StainTest::RGBImageType;

class C2LCommandLine : public c2lTest::CommandFixture
{
protected:
  void
  SetUp() override
  {
    UseFolder(fs::temp_directory_path() /
              ("c2l-cli-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())));
    Write(itk::StainTest::MakeSyntheticTissue(128, 128, 3, itk::SyntheticStainField::AlternativeHEStainMatrix())
            .GetPointer(),
          "source.png");
    Write(
      itk::StainTest::MakeSyntheticTissue(128, 128, 4, itk::SyntheticStainField::TypicalHEStainMatrix()).GetPointer(),
      "target.png");
  }

  template <typename TImage>
  void
  Write(const TImage * image, const std::string & name) const
  {
    itk::WriteImage(image, Path(name));
  }
};

TEST_F(C2LCommandLine, HelpListsCommandsAndOptions)
{
  const auto top = Run("--help");
  EXPECT_EQ(top.exitCode, 0);
  EXPECT_NE(top.output.find("normalize"), std::string::npos);
  EXPECT_NE(top.output.find("demo"), std::string::npos);
  const auto normalize = Run("normalize --help");
  EXPECT_EQ(normalize.exitCode, 0);
  for (const char * command : { "synth-slide", "extract", "inspect" })
  {
    EXPECT_NE(top.output.find(command), std::string::npos) << command;
    EXPECT_EQ(Run(std::string(command) + " --help").exitCode, 0) << command;
  }
  for (const char * option : { "--method", "--target", "--target-params", "--save-target-params", "--stains-out" })
  {
    EXPECT_NE(normalize.output.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(Run("demo --help").exitCode, 0);
}

TEST_F(C2LCommandLine, SavedTargetParametersReproduceTheReferenceRun)
{
  ASSERT_EQ(Run("normalize --target " + Path("target.png") + " --save-target-params " + Path("target.json") +
                " --save-source-params " + Path("source.json") + " " + Path("source.png") + " " + Path("a.png"))
              .exitCode,
            0);
  const auto second =
    Run("normalize --target-params " + Path("target.json") + " " + Path("source.png") + " " + Path("b.png"));
  ASSERT_EQ(second.exitCode, 0) << second.output;
  const auto a = itk::StainTest::ReadRGB(Path("a.png"));
  const auto b = itk::StainTest::ReadRGB(Path("b.png"));
  EXPECT_EQ(itk::StainTest::MeanAbsoluteDifference(a, b), 0.0);

  // Streamed region by region through a MetaImage, given the source parameters: the same pixels.
  const auto streamed = Run("normalize --target-params " + Path("target.json") + " --source-params " +
                            Path("source.json") + " --stream-divisions 5 " + Path("source.png") + " " + Path("c.mha"));
  ASSERT_EQ(streamed.exitCode, 0) << streamed.output;
  EXPECT_NE(streamed.output.find("streamed in 5 regions"), std::string::npos) << streamed.output;
  EXPECT_EQ(itk::StainTest::MeanAbsoluteDifference(a, itk::StainTest::ReadRGB(Path("c.mha"))), 0.0);
}

TEST_F(C2LCommandLine, StainsOutWritesConcentrationImages)
{
  const auto result = Run("normalize --method vahadane --target " + Path("target.png") + " --stains-out " +
                          Path("stains-") + " " + Path("source.png") + " " + Path("out.png"));
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_TRUE(fs::exists(Path("stains-hematoxylin.mha")));
  EXPECT_TRUE(fs::exists(Path("stains-eosin.mha")));
}

TEST_F(C2LCommandLine, BlankInputIsCopiedWithAWarning)
{
  auto blank = RGBImageType::New();
  blank->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 40, 30 } }));
  blank->Allocate();
  blank->FillBuffer(RGBImageType::PixelType(248));
  Write(blank.GetPointer(), "blank.png");
  const auto result = Run("normalize --target " + Path("target.png") + " " + Path("blank.png") + " " + Path("out.png"));
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("no tissue"), std::string::npos) << result.output;
  EXPECT_EQ(itk::StainTest::MeanAbsoluteDifference(blank, itk::StainTest::ReadRGB(Path("out.png"))), 0.0);
}

TEST_F(C2LCommandLine, BadInputGetsOneLineAndNonZeroExit)
{
  ExpectOneLineError(Run("normalize --target " + Path("target.png") + " " + Path("missing.png") + " " + Path("o.png")),
                     "does not exist");
  std::filesystem::create_directories(Path("folder.png"));
  ExpectOneLineError(Run("normalize --target " + Path("target.png") + " " + Path("folder.png") + " " + Path("o.png")),
                     "is a directory");

  using GrayImageType = itk::Image<unsigned char, 2>;
  auto gray = GrayImageType::New();
  gray->SetRegions(GrayImageType::RegionType({ { 0, 0 } }, { { 16, 16 } }));
  gray->Allocate();
  gray->FillBuffer(100);
  Write(gray.GetPointer(), "gray.png");
  ExpectOneLineError(Run("normalize --target " + Path("target.png") + " " + Path("gray.png") + " " + Path("o.png")),
                     "8-bit RGB or RGBA");

  std::ofstream(Path("broken.json")) << "{ \"format\": ";
  ExpectOneLineError(
    Run("normalize --target-params " + Path("broken.json") + " " + Path("source.png") + " " + Path("o.png")),
    "not valid JSON");

  std::ofstream(Path("notimage.png")) << "hello";
  ExpectOneLineError(Run("normalize --target " + Path("notimage.png") + " " + Path("source.png") + " " + Path("o.png")),
                     "notimage.png");

  ExpectOneLineError(Run("normalize " + Path("source.png") + " " + Path("o.png")), "needs a target");
  ExpectOneLineError(
    Run("normalize --method nope --target " + Path("target.png") + " " + Path("source.png") + " " + Path("o.png")),
    "--method");
  ExpectOneLineError(Run("frobnicate"), "frobnicate");
  EXPECT_FALSE(fs::exists(Path("o.png")));
}

TEST_F(C2LCommandLine, NeverOverwritesWithoutForce)
{
  std::ofstream(Path("precious.png")) << "user data";
  ExpectOneLineError(
    Run("normalize --target " + Path("target.png") + " " + Path("source.png") + " " + Path("precious.png")), "--force");
  EXPECT_EQ(FileBytes(Path("precious.png")), "user data");

  ExpectOneLineError(
    Run("normalize --force --target " + Path("target.png") + " " + Path("source.png") + " " + Path("source.png")),
    "is the input");
  EXPECT_EQ(
    Run("normalize --force --target " + Path("target.png") + " " + Path("source.png") + " " + Path("precious.png"))
      .exitCode,
    0);
  EXPECT_NE(FileBytes(Path("precious.png")), "user data");
}

// The demo itself (the whole pipeline, minutes) runs through scripts/run-demo.sh; c2lPipelineGTest
// runs the same pipeline with tiny settings. Here: it never writes into someone's folder.
TEST_F(C2LCommandLine, DemoRefusesAFolderWithOtherFiles)
{
  fs::create_directories(Path("demo"));
  std::ofstream(Path("demo/notes.txt")) << "mine";
  ExpectOneLineError(Run("demo --out " + Path("demo")), "--force");
  EXPECT_EQ(FileBytes(Path("demo/notes.txt")), "mine");
  EXPECT_FALSE(fs::exists(Path("demo/slide")));
}

TEST_F(C2LCommandLine, SyntheticSlideExtractAndInspect)
{
  const auto made = Run("synth-slide --spots 30 --seed 5 --out " + Path("slide"));
  ASSERT_EQ(made.exitCode, 0) << made.output;
  EXPECT_TRUE(fs::exists(Path("slide/outs/filtered_feature_bc_matrix.h5")));
  EXPECT_TRUE(fs::exists(Path("slide/outs/spatial/tissue_positions_list.csv")));
  EXPECT_TRUE(fs::exists(Path("slide/ground_truth.json")));
  ExpectOneLineError(Run("synth-slide --spots 30 --out " + Path("slide")), "already holds files");

  // The image states no pixel size: it comes from the Visium spot diameter.
  const auto extracted = Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                             " --fraction 0.25 --seed 2 --genes 20 --patch-px 64 --normalize macenko --target " +
                             Path("target.png") + " --out " + Path("data.h5"));
  ASSERT_EQ(extracted.exitCode, 0) << extracted.output;
  EXPECT_NE(extracted.output.find("30 patches of 64 px at 1.75 um/px, 20 genes, 8 training / 22 test spots"),
            std::string::npos)
    << extracted.output;
  EXPECT_NE(extracted.output.find("pixel size 0.5 um from the spot data"), std::string::npos) << extracted.output;

  const auto inspected = Run("inspect " + Path("data.h5"));
  ASSERT_EQ(inspected.exitCode, 0) << inspected.output;
  EXPECT_NE(inspected.output.find("patch dataset: 30 patches of 64 x 64 px"), std::string::npos) << inspected.output;
  EXPECT_NE(inspected.output.find("split: 8 training, 22 test"), std::string::npos) << inspected.output;
  const auto slide = Run("inspect " + Path("slide/image.tif"));
  EXPECT_NE(slide.output.find("not stated"), std::string::npos) << slide.output;
  const auto outs = Run("inspect " + Path("slide/outs"));
  EXPECT_NE(outs.output.find("spots: 30"), std::string::npos) << outs.output;

  ExpectOneLineError(
    Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") + " --out " + Path("data.h5")),
    "--force");
  ExpectOneLineError(
    Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("nowhere") + " --out " + Path("other.h5")),
    "No such file");
  ExpectOneLineError(Run("extract --slide " + Path("source.png") + " --spots " + Path("slide/outs") +
                         " --pixel-size 0.5 --out " + Path("other.h5")),
                     "outside");
  EXPECT_FALSE(fs::exists(Path("other.h5")));
}

TEST_F(C2LCommandLine, SlideWithoutAnyPixelSizeAsksForIt)
{
  fs::create_directories(Path("table/counts"));
  fs::create_directories(Path("table/spots"));
  std::ofstream(Path("table/counts/c.tsv")) << "\tA\tB\n1x1\t3\t4\n";
  std::ofstream(Path("table/spots/s.tsv")) << "x\ty\tpixel_x\tpixel_y\n1\t1\t64\t64\n";
  ExpectOneLineError(
    Run("extract --slide " + Path("source.png") + " --spots " + Path("table") + " --out " + Path("t.h5")),
    "--pixel-size");
  const auto given = Run("extract --slide " + Path("source.png") + " --spots " + Path("table") +
                         " --pixel-size 0.5 --patch-px 32 --patch-um 16 --out " + Path("t.h5"));
  EXPECT_EQ(given.exitCode, 0) << given.output;
}


TEST_F(C2LCommandLine, AdaptThenSampleSyntheticPairs)
{
  // A tiny run of the whole local-adaptation path: slide, dataset, central model, local model,
  // synthetic pairs. (Sizes are toy: this checks the plumbing, not the quality.)
  ASSERT_EQ(Run("synth-slide --spots 24 --out " + Path("slide")).exitCode, 0);
  const auto extracted = Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                             " --patch-px 16 --patch-um 56 --genes 8 --fraction 0.5 --seed 1 --out " + Path("data.h5"));
  ASSERT_EQ(extracted.exitCode, 0) << extracted.output;
  const auto pretrained = Run("pretrain --data " + Path("data.h5") + " --out " + Path("central.safetensors") +
                              " --base-channels 8 --scales 2 --layers-per-block 1 --steps 2 --batch 4 --threads 1");
  ASSERT_EQ(pretrained.exitCode, 0) << pretrained.output;
  const auto adapted = Run("adapt --central " + Path("central.safetensors") + " --data " + Path("data.h5") + " --out " +
                           Path("local.safetensors") + " --steps 3 --batch 4 --grad-accum 1 --embed-dim 8 --threads 1");
  ASSERT_EQ(adapted.exitCode, 0) << adapted.output;
  EXPECT_NE(adapted.output.find("8 genes, 12 training spots"), std::string::npos) << adapted.output;
  EXPECT_NE(adapted.output.find("referenced by SHA-256"), std::string::npos) << adapted.output;

  const auto sampled = Run("sample --model " + Path("local.safetensors") + " --expression " + Path("data.h5") +
                           " --ratio 2 --steps 2 --threads 1 --out " + Path("synthetic.h5"));
  ASSERT_EQ(sampled.exitCode, 0) << sampled.output;
  EXPECT_NE(sampled.output.find("24 synthetic pairs (ratio 2, guidance 3)"), std::string::npos) << sampled.output;
  const auto inspected = Run("inspect " + Path("synthetic.h5"));
  EXPECT_NE(inspected.output.find("24 patches of 16 x 16"), std::string::npos) << inspected.output;
  EXPECT_NE(inspected.output.find("preprocessed genes: 8"), std::string::npos) << inspected.output;

  ExpectOneLineError(Run("sample --model " + Path("local.safetensors") + " --steps 2 --out " + Path("none")),
                     "--expression");
  ExpectOneLineError(Run("sample --model " + Path("central.safetensors") + " --expression " + Path("data.h5") +
                         " --steps 2 --out " + Path("none.h5")),
                     "central (unconditional)");
  ExpectOneLineError(Run("adapt --central " + Path("central.safetensors") + " --data " + Path("data.h5") + " --out " +
                         Path("local.safetensors") + " --steps 1"),
                     "--force");
  // A central model that is not the one adapted from is refused by its hash.
  std::filesystem::copy_file(Path("central.safetensors"), Path("central-copy.safetensors"));
  ASSERT_EQ(Run("pretrain --data " + Path("data.h5") + " --out " + Path("central.safetensors") +
                " --base-channels 8 --scales 2 --layers-per-block 1 --steps 2 --batch 4 --threads 1 --seed 7 --force")
              .exitCode,
            0);
  ExpectOneLineError(Run("sample --model " + Path("local.safetensors") + " --expression " + Path("data.h5") +
                         " --steps 2 --out " + Path("other.h5")),
                     "SHA-256");
  EXPECT_EQ(Run("sample --model " + Path("local.safetensors") + " --central " + Path("central-copy.safetensors") +
                " --expression " + Path("data.h5") + " --steps 2 --threads 1 --out " + Path("other.h5"))
              .exitCode,
            0);
}

} // namespace

TEST_F(C2LCommandLine, ImputeWritesPredictionsAndMetricsAndNeverOverwrites)
{
  const std::string section = std::string(SpatialTranscriptomics_SHARED_DATA_DIR) + "/her2st-C2";
  if (!fs::exists(section))
  {
    GTEST_SKIP() << "../shared/data/her2st-C2 is absent";
  }
  const auto run = Run("impute --spots " + section + " --genes 20 --phase upright --steps 20 --out " + Path("out"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const auto metrics = nlohmann::json::parse(FileBytes(Path("out/metrics.json")));
  EXPECT_EQ(metrics["split"], "upright");
  EXPECT_EQ(metrics["genes"].size(), 20u);
  std::set<std::string> methods;
  for (const auto & method : metrics["methods"])
  {
    methods.insert(method["method"].get<std::string>());
    EXPECT_GT(method["all_genes"]["positions"].get<int>(), 100); // three of four phases held out
  }
  EXPECT_EQ(methods,
            (std::set<std::string>{ "mean", "median", "knn", "gaussian", "bilinear", "cubic-bspline", "s2s-st" }));
  // One row per spot (187) and a header; 2 + 7 methods x 20 genes columns.
  const std::string table = FileBytes(Path("out/predictions.tsv"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 188);
  EXPECT_EQ(std::count(table.begin(), table.begin() + static_cast<std::ptrdiff_t>(table.find('\n')), '\t'), 1 + 7 * 20);
  // The same imputation as AnnData, opened by anndata itself: X is S2S-ST's, every method a layer,
  // and at the measured spots every method keeps the measured values (layers["truth"]).
  const std::string seenFile = Path("out/anndata.json");
  ASSERT_EQ(std::system((std::string(SpatialTranscriptomics_PYTHON) + " " + SpatialTranscriptomics_SOURCE_DIR +
                         "/test/data/read_h5ad_with_anndata.py " + Path("out/predictions.h5ad") + " > " + seenFile)
                          .c_str()),
            0);
  const auto seen = nlohmann::json::parse(FileBytes(seenFile));
  EXPECT_EQ(seen["shape"], nlohmann::json({ 187, 20 }));
  EXPECT_EQ(seen["uns"]["X_method"], "s2s-st");
  EXPECT_EQ(seen["uns"]["split"], "upright");
  EXPECT_EQ(seen["layers"].size(), 8u); // seven methods and the truth
  EXPECT_EQ(seen["X"], seen["layers"]["s2s-st"]);
  std::size_t measured = 0;
  for (std::size_t spot = 0; spot < 187; ++spot)
  {
    if (seen["obs"]["measured"][spot] == 1.0)
    {
      ++measured;
      EXPECT_EQ(seen["layers"]["knn"][spot], seen["layers"]["truth"][spot]) << "spot " << spot;
    }
  }
  // The TSV's "measured" column (the second) names the same spots.
  std::istringstream rows(table);
  std::string        row;
  std::getline(rows, row); // the header
  std::size_t measuredInTable = 0;
  while (std::getline(rows, row))
  {
    const auto first = row.find('\t');
    measuredInTable += row.compare(first + 1, 2, "1\t") == 0;
  }
  EXPECT_EQ(measured, measuredInTable);
  EXPECT_GT(measured, 30u); // one phase of four

  const std::string before = FileBytes(Path("out/metrics.json"));
  ExpectOneLineError(Run("impute --spots " + section + " --phase upleft --out " + Path("out")), "exists");
  EXPECT_EQ(FileBytes(Path("out/metrics.json")), before);
  ExpectOneLineError(Run("impute --spots " + section + " --phase upleft --fraction 0.25 --out " + Path("b")),
                     "exactly one");
  ExpectOneLineError(Run("impute --spots " + section + " --phase middle --out " + Path("c")), "phase");
}
