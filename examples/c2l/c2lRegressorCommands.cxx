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
// c2l train-regressor and c2l predict: the gene regressor on real (+ synthetic) pairs, and its
// predictions at a dataset's spots (with the metrics where the dataset knows the truth).

#include "c2lCommands.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"
#include "c2lRegressorPredictions.h"
#include "c2lSteps.h"

#include "itkGeneRegressorTrainFilter.h"
#include "itkSpotPatchDataset.h"
#include "itkTimeProbe.h"

#include <iostream>
#include <memory>

namespace c2l
{

void
RunTrainRegressor(const TrainRegressorOptions & o)
{
  RequireWritable(o.out, o.force || o.resume, o.data);
  const std::string checkpoint = o.checkpoint.empty() ? o.out + ".checkpoint" : o.checkpoint;
  if (o.resume && !PathExists(checkpoint))
  {
    itkGenericExceptionMacro(<< "--resume: the checkpoint " << checkpoint
                             << " does not exist (a run writes one with --checkpoint-every N)");
  }
  const auto real = itk::SpotPatchDataset::Read(o.data);
  auto       filter = itk::GeneRegressorTrainFilter::New();
  filter->SetRealDataset(real);
  itk::SpotPatchDataset::Pointer synthetic;
  if (!o.synthetic.empty())
  {
    synthetic = itk::SpotPatchDataset::Read(o.synthetic);
    if (o.syntheticPairs > 0)
    {
      if (o.syntheticPairs > synthetic->GetNumberOfPatches())
      {
        itkGenericExceptionMacro(<< o.synthetic << " holds " << synthetic->GetNumberOfPatches()
                                 << " synthetic pairs, fewer than the " << o.syntheticPairs << " asked for");
      }
      synthetic = synthetic->Select(FirstRows(o.syntheticPairs));
    }
    filter->SetSyntheticDataset(synthetic);
  }
  filter->SetOutputFileName(o.out);
  filter->SetDepth(o.depth);
  filter->SetBackboneFileName(o.backbone);
  filter->SetNumberOfSteps(o.steps);
  filter->SetBatchSize(o.batch);
  filter->SetLearningRate(o.learningRate);
  filter->SetWeightDecay(o.weightDecay);
  filter->SetWarmupFraction(o.warmup);
  filter->SetLoss(o.loss);
  filter->SetSyntheticFraction(o.syntheticFraction);
  filter->SetAugment(!o.noAugment);
  filter->SetSeed(o.seed);
  filter->SetDevice(o.device);
  filter->SetNumberOfTorchThreads(o.threads);
  // A checkpoint only when asked for (the trainer writes a final one whenever it has a file name).
  filter->SetCheckpointFileName(o.checkpointEvery > 0 || o.resume ? checkpoint : std::string());
  filter->SetCheckpointInterval(o.checkpointEvery);
  filter->SetResume(o.resume);
  auto progress = ProgressBar::New();
  progress->Watch(filter, "train-regressor");
  itk::TimeProbe clock;
  clock.Start();
  filter->Update();
  clock.Stop();
  std::cout << "wrote " << o.out << ": ResNet-" << o.depth << " over " << filter->GetOutput()->GetNumberOfGenes()
            << " genes, trained " << o.steps << " steps on " << filter->GetNumberOfRealPairs() << " real + "
            << filter->GetNumberOfSyntheticPairs() << " synthetic pairs (last loss " << filter->GetFinalLoss()
            << ") in " << clock.GetTotal() << " s" << std::endl;
}

void
RunPredict(const PredictOptions & o)
{
  RequireWritable(o.out, o.force, o.data);
  if (!o.metrics.empty())
  {
    RequireWritable(o.metrics, o.force, o.data);
    if (o.countScale)
    {
      itkGenericExceptionMacro(<< "--metrics compares on the preprocessed scale; leave out --counts");
    }
  }
  auto model = itk::GeneRegressorModel::New();
  model->Load(o.model);
  const auto dataset = itk::SpotPatchDataset::Read(o.data);
  const auto predictions = PredictSpots(*model, *dataset, o.spots, o.countScale, o.batch, o.device, o.threads);
  WritePredictionTable(predictions, o.out);
  std::cout << "wrote " << o.out << ": " << predictions.SpotIds.size() << " spots x " << predictions.Genes.size()
            << " genes (" << (o.countScale ? "counts per target sum" : "preprocessed scale") << ")" << std::endl;
  if (!o.metrics.empty())
  {
    const auto metrics = EvaluatePredictions(predictions, *dataset, model->GetGenePreprocessing());
    metrics.WriteJSONFile(o.metrics);
    std::cout << "MAE " << metrics.MeanAbsoluteError << ", RMSE " << metrics.RootMeanSquaredError << ", mean Pearson "
              << metrics.MeanPearson << " over " << predictions.SpotIds.size() << " spots; wrote " << o.metrics
              << std::endl;
  }
}

void
AddRegressorCommands(CLI::App & app)
{
  auto   t = std::make_shared<TrainRegressorOptions>();
  auto * train = app.add_subcommand("train-regressor",
                                    "Train the gene regressor (ResNet) on real pairs, optionally with synthetic pairs");
  train->add_option("--data", t->data, "Real pairs: a dataset (.h5 from c2l extract; its training spots)")->required();
  train->add_option("--synthetic", t->synthetic, "Synthetic pairs (.h5 from c2l sample --expression)");
  train->add_option("--synthetic-pairs", t->syntheticPairs, "Use only the first N synthetic pairs (default: all)");
  train->add_option("--out", t->out, "Regressor file to write (.safetensors)")->required();
  train->add_option("--depth", t->depth, "ResNet depth: 18, 34 or 50 (default 50)")
    ->check(CLI::IsMember({ 18u, 34u, 50u }));
  train->add_option("--backbone", t->backbone, "torchvision weights of that depth converted to .safetensors");
  train->add_option("--steps", t->steps, "Optimizer steps (default 1000)")->check(CLI::PositiveNumber);
  train->add_option("--batch", t->batch, "Batch size (default 32)")->check(CLI::PositiveNumber);
  train->add_option("--lr", t->learningRate, "Peak learning rate (default 1e-4; cosine after 5% warm-up)")
    ->check(CLI::PositiveNumber);
  train->add_option("--weight-decay", t->weightDecay, "AdamW weight decay (default 0.01)")
    ->check(CLI::NonNegativeNumber);
  train->add_option("--warmup", t->warmup, "Warm-up as a fraction of the steps (default 0.05)")
    ->check(CLI::Range(0.0, 1.0));
  train->add_option("--loss", t->loss, "mae (default) or mse")->check(CLI::IsMember({ "mae", "mse" }));
  train
    ->add_option("--synthetic-fraction",
                 t->syntheticFraction,
                 "Probability that a batch element is synthetic, 0 to 1 (default: proportional to the pairs)")
    ->check(CLI::Range(0.0, 1.0));
  train->add_flag("--no-augment", t->noAugment, "No random flips and 90-degree turns");
  train->add_option("--seed", t->seed, "Seed (default 0)");
  train->add_option("--device", t->device, "cpu (default), cuda or cuda:N");
  train->add_option("--threads", t->threads, "CPU threads (default: all cores)");
  train->add_option("--checkpoint", t->checkpoint, "Checkpoint file (default: OUT.checkpoint)");
  train->add_option("--checkpoint-every", t->checkpointEvery, "Write a checkpoint every N steps (0 = never)");
  train->add_flag("--resume", t->resume, "Continue from the checkpoint (ends as an uninterrupted run would)");
  train->add_flag("--force", t->force, "Replace an existing regressor file");
  train->callback([t]() { RunTrainRegressor(*t); });

  auto   p = std::make_shared<PredictOptions>();
  auto * predict = app.add_subcommand("predict", "Predict expression at a dataset's spots with a gene regressor");
  predict->add_option("--model", p->model, "Regressor (.safetensors from c2l train-regressor)")->required();
  predict->add_option("--data", p->data, "Dataset (.h5) whose patches to predict from")->required();
  predict->add_option("--spots", p->spots, "test (default: the held-out spots), train or all")
    ->check(CLI::IsMember({ "test", "train", "all" }));
  predict->add_flag("--counts", p->countScale, "Counts per target sum instead of the preprocessed scale");
  predict->add_option("--batch", p->batch, "Patches per batch (default 64)")->check(CLI::PositiveNumber);
  predict->add_option("--device", p->device, "cpu (default), cuda or cuda:N");
  predict->add_option("--threads", p->threads, "CPU threads (default: all cores)");
  predict->add_option("--out", p->out, "Predictions (TSV: spot, then one column per gene)")->required();
  predict->add_option("--metrics", p->metrics, "Also write MAE, RMSE, Pearson and Spearman against the truth (JSON)");
  predict->add_flag("--force", p->force, "Replace existing outputs");
  predict->callback([p]() { RunPredict(*p); });
}

} // namespace c2l
