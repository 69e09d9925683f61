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

// TrainerLossCurve INITIAL.safetensors PATCHES.safetensors OUT_DIR [STEPS] [BATCH] [LR] [SEED] [THREADS]
// A longer run of the C++ trainer, recorded so that the same run can be repeated by diffusers'
// training step transcribed in PyTorch (test/diffusion/train_step_reference.py): from INITIAL's
// weights, on PATCHES ("patches", uint8 [N, 3, H, W]), the trainer draws each step's batch as
// pretraining does (patch choice, flips and turns, noise, timesteps from its seeded generator) and
// trains on it; every batch goes to OUT_DIR/batches.safetensors for the reference, and the losses,
// seconds per step, final weights and EMA to OUT_DIR/cpp.safetensors. Constant learning rate (the
// reference has no schedule), min-SNR 5, clipping 1, EMA 0.999, epsilon prediction as INITIAL's
// schedule says. run_trainer_loss_curve.sh runs both and compare_loss_curves.py compares them.

#include "itkDiffusionModelFile.h"
#include "itkDiffusionTrainer.h"
#include "itkSafeTensors.h"
#include "itkTrainStepReferenceOptions.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

int
main(int argc, char * argv[])
{
  using namespace itk;
  if (argc < 4)
  {
    std::cerr << "usage: " << argv[0]
              << " INITIAL.safetensors PATCHES.safetensors OUT_DIR [STEPS] [BATCH] [LR] [SEED] [THREADS]\n";
    return 2;
  }
  try
  {
    const std::filesystem::path out = argv[3];
    const std::int64_t          steps = argc > 4 ? std::stoll(argv[4]) : 500;
    diffusion::TrainerOptions   options;
    options.batchSize = argc > 5 ? std::stoll(argv[5]) : 8;
    options.learningRate = argc > 6 ? std::stod(argv[6]) : 2e-4;
    options.seed = argc > 7 ? std::stoull(argv[7]) : 0;
    options.learningRateSchedule = "constant";
    options.warmupSteps = 0;
    options.totalSteps = steps;
    options.snrGamma = 5.0;
    options.gradientClip = 1.0;
    options.emaDecay = 0.999;
    options.augment = true;
    torch::set_num_threads(argc > 8 ? std::stoi(argv[8]) : 1);

    auto       initial = diffusion::LoadDiffusionModel(argv[1]);
    const auto patches = torchcore::ReadSafeTensors(argv[2]).Find("patches");
    if (!patches.defined() || patches.scalar_type() != torch::kUInt8 || patches.dim() != 4)
    {
      throw std::runtime_error(std::string(argv[2]) + " has no uint8 tensor \"patches\" [N, 3, H, W]");
    }
    const diffusion::TensorPatchSource source(patches);
    const auto                         scheduler = initial.schedule->Config();
    if (scheduler.betaSchedule != "linear")
    {
      throw std::runtime_error("the reference implements linear betas only; " + std::string(argv[1]) + " has " +
                               scheduler.betaSchedule);
    }
    diffusion::DiffusionTrainer trainer(initial.unet, initial.schedule, options);

    torchcore::SafeTensors batches;
    std::vector<double>    losses;
    std::vector<double>    seconds;
    for (std::int64_t step = 0; step < steps; ++step)
    {
      const auto start = std::chrono::steady_clock::now();
      const auto batch = trainer.DrawBatch(source);
      losses.push_back(trainer.Step(std::vector<diffusion::TrainingBatch>{ batch }));
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      batches.tensors.emplace_back("images." + std::to_string(step), batch.images);
      batches.tensors.emplace_back("noise." + std::to_string(step), batch.noise);
      batches.tensors.emplace_back("timesteps." + std::to_string(step), batch.timesteps);
      if ((step + 1) % 50 == 0)
      {
        std::cerr << "step " << step + 1 << " loss " << losses.back() << std::endl;
      }
    }
    batches.metadata["options"] = DiffusionTest::TrainStepReferenceOptions(options, scheduler, steps);
    torchcore::WriteSafeTensors((out / "batches.safetensors").string(), batches);

    torchcore::SafeTensors result;
    result.tensors.emplace_back("loss", torch::tensor(losses, torch::kFloat64));
    result.tensors.emplace_back("seconds", torch::tensor(seconds, torch::kFloat64));
    for (const auto & [name, value] : trainer.Model()->NamedWeights())
    {
      result.tensors.emplace_back("model." + name, value.detach().clone());
    }
    for (const auto & [name, value] : trainer.EmaModel()->NamedWeights())
    {
      result.tensors.emplace_back("ema." + name, value.detach().clone());
    }
    torchcore::WriteSafeTensors((out / "cpp.safetensors").string(), result);
  }
  catch (const std::exception & e)
  {
    std::cerr << argv[0] << ": " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
