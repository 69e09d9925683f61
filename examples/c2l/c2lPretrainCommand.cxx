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

// c2l pretrain: trains the central (unconditional) diffusion model on the patches of one or more
// patch datasets, with atomic checkpoints and exact resumption; data parallel across processes and
// machines when started by c2l launch, torchrun or any launcher that sets torchrun's variables.

#include "c2lCommands.h"
#include "c2lStepRunner.h"

#include <iostream>
#include <memory>
#include <sstream>

namespace c2l
{

namespace
{
/** "(recipe cpu A, paper B)" for one setting of the two recipes, so the help follows the code. */
template <typename TValue>
std::string
RecipeValues(TValue itk::PretrainingSettings::*field)
{
  std::ostringstream text;
  text << "(recipe cpu " << itk::PretrainingSettings::CPURecipe().*field << ", paper "
       << itk::PretrainingSettings::PaperRecipe().*field << ")";
  return text.str();
}
} // namespace

void
AddPretrainCommand(CLI::App & app)
{
  using Settings = itk::PretrainingSettings;
  auto options = std::make_shared<itk::PretrainingStepSettings>();
  options->Training = Settings::CPURecipe();
  auto * command = app.add_subcommand("pretrain", DescriptionOf("pretrain"));
  // Defined first: CLI11 applies options in the order they are defined, so the recipe is set before
  // the options below change single settings of it.
  command
    ->add_option_function<std::string>(
      "--recipe",
      [options](const std::string & recipe) {
        options->Training = recipe == "paper" ? Settings::PaperRecipe() : Settings::CPURecipe();
      },
      "Starting settings, which the options below change: cpu (default; measured on 2 CPU cores, "
      "Documentation/CentralModel.md) or paper (the paper's, for GPUs)")
    ->check(CLI::IsMember({ "cpu", "paper" }));
  command
    ->add_option("--data", options->Data, "Patch datasets (.h5, as written by c2l extract, or HEST-1k patch files)")
    ->required();
  command->add_option("--out", options->Output, "Model file to write (.safetensors)")->required();
  command->add_option("--init",
                      options->InitialModel,
                      "Continue training this central model (its U-Net, schedule and, unless --prediction is given, "
                      "prediction type; --base-channels, --scales and --layers-per-block are then not used)");
  command->add_option("--image-size", options->Training.ImageSize, "Patch side in pixels (default: the datasets')");
  command->add_option("--base-channels",
                      options->Training.BaseChannels,
                      "U-Net width at full resolution " + RecipeValues(&Settings::BaseChannels));
  command->add_option("--scales",
                      options->Training.NumberOfScales,
                      "U-Net scales " + RecipeValues(&Settings::NumberOfScales) + "; attention at the two coarsest");
  command->add_option("--layers-per-block",
                      options->Training.LayersPerBlock,
                      "ResNet blocks per scale " + RecipeValues(&Settings::LayersPerBlock));
  command->add_option(
    "--steps", options->Training.NumberOfSteps, "Optimizer steps " + RecipeValues(&Settings::NumberOfSteps));
  command->add_option(
    "--batch", options->Training.BatchSize, "Patches per micro-batch " + RecipeValues(&Settings::BatchSize));
  command->add_option("--grad-accum",
                      options->Training.GradientAccumulation,
                      "Micro-batches per optimizer step " + RecipeValues(&Settings::GradientAccumulation));
  command->add_option("--lr",
                      options->Training.LearningRate,
                      "Peak learning rate of AdamW " + RecipeValues(&Settings::LearningRate) +
                        "; cosine after warm-up");
  command->add_option("--warmup",
                      options->Training.WarmupFraction,
                      "Warm-up as a fraction of the steps " + RecipeValues(&Settings::WarmupFraction));
  command->add_option(
    "--ema", options->Training.EmaDecay, "EMA decay of the weights, every step " + RecipeValues(&Settings::EmaDecay));
  command->add_option("--snr-gamma",
                      options->Training.SnrGamma,
                      "Min-SNR-gamma loss weighting " + RecipeValues(&Settings::SnrGamma) + "; 0 = off");
  command->add_option("--prediction",
                      options->Training.PredictionType,
                      "epsilon or v_prediction " + RecipeValues(&Settings::PredictionType));
  command->add_option(
    "--checkpoint", options->Training.CheckpointFileName, "Checkpoint file (default: OUT.checkpoint)");
  command->add_option(
    "--checkpoint-every", options->Training.CheckpointInterval, "Write a checkpoint every N steps (0 = never)");
  command->add_option("--loss-log", options->LossLog, "Write the training curve here (TSV: step, loss, lr, seconds)");
  command->add_option("--snapshot-every",
                      options->SnapshotInterval,
                      "Also write the model every N steps, as OUT-step-N.safetensors (default: never)");
  command->add_option("--schedule",
                      options->Training.Schedule,
                      "Learning rate after warm-up: cosine or constant " + RecipeValues(&Settings::Schedule));
  command->add_flag("--half-precision", options->HalfPrecision, "Store the model's weights as float16 (half the size)");
  command->add_flag(
    "--resume", options->Training.Resume, "Continue from the checkpoint (ends as an uninterrupted run would)");
  command->add_option("--device", options->Training.Device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", options->Threads, "CPU threads (default: all cores)");
  command->add_option("--seed", options->Training.Seed, "Random seed (default 0)");
  command->add_flag("--force", options->Force, "Replace an existing model file");
  auto rendezvousFile = std::make_shared<std::string>();
  auto timeout = std::make_shared<double>(itk::DataParallelSettings{}.TimeoutSeconds);
  command->add_option("--rendezvous-file",
                      *rendezvousFile,
                      "Data parallel: the ranks meet through this new file (one machine or a shared filesystem) "
                      "instead of MASTER_ADDR:MASTER_PORT");
  command->add_option("--collective-timeout",
                      *timeout,
                      "Data parallel: seconds a rank waits for the others before failing (default 120)");
  command->callback([options, rendezvousFile, timeout, command]() {
    // Continuing a model: its prediction type unless one is asked for (which must then be its own).
    options->PredictionTypeOfInitialModel = command->count("--prediction") == 0;
    // Data parallel when a launcher (c2l launch, torchrun, a SLURM script) set RANK and WORLD_SIZE.
    options->DataParallel = itk::DataParallelSettings::FromEnvironment();
    options->DataParallel.RendezvousFile = *rendezvousFile;
    options->DataParallel.TimeoutSeconds = *timeout;
    // Every rank reports, but only rank 0 draws a progress bar.
    const auto runner = options->DataParallel.Rank == 0 ? StepRunnerWithProgressBar() : itk::MethodStepRunner::New();
    std::cout << runner->Pretrain(*options);
  });
}

} // namespace c2l
