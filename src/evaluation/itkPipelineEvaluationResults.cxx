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
#include "itkPipelineEvaluationResults.h"

#include "itkAtomicFile.h"
#include "itkFileChecks.h"
#include "itkJsonNumbers.h"
#include "itkMacro.h"

#include <nlohmann/json.hpp>

namespace itk
{
namespace
{
using nlohmann::json;

/** \p object[key], or an error naming the key when it is absent. */
const json &
Required(const json & object, const char * key, const char * where)
{
  const auto found = object.find(key);
  if (found == object.end())
  {
    itkGenericExceptionMacro(<< "The evaluation results have no \"" << key << "\" in " << where
                             << "; is this an evaluation.json written by PipelineEvaluation?");
  }
  return *found;
}

std::vector<double>
NumbersOrNaN(const json & values)
{
  std::vector<double> numbers;
  for (const auto & v : values)
  {
    numbers.push_back(NumberOrNaN(v));
  }
  return numbers;
}

/** One regressor's (or spatial predictor's) entry. */
json
PredictorToJSON(const RegressorEvaluation & r)
{
  json entry{ { "label", r.Label },
              { "ratio", r.Ratio },
              { "control", r.Control },
              { "file", r.File },
              { "mae", JsonNumber(r.MeanAbsoluteError) },
              { "rmse", JsonNumber(r.RootMeanSquaredError) },
              { "mean_pearson", JsonNumber(r.MeanPearson) },
              { "mean_spearman", JsonNumber(r.MeanSpearman) },
              { "gene_mae", JsonNumbers(r.GeneMeanAbsoluteError) },
              { "gene_pearson", JsonNumbers(r.GenePearson) } };
  if (r.GenesImproved >= 0)
  {
    entry["genes_improved"] = static_cast<std::size_t>(r.GenesImproved);
  }
  return entry;
}

RegressorEvaluation
PredictorFromJSON(const json & r)
{
  RegressorEvaluation entry;
  entry.Label = Required(r, "label", "a regressor");
  entry.Ratio = Required(r, "ratio", "a regressor");
  entry.Control = r.value("control", false);
  entry.File = r.value("file", "");
  entry.MeanAbsoluteError = NumberOrNaN(Required(r, "mae", "a regressor"));
  entry.RootMeanSquaredError = NumberOrNaN(Required(r, "rmse", "a regressor"));
  entry.MeanPearson = NumberOrNaN(Required(r, "mean_pearson", "a regressor"));
  entry.MeanSpearman = NumberOrNaN(Required(r, "mean_spearman", "a regressor"));
  entry.GeneMeanAbsoluteError = NumbersOrNaN(r.value("gene_mae", json::array()));
  entry.GenePearson = NumbersOrNaN(r.value("gene_pearson", json::array()));
  entry.GenesImproved = r.contains("genes_improved") ? r["genes_improved"].get<int>() : -1;
  return entry;
}
} // namespace

std::vector<RegressorEvaluation>
PipelineEvaluationResults::Predictors() const
{
  std::vector<RegressorEvaluation> all(Regressors);
  all.insert(all.end(), Imputation.begin(), Imputation.end());
  return all;
}

std::string
PipelineEvaluationResults::ToJSON() const
{
  json regressors = json::array();
  for (const auto & r : Regressors)
  {
    regressors.push_back(PredictorToJSON(r));
  }
  json imputation = json::array();
  for (const auto & r : Imputation)
  {
    imputation.push_back(PredictorToJSON(r));
  }
  json maps = json::array();
  for (const auto & m : Maps)
  {
    maps.push_back(
      { { "gene", m.Gene }, { "truth", m.Truth }, { "real_only", m.RealOnly }, { "cotrained", m.Cotrained } });
  }
  json measures = json::array();
  for (const auto & m : SampleMeasures)
  {
    measures.push_back({ { "patches", m.Patches },
                         { "classifier_auc", JsonNumber(m.ClassifierAUC) },
                         { "real_nuclei_per_patch", JsonNumber(m.RealNucleiPerPatch) },
                         { "nuclei_per_patch", JsonNumber(m.NucleiPerPatch) },
                         { "real_gradient_energy", JsonNumber(m.RealGradientEnergy) },
                         { "gradient_energy", JsonNumber(m.GradientEnergy) } });
  }
  json composition = json::array();
  for (const auto & c : Composition)
  {
    composition.push_back({ { "cluster", c.Cluster },
                            { "real_spots", c.RealSpots },
                            { "synthetic_pairs", c.SyntheticPairs },
                            { "real_nuclear_fraction", JsonNumber(c.RealNuclearFraction) },
                            { "real_nuclear_fraction_sd", JsonNumber(c.RealNuclearFractionSD) },
                            { "synthetic_nuclear_fraction", JsonNumber(c.SyntheticNuclearFraction) },
                            { "synthetic_nuclear_fraction_sd", JsonNumber(c.SyntheticNuclearFractionSD) },
                            { "real_examples", c.RealExamples },
                            { "synthetic_examples", c.SyntheticExamples } });
  }
  const json root{
    { "training_spots", TrainingSpots },
    { "test_spots", TestSpots },
    { "synthetic_pairs", SyntheticPairs },
    { "genes", GeneNames.size() },
    { "regressors", regressors },
    { "gene_names", GeneNames },
    { "mean_baseline",
      { { "mae", JsonNumber(MeanBaselineAbsoluteError) }, { "rmse", JsonNumber(MeanBaselineRootMeanSquaredError) } } },
    { "imputation",
      { { "predictors", imputation },
        { "combination_weights", JsonNumbers(CombinationWeights) },
        { "grid", ImputationGrid },
        { "seconds", JsonNumber(ImputationSeconds) } } },
    { "spatial", { { "x", SpatialX }, { "y", SpatialY }, { "maps", maps }, { "cotrained_label", CotrainedLabel } } },
    { "fidelity",
      { { "feature_size", FeatureSize },
        { "synthetic_nearest_cosine", JsonNumber(SyntheticNearestCosine) },
        { "test_nearest_cosine", JsonNumber(TestNearestCosine) },
        { "synthetic_frechet", JsonNumber(SyntheticFrechet) },
        { "test_frechet", JsonNumber(TestFrechet) },
        { "embedding",
          { { "x", EmbeddingX },
            { "y", EmbeddingY },
            { "group", EmbeddingGroup },
            { "explained", { EmbeddingExplainedVariance[0], EmbeddingExplainedVariance[1] } } } } } },
    { "sample_measures", measures },
    { "composition", composition },
    { "nuclear_threshold", NuclearThreshold }
  };
  return root.dump(1);
}

PipelineEvaluationResults
PipelineEvaluationResults::Parse(const std::string & text)
{
  PipelineEvaluationResults results;
  try
  {
    const json root = json::parse(text);
    results.TrainingSpots = Required(root, "training_spots", "the top level");
    results.TestSpots = Required(root, "test_spots", "the top level");
    results.SyntheticPairs = Required(root, "synthetic_pairs", "the top level");
    results.GeneNames = Required(root, "gene_names", "the top level").get<std::vector<std::string>>();
    for (const auto & r : Required(root, "regressors", "the top level"))
    {
      results.Regressors.push_back(PredictorFromJSON(r));
    }
    const json baseline = root.value("mean_baseline", json::object());
    results.MeanBaselineAbsoluteError = NumberOrNaN(baseline.value("mae", json()));
    results.MeanBaselineRootMeanSquaredError = NumberOrNaN(baseline.value("rmse", json()));
    const json imputation = root.value("imputation", json::object());
    for (const auto & r : imputation.value("predictors", json::array()))
    {
      results.Imputation.push_back(PredictorFromJSON(r));
    }
    results.CombinationWeights = NumbersOrNaN(imputation.value("combination_weights", json::array()));
    results.ImputationGrid = imputation.value("grid", "");
    results.ImputationSeconds = NumberOrNaN(imputation.value("seconds", json()));

    const json & spatial = Required(root, "spatial", "the top level");
    results.SpatialX = NumbersOrNaN(Required(spatial, "x", "\"spatial\""));
    results.SpatialY = NumbersOrNaN(Required(spatial, "y", "\"spatial\""));
    results.CotrainedLabel = spatial.value("cotrained_label", "");
    for (const auto & m : Required(spatial, "maps", "\"spatial\""))
    {
      results.Maps.push_back({ Required(m, "gene", "a map"),
                               NumbersOrNaN(Required(m, "truth", "a map")),
                               NumbersOrNaN(Required(m, "real_only", "a map")),
                               NumbersOrNaN(Required(m, "cotrained", "a map")) });
    }

    const json & fidelity = Required(root, "fidelity", "the top level");
    results.FeatureSize = Required(fidelity, "feature_size", "\"fidelity\"");
    results.SyntheticNearestCosine = NumberOrNaN(Required(fidelity, "synthetic_nearest_cosine", "\"fidelity\""));
    results.TestNearestCosine = NumberOrNaN(Required(fidelity, "test_nearest_cosine", "\"fidelity\""));
    results.SyntheticFrechet = NumberOrNaN(Required(fidelity, "synthetic_frechet", "\"fidelity\""));
    results.TestFrechet = NumberOrNaN(Required(fidelity, "test_frechet", "\"fidelity\""));
    const json & embedding = Required(fidelity, "embedding", "\"fidelity\"");
    results.EmbeddingX = NumbersOrNaN(Required(embedding, "x", "the embedding"));
    results.EmbeddingY = NumbersOrNaN(Required(embedding, "y", "the embedding"));
    results.EmbeddingGroup = Required(embedding, "group", "the embedding").get<std::vector<int>>();
    const auto explained = NumbersOrNaN(Required(embedding, "explained", "the embedding"));
    if (explained.size() == 2)
    {
      results.EmbeddingExplainedVariance = { { explained[0], explained[1] } };
    }

    for (const auto & m : root.value("sample_measures", json::array()))
    {
      results.SampleMeasures.push_back({ Required(m, "patches", "a sample measure"),
                                         NumberOrNaN(m.value("classifier_auc", json())),
                                         NumberOrNaN(m.value("real_nuclei_per_patch", json())),
                                         NumberOrNaN(m.value("nuclei_per_patch", json())),
                                         NumberOrNaN(m.value("real_gradient_energy", json())),
                                         NumberOrNaN(m.value("gradient_energy", json())) });
    }
    for (const auto & c : Required(root, "composition", "the top level"))
    {
      ClusterCompositionEvaluation cluster;
      cluster.Cluster = Required(c, "cluster", "a cluster");
      cluster.RealSpots = Required(c, "real_spots", "a cluster");
      cluster.SyntheticPairs = Required(c, "synthetic_pairs", "a cluster");
      cluster.RealNuclearFraction = NumberOrNaN(c.value("real_nuclear_fraction", json()));
      cluster.RealNuclearFractionSD = NumberOrNaN(c.value("real_nuclear_fraction_sd", json()));
      cluster.SyntheticNuclearFraction = NumberOrNaN(c.value("synthetic_nuclear_fraction", json()));
      cluster.SyntheticNuclearFractionSD = NumberOrNaN(c.value("synthetic_nuclear_fraction_sd", json()));
      cluster.RealExamples = c.value("real_examples", json::array()).get<std::vector<std::size_t>>();
      cluster.SyntheticExamples = c.value("synthetic_examples", json::array()).get<std::vector<std::size_t>>();
      results.Composition.push_back(cluster);
    }
    results.NuclearThreshold = NumberOrNaN(root.value("nuclear_threshold", json()));
  }
  catch (const json::exception & e)
  {
    itkGenericExceptionMacro(<< "The evaluation results are not valid: " << e.what()
                             << "; read an evaluation.json written by PipelineEvaluation");
  }
  return results;
}

PipelineEvaluationResults
PipelineEvaluationResults::Read(const std::string & fileName)
{
  return Parse(FileChecks::ReadText(fileName));
}

void
PipelineEvaluationResults::Write(const std::string & fileName) const
{
  AtomicFile::Write(fileName, ToJSON(), "the evaluation");
}

} // end namespace itk
