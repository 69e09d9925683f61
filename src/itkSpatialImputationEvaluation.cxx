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
#include "itkSpatialImputationEvaluation.h"

#include "itkAnnDataWriter.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <sstream>

namespace itk
{
namespace
{
double
SecondsSince(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** Genes by decreasing variance over the measured spots. */
std::vector<std::size_t>
MostVariableGenes(const SpatialExpressionData & data, const std::vector<std::size_t> & measured, std::size_t count)
{
  const std::size_t   genes = data.GetPreprocessing().Genes.size();
  const auto &        expression = data.GetExpression();
  std::vector<double> variance(genes, 0.0);
  for (std::size_t gene = 0; gene < genes; ++gene)
  {
    double sum = 0.0, squares = 0.0;
    for (const std::size_t spot : measured)
    {
      const double value = expression[spot * genes + gene];
      sum += value;
      squares += value * value;
    }
    const double n = static_cast<double>(measured.size());
    variance[gene] = squares / n - (sum / n) * (sum / n);
  }
  std::vector<std::size_t> order(genes);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return variance[a] > variance[b]; });
  order.resize(std::min(count, genes));
  return order;
}

std::vector<std::string>
Names(const std::vector<std::string> & genes, const std::vector<std::size_t> & indices)
{
  std::vector<std::string> names;
  for (const std::size_t index : indices)
  {
    names.push_back(genes[index]);
  }
  return names;
}
} // namespace

ImputationSplit
ImputationSplit::MakePhase(const SpotGrid & grid, const std::string & phase)
{
  const auto      parity = SpotGrid::StrideTwoPhase(phase);
  ImputationSplit split;
  split.Name = phase;
  for (const auto & index : grid.SpotIndex)
  {
    split.Measured.push_back(index[0] % 2 == parity[0] && index[1] % 2 == parity[1] ? 1 : 0);
  }
  return split;
}

ImputationSplit
ImputationSplit::Make(const SpotGrid & grid, double fraction, const std::string & phase, std::uint32_t seed)
{
  if ((fraction > 0.0) == !phase.empty())
  {
    itkGenericExceptionMacro(<< "Give exactly one of a fraction (a random share of the spots measured; c2l: "
                                "--fraction) and a phase (one stride-2 phase measured; c2l: --phase)");
  }
  return phase.empty() ? ImputationSplit::MakeRandom(grid.SpotIndex.size(), fraction, seed)
                       : ImputationSplit::MakePhase(grid, phase);
}

ImputationSplit
ImputationSplit::MakeRandom(std::size_t spots, double fraction, std::uint32_t seed)
{
  ImputationSplit split;
  split.Name = "random " + std::to_string(fraction) + " seed " + std::to_string(seed);
  split.Measured = SpatialExpressionData::RandomSplit(spots, fraction, seed);
  return split;
}

ImputationEvaluationSettings::ImputationEvaluationSettings()
  : Baselines(SpatialImputationBaselines::All())
{}

ImputationEvaluation
ImputationEvaluation::Evaluate(const SpatialExpressionData & spots, const SpotGrid & grid,
                               const ImputationSplit & split, const ImputationEvaluationSettings & settings,
                               SparseToSparseImputationFilter * imputation)
{
  const std::size_t count = spots.GetNumberOfSpots();
  if (split.Measured.size() != count || grid.SpotIndex.size() != count)
  {
    itkGenericExceptionMacro(<< "The split (" << split.Measured.size() << " spots) and the grid ("
                             << grid.SpotIndex.size() << ") must cover the section's " << count << " spots");
  }
  std::vector<std::size_t> measured, heldOut, all(count);
  std::iota(all.begin(), all.end(), 0);
  for (std::size_t spot = 0; spot < count; ++spot)
  {
    (split.Measured[spot] != 0 ? measured : heldOut).push_back(spot);
  }
  if (measured.empty() || heldOut.empty())
  {
    itkGenericExceptionMacro(<< "The split \"" << split.Name << "\" measures " << measured.size() << " and holds out "
                             << heldOut.size() << " spots: an evaluation needs both");
  }
  // A private copy: the split and the preprocessing fitted on the measured spots.
  auto data = spots.SelectSpots(all);
  data->SetSplit(split.Measured);
  data->Preprocess(settings.Genes);

  ImputationEvaluation evaluation;
  evaluation.Split = split;
  evaluation.Genes = data->GetPreprocessing().Genes;
  evaluation.MostVariable = MostVariableGenes(*data, measured, settings.MostVariableGenes);
  evaluation.Preprocessing = data->GetPreprocessing().ToJSON();
  const auto truth = SpotGrid::MakeGeneImage(*data, grid);
  evaluation.Truth = SpotGrid::SpotsFromGeneImage(*truth, grid);
  const auto measuredMask = SpotGrid::MakeGridMask(grid, measured);
  const auto heldOutMask = SpotGrid::MakeGridMask(grid, heldOut);
  const auto knownMask = SpotGrid::MakeGridMask(grid, all);
  const auto mostVariableNames = Names(evaluation.Genes, evaluation.MostVariable);

  auto measure = [&](const std::string & method, double parameter, double seconds, const GeneImageType & imputed) {
    ImputationMethodResult result;
    result.Method = method;
    result.Parameter = parameter;
    result.Seconds = seconds;
    result.AllGenes = ImputationMetrics::Compute(*truth, imputed, *heldOutMask, *knownMask, {}, evaluation.Genes);
    result.MostVariableGenes =
      ImputationMetrics::Compute(*truth, imputed, *heldOutMask, *knownMask, evaluation.MostVariable, mostVariableNames);
    result.SpotValues = SpotGrid::SpotsFromGeneImage(imputed, grid);
    evaluation.Methods.push_back(std::move(result));
  };

  const bool lattice = SpatialImputationBaselines::IsStrideTwoPhaseMask(*measuredMask);
  for (const auto baseline : settings.Baselines)
  {
    if (!lattice && (baseline == SpatialBaseline::Bilinear || baseline == SpatialBaseline::CubicBSpline))
    {
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto result = SpatialImputationBaselines::Impute(baseline, *truth, *measuredMask, grid);
    measure(SpatialImputationBaselines::Name(baseline), result.Parameter, SecondsSince(start), *result.Imputed);
  }
  if (imputation != nullptr)
  {
    const auto start = std::chrono::steady_clock::now();
    imputation->SetInput(truth);
    imputation->SetMeasuredMask(measuredMask);
    imputation->SetTargetMask(knownMask);
    imputation->Update();
    measure("s2s-st", imputation->GetFinalLoss(), SecondsSince(start), *imputation->GetOutput());
  }
  return evaluation;
}

void
ImputationEvaluation::WriteAnnData(const std::string & fileName, const SpatialExpressionData & spots) const
{
  const std::size_t count = Split.Measured.size();
  if (spots.GetNumberOfSpots() != count || Methods.empty())
  {
    itkGenericExceptionMacro(<< "WriteAnnData: the evaluation covers " << count << " spots with " << Methods.size()
                             << " methods, the spots given are " << spots.GetNumberOfSpots()
                             << "; give the section that was evaluated");
  }
  const auto s2s =
    std::find_if(Methods.begin(), Methods.end(), [](const ImputationMethodResult & m) { return m.Method == "s2s-st"; });
  const auto & shown = s2s != Methods.end() ? *s2s : Methods.front();
  auto         writer = AnnDataWriter::New();
  writer->SetFileName(fileName);
  std::vector<AnnDataWriter::PositionType> positions;
  for (const auto & p : spots.GetPixelPositions())
  {
    positions.push_back({ { p[0], p[1] } });
  }
  writer->SetSpots(spots.GetSpotIds(), positions);
  writer->SetGenes(Genes);
  writer->SetValues(shown.SpotValues);
  for (const auto & method : Methods)
  {
    writer->SetLayer(method.Method, method.SpotValues);
  }
  writer->SetLayer("truth", Truth);
  writer->SetSpotColumn("measured", std::vector<double>(Split.Measured.begin(), Split.Measured.end()));
  writer->SetText("gene_preprocessing", Preprocessing);
  writer->SetText("split", Split.Name);
  writer->SetText("X_method", shown.Method);
  writer->Write();
}

std::string
ImputationEvaluation::ToJSON() const
{
  nlohmann::json json;
  json["split"] = Split.Name;
  json["genes"] = Genes;
  json["most_variable_genes"] = nlohmann::json::array();
  for (const std::size_t index : MostVariable)
  {
    json["most_variable_genes"].push_back(Genes[index]);
  }
  json["methods"] = nlohmann::json::array();
  for (const auto & method : Methods)
  {
    json["methods"].push_back({ { "method", method.Method },
                                { "parameter", method.Parameter },
                                { "seconds", method.Seconds },
                                { "all_genes", nlohmann::json::parse(method.AllGenes.ToJSON()) },
                                { "most_variable_genes", nlohmann::json::parse(method.MostVariableGenes.ToJSON()) } });
  }
  return json.dump(2);
}

std::string
ImputationEvaluation::PredictionsToTSV(const std::vector<std::string> & spotIds) const
{
  if (spotIds.size() != Split.Measured.size())
  {
    itkGenericExceptionMacro(<< spotIds.size() << " spot ids for an evaluation of " << Split.Measured.size()
                             << " spots");
  }
  std::ostringstream table;
  table << "spot\tmeasured";
  for (const auto & method : Methods)
  {
    for (const auto & gene : Genes)
    {
      table << '\t' << method.Method << ':' << gene;
    }
  }
  table << '\n';
  const std::size_t genes = Genes.size();
  for (std::size_t spot = 0; spot < spotIds.size(); ++spot)
  {
    table << spotIds[spot] << '\t' << int(Split.Measured[spot]);
    for (const auto & method : Methods)
    {
      for (std::size_t gene = 0; gene < genes; ++gene)
      {
        table << '\t' << method.SpotValues(spot, gene);
      }
    }
    table << '\n';
  }
  return table.str();
}

} // end namespace itk
