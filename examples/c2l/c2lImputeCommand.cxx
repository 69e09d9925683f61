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

// c2l impute: S2S-ST on one section, against the spatial baselines.

#include "c2lCommands.h"

#include "itkAtomicFile.h"
#include "itkSpatialDataReader.h"
#include "itkSpatialImputationEvaluation.h"

#include <filesystem>
#include <iostream>
#include <thread>

namespace c2l
{
namespace
{
struct ImputeOptions
{
  std::string   Spots;
  unsigned int  Genes{ 250 };
  double        Fraction{ 0.0 };
  std::string   Phase;
  std::uint32_t Seed{ 0 };
  std::string   Output;
  std::string   NaturalImages;
  unsigned int  Steps{ 400 };
  std::string   Device{ "cpu" };
  unsigned int  Threads{ 0 };
  bool          BaselinesOnly{ false };
};

void
Impute(const ImputeOptions & o)
{
  namespace fs = std::filesystem;
  const fs::path predictionsFile = fs::path(o.Output) / "predictions.tsv";
  const fs::path metricsFile = fs::path(o.Output) / "metrics.json";
  const fs::path annDataFile = fs::path(o.Output) / "predictions.h5ad";
  for (const auto & file : { predictionsFile, metricsFile, annDataFile })
  {
    if (fs::exists(file))
    {
      itkGenericExceptionMacro(<< file.string() << " exists: choose another --out folder (nothing is overwritten)");
    }
  }
  const auto                        spots = itk::SpatialDataReader::Read(o.Spots);
  const auto                        grid = itk::SpotGrid::FromSpots(*spots);
  const auto                        split = itk::ImputationSplit::Make(grid, o.Fraction, o.Phase, o.Seed);
  itk::ImputationEvaluationSettings settings;
  settings.Genes.TopGenes = o.Genes;
  auto filter = itk::SparseToSparseImputationFilter::New();
  filter->SetNumberOfSteps(o.Steps);
  filter->SetSeed(o.Seed);
  filter->SetDevice(o.Device);
  filter->SetNumberOfThreads(o.Threads > 0 ? o.Threads : std::max(1u, std::thread::hardware_concurrency()));
  if (!o.NaturalImages.empty())
  {
    filter->SetNaturalImages(itk::SparseToSparseImputationFilter::ReadNaturalImages(o.NaturalImages));
  }
  std::cout << "section: " << spots->GetNumberOfSpots() << " spots on a " << grid.Size[0] << " x " << grid.Size[1]
            << " grid (" << grid.Source << "); split " << split.Name << std::endl;
  const auto evaluation =
    itk::ImputationEvaluation::Evaluate(*spots, grid, split, settings, o.BaselinesOnly ? nullptr : filter.GetPointer());
  fs::create_directories(o.Output);
  itk::AtomicFile::Write(predictionsFile.string(), evaluation.PredictionsToTSV(spots->GetSpotIds()), "the predictions");
  itk::AtomicFile::Write(metricsFile.string(), evaluation.ToJSON(), "the metrics");
  evaluation.WriteAnnData(annDataFile.string(), *spots);
  std::cout << "method\tmae\tpearson\tpearson (" << evaluation.MostVariable.size() << " most variable)\tssim\n";
  for (const auto & method : evaluation.Methods)
  {
    std::cout << method.Method << '\t' << method.AllGenes.HeldOut.MeanAbsoluteError << '\t'
              << method.AllGenes.HeldOut.MeanPearson << '\t' << method.MostVariableGenes.HeldOut.MeanPearson << '\t'
              << method.AllGenes.MeanSSIM << '\n';
  }
  std::cout << "wrote " << predictionsFile.string() << ", " << annDataFile.string() << " and " << metricsFile.string()
            << std::endl;
}
} // namespace

void
AddImputeCommand(CLI::App & app)
{
  auto   o = std::make_shared<ImputeOptions>();
  auto * command = app.add_subcommand("impute", DescriptionOf("impute"));
  command->add_option("--spots", o->Spots, "Spots and counts: a count-table folder, Visium outs/, .h5ad or HEST folder")
    ->required();
  command->add_option("--genes", o->Genes, "Genes: the top N by mean over the measured spots (default 250)");
  command->add_option("--fraction", o->Fraction, "Measure a random share of the spots, e.g. 0.25 (C2L-ST's protocol)");
  command->add_option("--phase", o->Phase, "Measure one stride-2 phase: upleft, upright, downleft, downright");
  command->add_option("--seed", o->Seed, "Seed of the split and of the network (default 0)");
  command
    ->add_option(
      "--out", o->Output, "Folder for predictions.tsv, predictions.h5ad and metrics.json (never overwritten)")
    ->required();
  command->add_option("--natural-images", o->NaturalImages, "A folder of photographs for co-learning (optional)");
  command->add_option("--steps", o->Steps, "Training steps of the network (default 400)");
  command->add_option("--device", o->Device, "cpu, cuda or cuda:N");
  command->add_option("--threads", o->Threads, "CPU threads (default: all cores)");
  command->add_flag("--baselines-only", o->BaselinesOnly, "Run the spatial baselines only");
  command->callback([o]() { Impute(*o); });
}

} // namespace c2l
