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

// predictions at a dataset's spots (with the metrics where the dataset knows the truth).

#include "c2lCommands.h"
#include "c2lStepRunner.h"

#include <iostream>
#include <memory>

namespace c2l
{

void
AddRegressorCommands(CLI::App & app)
{
  auto   t = std::make_shared<itk::RegressorTrainingStepSettings>();
  auto * train = app.add_subcommand("train-regressor", DescriptionOf("train-regressor"));
  train->add_option("--data", t->Data, "Real pairs: a dataset (.h5 from c2l extract; its training spots)")->required();
  train->add_option("--synthetic", t->Synthetic, "Synthetic pairs (.h5 from c2l sample --expression)");
  train->add_option("--synthetic-pairs", t->SyntheticPairs, "Use only the first N synthetic pairs (default: all)");
  train->add_option("--out", t->Output, "Regressor file to write (.safetensors)")->required();
  train->add_option("--depth", t->Training.Depth, "ResNet depth: 18, 34 or 50 (default 50)")
    ->check(CLI::IsMember({ 18u, 34u, 50u }));
  train->add_option(
    "--backbone", t->Training.BackboneFileName, "torchvision weights of that depth converted to .safetensors");
  train->add_option("--steps", t->Training.NumberOfSteps, "Optimizer steps (default 1000)")->check(CLI::PositiveNumber);
  train->add_option("--batch", t->Training.BatchSize, "Batch size (default 32)")->check(CLI::PositiveNumber);
  train->add_option("--lr", t->Training.LearningRate, "Peak learning rate (default 1e-4; cosine after 5% warm-up)")
    ->check(CLI::PositiveNumber);
  train->add_option("--weight-decay", t->Training.WeightDecay, "AdamW weight decay (default 0.01)")
    ->check(CLI::NonNegativeNumber);
  train->add_option("--warmup", t->Training.WarmupFraction, "Warm-up as a fraction of the steps (default 0.05)")
    ->check(CLI::Range(0.0, 1.0));
  train->add_option("--loss", t->Training.Loss, "mae (default) or mse")->check(CLI::IsMember({ "mae", "mse" }));
  train
    ->add_option("--synthetic-fraction",
                 t->Training.SyntheticFraction,
                 "Probability that a batch element is synthetic, 0 to 1 (default: proportional to the pairs)")
    ->check(CLI::Range(0.0, 1.0));
  train->add_flag_callback(
    "--no-augment", [t]() { t->Training.Augment = false; }, "No random flips and 90-degree turns");
  train->add_option("--seed", t->Training.Seed, "Seed (default 0)");
  train->add_option("--device", t->Training.Device, "cpu (default), cuda or cuda:N");
  train->add_option("--threads", t->Threads, "CPU threads (default: all cores)");
  train->add_option("--checkpoint", t->Training.CheckpointFileName, "Checkpoint file (default: OUT.checkpoint)");
  train->add_option(
    "--checkpoint-every", t->Training.CheckpointInterval, "Write a checkpoint every N steps (0 = never)");
  train->add_flag("--resume", t->Training.Resume, "Continue from the checkpoint (ends as an uninterrupted run would)");
  train->add_flag("--force", t->Force, "Replace an existing regressor file");
  train->callback([t]() { std::cout << StepRunnerWithProgressBar()->TrainRegressor(*t); });

  auto   p = std::make_shared<itk::PredictionStepSettings>();
  auto * predict = app.add_subcommand("predict", DescriptionOf("predict"));
  predict->add_option("--model", p->Model, "Regressor (.safetensors from c2l train-regressor)")->required();
  predict->add_option("--data", p->Data, "Dataset (.h5) whose patches to predict from")->required();
  predict->add_option("--spots", p->Spots, "test (default: the held-out spots), train or all")
    ->check(CLI::IsMember({ "test", "train", "all" }));
  predict->add_flag("--counts", p->CountScale, "Counts per target sum instead of the preprocessed scale");
  predict->add_option("--batch", p->Batch, "Patches per batch (default 64)")->check(CLI::PositiveNumber);
  predict->add_option("--device", p->Device, "cpu (default), cuda or cuda:N");
  predict->add_option("--threads", p->Threads, "CPU threads (default: all cores)");
  predict
    ->add_option("--out",
                 p->Output,
                 "Predictions: a TSV (spot, then one column per gene), or with a .h5ad name an AnnData file "
                 "(X, obsm['spatial'], the dataset's expression as layers['truth'] where it knows it)")
    ->required();
  predict->add_option("--metrics", p->Metrics, "Also write MAE, RMSE, Pearson and Spearman against the truth (JSON)");
  predict->add_flag("--force", p->Force, "Replace existing outputs");
  predict->callback([p]() { std::cout << StepRunnerWithProgressBar()->Predict(*p); });
}

} // namespace c2l
