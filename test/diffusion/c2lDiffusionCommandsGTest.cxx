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

// c2l pretrain and c2l sample end to end on a tiny synthetic dataset, with their one-line errors.

#include "c2lTestHarness.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <unistd.h>

namespace
{
/** The `__metadata__` of a .safetensors file: its header is a little-endian 64-bit length, then JSON. */
nlohmann::json
SafeTensorsMetadata(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  unsigned char length[8] = {};
  in.read(reinterpret_cast<char *>(length), 8);
  std::uint64_t size = 0;
  for (int i = 7; i >= 0; --i)
  {
    size = size << 8 | length[i];
  }
  std::string header(static_cast<std::size_t>(size), '\0');
  in.read(header.data(), static_cast<std::streamsize>(size));
  return nlohmann::json::parse(header).value("__metadata__", nlohmann::json::object());
}

namespace fs = std::filesystem;

class C2LDiffusionCommands : public c2lTest::CommandFixture
{
protected:
  void
  SetUp() override
  {
    UseFolder(fs::path(DIFFUSION_TEST_OUTPUT) / ("c2l-diffusion-" + std::to_string(::getpid())));
  }
};
} // namespace

TEST_F(C2LDiffusionCommands, PretrainResumeAndSample)
{
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 3 --out " + Path("slide")).exitCode, 0);
  const auto extracted = Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                             " --genes 10 --patch-px 16 --out " + Path("data.h5"));
  ASSERT_EQ(extracted.exitCode, 0) << extracted.output;

  const std::string tiny =
    " --base-channels 16 --scales 2 --layers-per-block 1 --prediction epsilon --batch 4 --threads 1 --seed 1";
  const auto trained = Run("pretrain --data " + Path("data.h5") + " --out " + Path("m.safetensors") + tiny +
                           " --steps 4 --checkpoint-every 3 --loss-log " + Path("loss.tsv"));
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  EXPECT_NE(trained.output.find("trained 4 steps"), std::string::npos) << trained.output;
  EXPECT_TRUE(fs::exists(Path("m.safetensors.checkpoint")));
  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --out " + Path("other.safetensors") + tiny +
                         " --loss-log " + Path("loss.tsv")),
                     "--force");
  // Resumed from step 3: the log drops its line of step 4 and goes on to 6, as one run's log.
  const auto resumed = Run("pretrain --data " + Path("data.h5") + " --out " + Path("m.safetensors") + tiny +
                           " --steps 6 --checkpoint-every 2 --resume --loss-log " + Path("loss.tsv"));
  EXPECT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("trained 3 steps, to step 6"), std::string::npos) << resumed.output;
  std::istringstream log(FileBytes(Path("loss.tsv")));
  std::string        line;
  std::getline(log, line);
  EXPECT_EQ(line, "step\tloss\tlearning_rate\tseconds");
  double lastSeconds = 0.0;
  for (int expectedStep = 1; expectedStep <= 6; ++expectedStep)
  {
    ASSERT_TRUE(std::getline(log, line)) << "the log ends before step " << expectedStep;
    std::istringstream fields(line);
    int                step = 0;
    double             loss = 0.0, rate = 0.0, seconds = 0.0;
    ASSERT_TRUE(fields >> step >> loss >> rate >> seconds) << line;
    EXPECT_EQ(step, expectedStep) << line;
    EXPECT_GT(loss, 0.0) << line;
    EXPECT_GE(seconds, lastSeconds) << line;
    lastSeconds = seconds;
  }
  EXPECT_FALSE(std::getline(log, line)) << line;
  // Resuming a finished run trains nothing and says so (it reported a loss of 0 before).
  const auto finished = Run("pretrain --data " + Path("data.h5") + " --out " + Path("m.safetensors") + tiny +
                            " --steps 6 --checkpoint-every 2 --resume --loss-log " + Path("loss.tsv"));
  EXPECT_EQ(finished.exitCode, 0) << finished.output;
  EXPECT_NE(finished.output.find("already holds all 6 steps"), std::string::npos) << finished.output;

  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --out " + Path("m.safetensors") + tiny), "--force");
  ExpectOneLineError(
    Run("pretrain --data " + Path("data.h5") + " --out " + Path("n.safetensors") + tiny + " --image-size 32"),
    "patches but the model takes 32x32");
  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --out " + Path("n.safetensors") + tiny + " --resume"),
                     "does not exist");

  // Training continued from m: its architecture whatever the options say, m itself never the output.
  const auto continued =
    Run("pretrain --data " + Path("data.h5") + " --init " + Path("m.safetensors") + " --out " +
        Path("continued.safetensors") + " --base-channels 32 --scales 3 --steps 2 --batch 4 " + "--threads 1");
  ASSERT_EQ(continued.exitCode, 0) << continued.output;
  EXPECT_NE(continued.output.find("starting from " + Path("m.safetensors")), std::string::npos) << continued.output;
  EXPECT_EQ(SafeTensorsMetadata(Path("continued.safetensors")).value("initial_model", ""), "m.safetensors");
  const auto before = FileBytes(Path("m.safetensors"));
  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --init " + Path("m.safetensors") + " --out " +
                         Path("m.safetensors") + " --steps 2 --batch 4 --threads 1 --force"),
                     "m.safetensors");
  EXPECT_EQ(FileBytes(Path("m.safetensors")), before);
  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --init " + Path("m.safetensors") + " --out " +
                         Path("v.safetensors") + " --steps 2 --batch 4 --threads 1 --prediction v_prediction"),
                     "--prediction epsilon");

  const auto sampled =
    Run("sample --model " + Path("m.safetensors") + " --n 3 --steps 3 --threads 1 --out " + Path("samples"));
  ASSERT_EQ(sampled.exitCode, 0) << sampled.output;
  for (const char * name : { "sample_00000.png", "sample_00001.png", "sample_00002.png" })
  {
    EXPECT_TRUE(fs::exists(Path(std::string("samples/") + name))) << name;
  }
  // The same seed gives the same images whatever the batch size: each image's noise is its own. The
  // network's arithmetic may differ in the last bits between batch sizes, so pixels may differ by a level.
  ASSERT_EQ(Run("sample --model " + Path("m.safetensors") + " --n 3 --steps 3 --threads 1 --out " + Path("batch8.mha"))
              .exitCode,
            0);
  ASSERT_EQ(Run("sample --model " + Path("m.safetensors") + " --n 3 --steps 3 --batch 1 --threads 1 --out " +
                Path("batch1.mha"))
              .exitCode,
            0);
  const auto pixels = [this](const std::string & name) {
    const auto        bytes = FileBytes(Path(name));
    const std::string marker = "ElementDataFile = LOCAL\n";
    return bytes.substr(bytes.find(marker) + marker.size());
  };
  const auto batch8 = pixels("batch8.mha");
  const auto batch1 = pixels("batch1.mha");
  ASSERT_EQ(batch8.size(), 3u * 16 * 16 * 3);
  ASSERT_EQ(batch1.size(), batch8.size());
  int largest = 0;
  for (std::size_t i = 0; i < batch8.size(); ++i)
  {
    largest = std::max(
      largest, std::abs(int(static_cast<unsigned char>(batch8[i])) - int(static_cast<unsigned char>(batch1[i]))));
  }
  EXPECT_LE(largest, 1);
  ASSERT_EQ(Run("sample --model " + Path("m.safetensors") + " --n 2 --steps 2 --out " + Path("stack.mha")).exitCode, 0);
  EXPECT_TRUE(fs::exists(Path("stack.mha")));

  ExpectOneLineError(Run("sample --model " + Path("m.safetensors") + " --guidance 3 --out " + Path("g")),
                     "needs a conditioning");
  ExpectOneLineError(Run("sample --model " + Path("m.safetensors") + " --device tpu --out " + Path("d")),
                     "Unknown device");
  ExpectOneLineError(Run("sample --model " + Path("m.safetensors") + " --steps 0 --out " + Path("z")), "positive");
  ExpectOneLineError(Run("sample --model " + Path("absent.safetensors") + " --out " + Path("a")), "does not exist");
  std::ofstream(Path("bad.safetensors"), std::ios::binary) << "garbage bytes";
  ExpectOneLineError(Run("sample --model " + Path("bad.safetensors") + " --out " + Path("b")), "safetensors");
}

TEST_F(C2LDiffusionCommands, PretrainStartsFromARecipeThatTheOtherOptionsChange)
{
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 3 --out " + Path("slide")).exitCode, 0);
  ASSERT_EQ(Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                " --genes 10 --patch-px 16 --out " + Path("data.h5"))
              .exitCode,
            0);
  const auto settingsOf = [this](const std::string & model) {
    const auto metadata = SafeTensorsMetadata(Path(model));
    const auto unet = nlohmann::json::parse(metadata.value("unet_config", "{}"));
    const auto trainer = nlohmann::json::parse(metadata.value("trainer_options", "{}"));
    const auto scheduler = nlohmann::json::parse(metadata.value("scheduler_config", "{}"));
    return std::make_tuple(unet.value("block_out_channels", std::vector<int>()),
                           unet.value("layers_per_block", 0),
                           scheduler.value("prediction_type", std::string()),
                           trainer.value("learning_rate", 0.0),
                           trainer.value("total_steps", 0));
  };
  // By default the CPU recipe (PretrainingSettings::CPURecipe), with --steps and --batch changed.
  const auto cpu = Run("pretrain --data " + Path("data.h5") + " --out " + Path("cpu.safetensors") +
                       " --steps 1 --batch 2 --threads 1");
  ASSERT_EQ(cpu.exitCode, 0) << cpu.output;
  EXPECT_EQ(settingsOf("cpu.safetensors"),
            std::make_tuple(std::vector<int>{ 32, 64, 128 }, 1, std::string("v_prediction"), 5e-4, 1));
  // The paper's recipe, one option away; options change it wherever they stand on the line.
  const auto paper = Run("pretrain --data " + Path("data.h5") + " --out " + Path("paper.safetensors") +
                         " --lr 1e-3 --base-channels 16 --recipe paper --steps 1 --batch 2 --threads 1");
  ASSERT_EQ(paper.exitCode, 0) << paper.output;
  EXPECT_EQ(settingsOf("paper.safetensors"),
            std::make_tuple(std::vector<int>{ 16, 32, 64, 64 }, 2, std::string("epsilon"), 1e-3, 1));
  ExpectOneLineError(Run("pretrain --data " + Path("data.h5") + " --out " + Path("x.safetensors") + " --recipe gpu"),
                     "--recipe");

  // Continuing a model takes its prediction type unless --prediction asks for one.
  ASSERT_EQ(Run("pretrain --data " + Path("data.h5") + " --out " + Path("v.safetensors") +
                " --recipe paper --base-channels 8 --scales 2 --layers-per-block 1 --prediction v_prediction --steps 1 "
                "--batch 2 --threads 1")
              .exitCode,
            0);
  const auto continued = Run("pretrain --data " + Path("data.h5") + " --init " + Path("v.safetensors") + " --out " +
                             Path("v2.safetensors") + " --steps 1 --batch 2 --threads 1");
  ASSERT_EQ(continued.exitCode, 0) << continued.output;
  EXPECT_EQ(nlohmann::json::parse(SafeTensorsMetadata(Path("v2.safetensors")).value("scheduler_config", "{}"))
              .value("prediction_type", ""),
            "v_prediction");
}

TEST_F(C2LDiffusionCommands, DiffusersFoldersServeAsCentralModels)
{
  // The folders diffusers v0.21 writes (UNet2DModel and DDPMPipeline), made by the fixture script.
  ASSERT_EQ(std::system((std::string(DIFFUSION_PYTHON) + " " + DIFFUSION_REFERENCE_SCRIPT + " " + Path("diffusers") +
                         " > /dev/null")
                          .c_str()),
            0);
  const std::string modelFolder = Path("diffusers/default_model");
  const std::string pipelineFolder = Path("diffusers/default_pipeline");
  for (const auto & folder : { modelFolder, pipelineFolder + "/" })
  {
    const auto sampled =
      Run("sample --model " + folder + " --n 2 --steps 2 --threads 1 --out " + Path("s.mha") + " --force");
    ASSERT_EQ(sampled.exitCode, 0) << sampled.output;
  }

  // c2l adapt on the pipeline folder: the local model references it by the folder's identity.
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 3 --out " + Path("slide")).exitCode, 0);
  const auto extracted = Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                             " --genes 8 --patch-px 16 --patch-um 56 --fraction 0.5 --seed 1 --out " + Path("data.h5"));
  ASSERT_EQ(extracted.exitCode, 0) << extracted.output;
  const auto adapted = Run("adapt --central " + pipelineFolder + " --data " + Path("data.h5") + " --out " +
                           Path("local.safetensors") + " --steps 2 --batch 4 --grad-accum 1 --embed-dim 8 --threads 1");
  ASSERT_EQ(adapted.exitCode, 0) << adapted.output;
  EXPECT_NE(adapted.output.find("referenced by SHA-256"), std::string::npos) << adapted.output;
  const auto synthetic =
    Run("sample --model " + Path("local.safetensors") + " --central " + pipelineFolder + " --expression " +
        Path("data.h5") + " --ratio 1 --steps 2 --threads 1 --out " + Path("synthetic.h5"));
  ASSERT_EQ(synthetic.exitCode, 0) << synthetic.output;
  // The model folder holds the same U-Net without the pipeline's scheduler: another central model.
  ExpectOneLineError(Run("sample --model " + Path("local.safetensors") + " --central " + modelFolder +
                         " --expression " + Path("data.h5") + " --steps 2 --out " + Path("other.h5")),
                     "SHA-256");

  // c2l run with the folder as its central model: no pretraining stage, adaptation on the folder.
  const nlohmann::json config = {
    { "output", "run" },
    { "slide", "slide/image.tif" },
    { "spots", "slide/outs" },
    { "central_model", "diffusers/default_pipeline" },
    { "threads", 1 },
    { "ratios", { 1 } },
    { "extraction", { { "patch_px", 16 }, { "patch_um", 56 }, { "genes", 8 }, { "fraction", 0.5 }, { "seed", 1 } } },
    { "adaptation", { { "steps", 2 }, { "batch", 4 }, { "grad_accum", 1 }, { "embed_dim", 8 } } },
    { "synthesis", { { "steps", 2 }, { "batch", 16 } } },
    { "regressor", { { "depth", 18 }, { "steps", 2 }, { "batch", 8 } } },
    { "evaluation", { { "clusters", 2 }, { "map_genes", 1 } } },
    { "imputation", { { "enabled", false } } }
  };
  std::ofstream(Path("pipeline.json")) << config.dump(2);
  const auto run = Run("run --config " + Path("pipeline.json"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_TRUE(fs::exists(Path("run/local.safetensors")));
  EXPECT_FALSE(fs::exists(Path("run/central.safetensors")));
  EXPECT_TRUE(fs::exists(Path("run/evaluation/evaluation.json")));
  // The imputation off: no fold regressor, no imputation rows.
  EXPECT_FALSE(fs::exists(Path("run/regressor_real_fold0.safetensors")));
  EXPECT_TRUE(
    nlohmann::json::parse(FileBytes(Path("run/evaluation/evaluation.json")))["imputation"]["predictors"].empty());

  // Paths that are not model files: one line each, never a crash.
  fs::create_directories(Path("empty"));
  ExpectOneLineError(Run("sample --model " + Path("empty") + " --out " + Path("e")), "neither a diffusers model");
  ExpectOneLineError(Run("sample --model /dev/null --out " + Path("e")), "is a device");
  ExpectOneLineError(Run("adapt --central " + Path("empty") + " --data " + Path("data.h5") + " --out " +
                         Path("local2.safetensors") + " --steps 1"),
                     "neither a diffusers model");
}
