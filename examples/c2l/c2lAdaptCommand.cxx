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
#include "c2lStepRunner.h"

#include <iostream>
#include <memory>

namespace c2l
{

void
AddAdaptCommand(CLI::App & app)
{
  auto   o = std::make_shared<itk::AdaptationStepSettings>();
  auto * command = app.add_subcommand("adapt", DescriptionOf("adapt"));
  command->add_option("--central", o->Central, "Central model (.safetensors written by c2l pretrain)")->required();
  command->add_option("--data", o->Data, "Paired dataset (.h5 written by c2l extract; its training spots are used)")
    ->required();
  command->add_option("--out", o->Output, "Local model file to write")->required();
  command->add_option("--steps", o->Training.NumberOfSteps, "Optimizer steps (default 10000)")
    ->check(CLI::PositiveNumber);
  command->add_option("--batch", o->Training.BatchSize, "Batch size (default 32)")->check(CLI::PositiveNumber);
  command->add_option("--grad-accum", o->Training.GradientAccumulation, "Gradient accumulation (default 8)")
    ->check(CLI::PositiveNumber);
  command->add_option("--lr", o->Training.LearningRate, "Peak learning rate (default 1e-4; 3% warm-up)")
    ->check(CLI::PositiveNumber);
  command->add_option("--cond-dropout", o->Training.ConditionDropout, "Conditional dropout probability (default 0.1)")
    ->check(CLI::Range(0.0, 0.99));
  command->add_option("--gene-dropout", o->Training.GeneDropout, "Per-gene dropout probability (default 0)")
    ->check(CLI::Range(0.0, 0.99));
  command->add_option("--blocks", o->Training.Blocks, "ResNet blocks to modulate, comma-separated (default: all)")
    ->delimiter(',');
  command
    ->add_option("--max-colour-difference",
                 o->Training.MaximumColourDifference,
                 "Refuse patches whose mean R, G or B differs from the central model's training patches' by more "
                 "grey levels (default 0: never; the difference is reported either way)")
    ->check(CLI::Range(0.0, 255.0));
  command->add_option("--embed-dim", o->Training.EmbeddingSize, "Gene embedding size (default 64)")
    ->check(CLI::PositiveNumber);
  command->add_option("--seed", o->Training.Seed, "Seed (default 0)");
  command->add_option("--device", o->Training.Device, "cpu (default), cuda or cuda:N");
  command->add_option("--threads", o->Threads, "CPU threads (default: all cores)");
  command->add_option("--checkpoint", o->Training.CheckpointFileName, "Checkpoint file (written atomically)");
  command->add_option(
    "--checkpoint-every", o->Training.CheckpointInterval, "Steps between checkpoints (default: none)");
  command->add_flag("--resume", o->Training.Resume, "Continue from --checkpoint (ends as an uninterrupted run would)");
  command->add_flag("--embed-central", o->EmbedCentral, "Carry the central model in the local file");
  command->add_flag("--force", o->Force, "Replace the output if it exists");
  command->callback([o]() { std::cout << StepRunnerWithProgressBar()->Adapt(*o); });
}

} // namespace c2l
