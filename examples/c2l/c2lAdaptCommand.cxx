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

// c2l adapt: a central model and a lab's paired dataset in, the local gene-conditioned model out.

#include "c2lCommands.h"
#include "c2lSteps.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkGeneConditionedAdaptFilter.h"
#include "itkTimeProbe.h"

#include <iostream>
#include <memory>
#include <sstream>

namespace c2l
{

void
RunAdapt(const AdaptOptions & o)
{
  RequireWritable(o.out, o.force || (o.resume && !o.checkpoint.empty()), o.central);
  auto central = itk::DiffusionModel::New();
  central->Load(o.central);
  const auto dataset = itk::SpotPatchDataset::Read(o.data);

  auto filter = itk::GeneConditionedAdaptFilter::New();
  filter->SetCentralModel(central);
  filter->SetDataset(dataset);
  filter->SetOutputFileName(o.out);
  filter->SetNumberOfSteps(o.steps);
  filter->SetBatchSize(o.batch);
  filter->SetGradientAccumulation(o.gradientAccumulation);
  filter->SetLearningRate(o.learningRate);
  filter->SetConditionDropout(o.conditionDropout);
  filter->SetGeneDropout(o.geneDropout);
  filter->SetEmbeddingSize(o.embeddingSize);
  std::vector<std::string> blocks;
  std::istringstream       list(o.blocks);
  for (std::string block; std::getline(list, block, ',');)
  {
    if (!block.empty())
    {
      blocks.push_back(block);
    }
  }
  filter->SetBlocks(blocks);
  filter->SetSeed(o.seed);
  filter->SetDevice(o.device);
  filter->SetNumberOfTorchThreads(o.threads);
  filter->SetCheckpointFileName(o.checkpoint);
  filter->SetCheckpointInterval(o.checkpointEvery);
  filter->SetResume(o.resume);
  filter->SetEmbedCentralModel(o.embedCentral);
  auto progress = ProgressBar::New();
  progress->Watch(filter, "adapt");
  itk::TimeProbe clock;
  clock.Start();
  filter->Update();
  clock.Stop();
  const auto * local = filter->GetOutput();
  std::cout << "wrote " << o.out << ": " << local->GetNumberOfGenes() << " genes, "
            << filter->GetNumberOfTrainingSpots() << " training spots, " << local->GetNumberOfAdapterParameters()
            << " trained adapter parameters (the frozen U-Net has " << local->GetNumberOfUNetParameters()
            << "), final loss " << filter->GetFinalLoss() << ", " << clock.GetTotal() << " s; central model "
            << (o.embedCentral ? "embedded" : "referenced by SHA-256 " + local->GetCentralSHA256()) << std::endl;
}

void
AddAdaptCommand(CLI::App & app)
{
  auto   o = std::make_shared<AdaptOptions>();
  auto * command = app.add_subcommand("adapt",
                                      "Adapt a central diffusion model to a lab's paired spots (gene FiLM "
                                      "modulation of the frozen U-Net)");
  command->add_option("--central", o->central, "Central model (.safetensors written by c2l pretrain)")->required();
  command->add_option("--data", o->data, "Paired dataset (.h5 written by c2l extract; its training spots are used)")
    ->required();
  command->add_option("--out", o->out, "Local model file to write")->required();
  command->add_option("--steps", o->steps, "Optimizer steps (default 10000)")->check(CLI::PositiveNumber);
  command->add_option("--batch", o->batch, "Batch size (default 32)")->check(CLI::PositiveNumber);
  command->add_option("--grad-accum", o->gradientAccumulation, "Gradient accumulation (default 8)")
    ->check(CLI::PositiveNumber);
  command->add_option("--lr", o->learningRate, "Peak learning rate (default 1e-4; 3% warm-up)")
    ->check(CLI::PositiveNumber);
  command->add_option("--cond-dropout", o->conditionDropout, "Conditional dropout probability (default 0.1)")
    ->check(CLI::Range(0.0, 0.99));
  command->add_option("--gene-dropout", o->geneDropout, "Per-gene dropout probability (default 0)")
    ->check(CLI::Range(0.0, 0.99));
  command->add_option("--blocks", o->blocks, "ResNet blocks to modulate, comma-separated (default: all)");
  command->add_option("--embed-dim", o->embeddingSize, "Gene embedding size (default 64)")->check(CLI::PositiveNumber);
  command->add_option("--seed", o->seed, "Seed (default 0)");
  command->add_option("--device", o->device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", o->threads, "CPU threads (default: all cores)");
  command->add_option("--checkpoint", o->checkpoint, "Checkpoint file (written atomically)");
  command->add_option("--checkpoint-every", o->checkpointEvery, "Steps between checkpoints (default: none)");
  command->add_flag("--resume", o->resume, "Continue from --checkpoint if it exists");
  command->add_flag("--embed-central", o->embedCentral, "Carry the central model in the local file");
  command->add_flag("--force", o->force, "Replace the output if it exists");
  command->callback([o]() { RunAdapt(*o); });
}

} // namespace c2l
