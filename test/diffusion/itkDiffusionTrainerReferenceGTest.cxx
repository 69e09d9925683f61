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

// The C++ trainer's optimizer steps against diffusers' training step transcribed in plain PyTorch
// (train_step_reference.py, run at test time by a Python with torch): from the same initial weights,
// batches, noise and timesteps, the losses, the updated weights and their EMA agree.

#include "itkDiffusionModelFile.h"
#include "itkDiffusionTestUtilities.h"
#include "itkDiffusionTrainer.h"
#include "itkSafeTensors.h"
#include "itkTrainStepReferenceOptions.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

#include <iostream>

namespace
{
using namespace itk::diffusion;

/** Largest absolute difference between same-named tensors of the trainer's and the reference's. */
double
MaxDifference(const std::vector<std::pair<std::string, torch::Tensor>> & ours,
              const itk::torchcore::SafeTensors & reference, const std::string & prefix)
{
  double largest = 0.0;
  for (const auto & [name, value] : ours)
  {
    const auto theirs = reference.Find(prefix + name);
    EXPECT_TRUE(theirs.defined()) << prefix + name;
    if (theirs.defined())
    {
      largest = std::max(largest, (value.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>());
    }
  }
  return largest;
}

/** Runs three optimizer steps of both trainers on a tiny U-Net and compares them. */
void
CompareWithDiffusers(const std::string & prediction, double snrGamma)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("trainer-reference-" + prediction);
  torch::manual_seed(11);
  UNet2D          unet(itk::DiffusionTest::TinyConfig());
  SchedulerConfig scheduler;
  scheduler.predictionType = prediction;
  SaveDiffusionModel((folder / "initial.safetensors").string(), unet, NoiseSchedule(scheduler));

  TrainerOptions options;
  options.batchSize = 4;
  options.learningRate = 1e-4;
  options.learningRateSchedule = "constant";
  options.snrGamma = snrGamma;
  options.gradientClip = 1.0;
  options.emaDecay = 0.999;
  const int steps = 3;

  // The batches: images in [-1, 1], noise, timesteps over the whole range.
  auto                        generator = at::make_generator<at::CPUGeneratorImpl>(3);
  std::vector<TrainingBatch>  batches;
  itk::torchcore::SafeTensors batchFile;
  for (int step = 0; step < steps; ++step)
  {
    TrainingBatch batch;
    batch.images = torch::rand({ 4, 3, 16, 16 }, generator) * 2 - 1;
    batch.noise = torch::randn({ 4, 3, 16, 16 }, generator);
    batch.timesteps = torch::tensor({ 0, 17, 480, 999 }, torch::kLong).roll(step);
    batchFile.tensors.emplace_back("images." + std::to_string(step), batch.images);
    batchFile.tensors.emplace_back("noise." + std::to_string(step), batch.noise);
    batchFile.tensors.emplace_back("timesteps." + std::to_string(step), batch.timesteps);
    batches.push_back(batch);
  }
  batchFile.metadata["options"] = itk::DiffusionTest::TrainStepReferenceOptions(options, scheduler, steps);
  itk::torchcore::WriteSafeTensors((folder / "batches.safetensors").string(), batchFile);
  const std::string command = std::string(DIFFUSION_PYTHON) + " " + DIFFUSION_TRAIN_STEP_SCRIPT + " " +
                              (folder / "initial.safetensors").string() + " " +
                              (folder / "batches.safetensors").string() + " " +
                              (folder / "reference.safetensors").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto reference = itk::torchcore::ReadSafeTensors((folder / "reference.safetensors").string());

  DiffusionTrainer trainer(unet, NoiseSchedule(scheduler), options);
  const auto       referenceLosses = reference.Find("loss");
  for (int step = 0; step < steps; ++step)
  {
    const double loss = trainer.Step(std::vector<TrainingBatch>{ batches[step] });
    const double expected = referenceLosses[step].item<double>();
    EXPECT_NEAR(loss, expected, 1e-5 * std::max(1.0, std::abs(expected))) << "step " << step;
  }
  // Adam's first steps move each weight by about the learning rate (1e-4) whatever its gradient:
  // agreement to 1e-5 says every update had the reference's size and sign.
  const double weights = MaxDifference(trainer.Model()->NamedWeights(), reference, "model.");
  const double averages = MaxDifference(trainer.EmaModel()->NamedWeights(), reference, "ema.");
  std::cout << prediction << ", gamma " << snrGamma << ": largest difference to the reference after " << steps
            << " steps: weights " << weights << ", EMA " << averages << std::endl;
  EXPECT_LE(weights, 1e-5);
  EXPECT_LE(averages, 1e-5);
  // The comparison can fail: the weights did move, by far more than the tolerance.
  const auto initial = itk::torchcore::ReadSafeTensors((folder / "initial.safetensors").string());
  EXPECT_GT(MaxDifference(trainer.Model()->NamedWeights(), initial, ""), 1e-4);
  std::filesystem::remove_all(folder);
}
} // namespace

TEST(DiffusionTrainerReference, StepsMatchDiffusersWithMinSnrEpsilon)
{
  CompareWithDiffusers("epsilon", 5.0);
}

TEST(DiffusionTrainerReference, StepsMatchDiffusersWithMinSnrVPrediction)
{
  CompareWithDiffusers("v_prediction", 5.0);
}

TEST(DiffusionTrainerReference, StepsMatchDiffusersWithoutMinSnr)
{
  CompareWithDiffusers("epsilon", 0.0);
}
