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
// patch datasets, with atomic checkpoints and exact resumption.

#include "c2lCommands.h"
#include "c2lSteps.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkDiffusionPretrainFilter.h"
#include "itkSpotPatchDataset.h"

#include <iostream>
#include <memory>

namespace c2l
{

void
RunPretrain(const PretrainOptions & o)
{
  // Every refusal comes before any work.
  RequireWritable(o.out, o.force || o.resume);
  if (!o.lossLog.empty())
  {
    RequireWritable(o.lossLog, o.force || o.resume);
  }
  const std::string checkpoint = o.checkpoint.empty() ? o.out + ".checkpoint" : o.checkpoint;
  if (o.resume && !PathExists(checkpoint))
  {
    itkGenericExceptionMacro(<< "--resume: the checkpoint " << checkpoint
                             << " does not exist (a run writes one with --checkpoint-every N)");
  }
  auto         filter = itk::DiffusionPretrainFilter::New();
  unsigned int imageSize = o.imageSize;
  for (const auto & path : o.data)
  {
    const auto dataset = itk::SpotPatchDataset::Read(path);
    const auto size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
    if (imageSize == 0)
    {
      imageSize = static_cast<unsigned int>(size[0]);
    }
    if (size[0] != imageSize || size[1] != imageSize)
    {
      itkGenericExceptionMacro(<< path << " has " << size[0] << "x" << size[1] << " patches but the model takes "
                               << imageSize << "x" << imageSize
                               << ": use datasets of one patch size (or --image-size to match them)");
    }
    filter->AddPatches(dataset->GetPatches());
    std::cout << "read " << size[2] << " patches of " << size[0] << "x" << size[1] << " from " << path << std::endl;
  }
  filter->SetImageSize(imageSize);
  filter->SetBaseChannels(o.baseChannels);
  filter->SetNumberOfScales(o.scales);
  filter->SetLayersPerBlock(o.layers);
  filter->SetNumberOfSteps(o.steps);
  filter->SetBatchSize(o.batch);
  filter->SetGradientAccumulation(o.gradAccum);
  filter->SetLearningRate(o.lr);
  filter->SetWarmupFraction(o.warmup);
  filter->SetEmaDecay(o.ema);
  filter->SetSnrGamma(o.snrGamma);
  filter->SetPredictionType(o.prediction);
  filter->SetCheckpointFileName(checkpoint);
  filter->SetLossLogFileName(o.lossLog);
  filter->SetHalfPrecisionOutput(o.halfPrecision);
  filter->SetCheckpointInterval(o.checkpointEvery);
  filter->SetResume(o.resume);
  filter->SetDevice(o.device);
  filter->SetNumberOfTorchThreads(o.threads);
  filter->SetSeed(o.seed);
  filter->SetOutputFileName(o.out);
  auto progress = ProgressBar::New();
  progress->Watch(filter, "pretrain");
  filter->Update();
  if (filter->GetStepsTrained() == 0)
  {
    std::cout << "the checkpoint already holds all " << o.steps << " steps: nothing to train; wrote " << o.out
              << std::endl;
    return;
  }
  std::cout << "trained " << filter->GetStepsTrained() << " steps, to step " << o.steps << " (last loss "
            << filter->GetLastLoss() << "); wrote " << o.out << std::endl;
}


void
AddPretrainCommand(CLI::App & app)
{
  auto   options = std::make_shared<PretrainOptions>();
  auto * command = app.add_subcommand("pretrain", "Pretrain the central diffusion model on patch datasets");
  command
    ->add_option("--data", options->data, "Patch datasets (.h5, as written by c2l extract, or HEST-1k patch files)")
    ->required();
  command->add_option("--out", options->out, "Model file to write (.safetensors)")->required();
  command->add_option("--image-size", options->imageSize, "Patch side in pixels (default: the datasets')");
  command->add_option("--base-channels", options->baseChannels, "U-Net width at full resolution (default 64)");
  command->add_option("--scales", options->scales, "U-Net scales (default 4; attention at the two coarsest)");
  command->add_option("--layers-per-block", options->layers, "ResNet blocks per scale (default 2)");
  command->add_option("--steps", options->steps, "Optimizer steps (default 1000)");
  command->add_option("--batch", options->batch, "Patches per micro-batch (default 16)");
  command->add_option("--grad-accum", options->gradAccum, "Micro-batches per optimizer step (default 1)");
  command->add_option("--lr", options->lr, "Peak learning rate of AdamW (default 1e-4; cosine after warm-up)");
  command->add_option("--warmup", options->warmup, "Warm-up as a fraction of the steps (default 0.03)");
  command->add_option("--ema", options->ema, "EMA decay of the weights, every step (default 0.999)");
  command->add_option("--snr-gamma", options->snrGamma, "Min-SNR-gamma loss weighting (default 5; 0 = off)");
  command->add_option("--prediction", options->prediction, "epsilon (default) or v_prediction");
  command->add_option("--checkpoint", options->checkpoint, "Checkpoint file (default: OUT.checkpoint)");
  command->add_option("--checkpoint-every", options->checkpointEvery, "Write a checkpoint every N steps (0 = never)");
  command->add_option("--loss-log", options->lossLog, "Write the training curve here (TSV: step, loss, lr, seconds)");
  command->add_flag("--half-precision", options->halfPrecision, "Store the model's weights as float16 (half the size)");
  command->add_flag("--resume", options->resume, "Continue from the checkpoint (ends as an uninterrupted run would)");
  command->add_option("--device", options->device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  command->add_option("--seed", options->seed, "Random seed (default 0)");
  command->add_flag("--force", options->force, "Replace an existing model file");
  command->callback([options]() { RunPretrain(*options); });
}

} // namespace c2l
