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
#include "itkPipelineEvaluation.h"

#include "itkPerGeneCombination.h"
#include "itkPipelineImputation.h"
#include "itkSpotPredictions.h"

#include "itkFeatureFidelity.h"
#include "itkGeneRegressorModel.h"
#include "itkNuclearAreaFraction.h"
#include "itkSampleMeasures.h"
#include "itkSpotPatchDataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <tuple>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

/** The mean and standard deviation of the finite values among \p values at \p rows. */
std::pair<double, double>
MeanAndDeviation(const std::vector<double> & values, const std::vector<std::size_t> & rows)
{
  double      sum = 0.0;
  double      squares = 0.0;
  std::size_t n = 0;
  for (const auto r : rows)
  {
    if (std::isfinite(values[r]))
    {
      sum += values[r];
      squares += values[r] * values[r];
      ++n;
    }
  }
  if (n == 0)
  {
    return { std::nan(""), std::nan("") };
  }
  const double mean = sum / n;
  return { mean, n > 1 ? std::sqrt(std::max(0.0, (squares - n * mean * mean) / (n - 1))) : 0.0 };
}

/** A predictor's row of the results from its metrics on the test spots. */
RegressorEvaluation
Entry(const std::string & label, const ExpressionMetrics & metrics)
{
  RegressorEvaluation entry;
  entry.Label = label;
  entry.MeanAbsoluteError = metrics.MeanAbsoluteError;
  entry.RootMeanSquaredError = metrics.RootMeanSquaredError;
  entry.MeanPearson = metrics.MeanPearson;
  entry.MeanSpearman = metrics.MeanSpearman;
  entry.GeneMeanAbsoluteError = metrics.GeneMeanAbsoluteError;
  entry.GenePearson = metrics.GenePearson;
  return entry;
}

/** A predictor's files: STEM_test_predictions.tsv and .h5ad, STEM_metrics.json, STEM_genes.tsv. */
void
WritePredictions(const SpotPredictions & predictions, const ExpressionMetrics & metrics, const Array2D<double> & truth,
                 const std::string & preprocessing, const std::string & stem)
{
  predictions.WriteTable(stem + "_test_predictions.tsv");
  predictions.WriteAnnData(stem + "_test_predictions.h5ad", preprocessing, truth);
  metrics.WriteJSONFile(stem + "_metrics.json");
  metrics.WriteTSVFile(stem + "_genes.tsv");
}
} // namespace

std::string
PipelineEvaluation::FormatRatio(double ratio)
{
  std::ostringstream text;
  text << ratio;
  return text.str();
}

std::string
PipelineEvaluation::Summary(const PipelineEvaluationResults & results)
{
  std::ostringstream summary;
  for (const auto & run : results.Regressors)
  {
    summary << run.Label << ": MAE " << run.MeanAbsoluteError << ", RMSE " << run.RootMeanSquaredError
            << ", mean Pearson " << run.MeanPearson << '\n';
  }
  return summary.str();
}

PipelineEvaluationResults
PipelineEvaluation::Run(const PipelineSettings & config, const std::string & datasetFile,
                        const std::string & syntheticFile, const std::string & controlFile,
                        const std::vector<PipelineRegressor> & regressors,
                        const std::vector<std::string> & foldRegressors, const std::string & folder)
{
  fs::create_directories(folder);
  const auto                real = SpotPatchDataset::Read(datasetFile);
  const auto                synthetic = SpotPatchDataset::Read(syntheticFile);
  const auto &              spots = *real->GetSpots();
  const auto                training = spots.GetSpotIndices(true);
  const auto                test = spots.GetSpotIndices(false);
  const auto &              genes = spots.GetPreprocessing().Genes;
  const auto                numberOfGenes = genes.size();
  PipelineEvaluationResults result;
  result.TrainingSpots = training.size();
  result.TestSpots = test.size();
  result.SyntheticPairs = synthetic->GetNumberOfPatches();
  result.GeneNames = genes;

  // 1. Every regressor at the test spots.
  SpotPredictions             realOnly;
  SpotPredictions             cotrained;
  ExpressionMetrics           realOnlyMetrics;
  GeneRegressorModel::Pointer features; // the real-only regressor's penultimate layer
  double                      largestRatio = 0.0;
  std::string                 cotrainedLabel;
  for (const auto & run : regressors)
  {
    if (!run.Control && run.Ratio > largestRatio)
    {
      largestRatio = run.Ratio;
      cotrainedLabel = run.Label;
    }
  }
  for (std::size_t i = 0; i < regressors.size(); ++i)
  {
    const auto & run = regressors[i];
    auto         model = GeneRegressorModel::New();
    model->Load(run.File);
    const auto predictions = SpotPredictions::Predict(*model, *real, "test", false, 64, config.Device, config.Threads);
    const auto truth = predictions.TruthFrom(*real, model->GetGenePreprocessing());
    const auto metrics = predictions.Evaluate(truth);
    WritePredictions(predictions,
                     metrics,
                     truth,
                     model->GetGenePreprocessing(),
                     (fs::path(folder) / fs::path(run.File).stem()).string());
    auto entry = Entry(run.Label, metrics);
    entry.Ratio = run.Ratio;
    entry.Control = run.Control;
    entry.File = run.File;
    if (i == 0)
    {
      realOnly = predictions;
      realOnlyMetrics = metrics;
      features = model;
    }
    else
    {
      entry.GenesImproved = static_cast<int>(ExpressionMetrics::GenesWithLowerError(realOnlyMetrics, metrics).size());
      // The co-trained regressor the figures show: the largest ratio (a fixed rule, not the best on
      // the test spots, which would choose on the data it reports).
      if (!run.Control && run.Ratio == largestRatio)
      {
        cotrained = predictions;
      }
    }
    result.Regressors.push_back(entry);
  }
  const auto truth = MatrixOperations::FromRowMajor(spots.GetNumberOfSpots(), numberOfGenes, spots.GetExpression());
  {
    // The reference every regressor must beat: the training spots' mean profile at every test spot
    // (no image at all). With few training spots a regressor may do no better.
    auto mean = MatrixOperations::Zeros(test.size(), numberOfGenes);
    auto testTruth = MatrixOperations::Zeros(test.size(), numberOfGenes);
    for (std::size_t g = 0; g < numberOfGenes; ++g)
    {
      double average = 0.0;
      for (const auto s : training)
      {
        average += truth(s, g) / training.size();
      }
      for (std::size_t r = 0; r < test.size(); ++r)
      {
        mean(r, g) = average;
        testTruth(r, g) = truth(test[r], g);
      }
    }
    const auto baseline = ExpressionMetrics::Compute(testTruth, mean, genes);
    result.MeanBaselineAbsoluteError = baseline.MeanAbsoluteError;
    result.MeanBaselineRootMeanSquaredError = baseline.RootMeanSquaredError;
  }

  // 1b. Predictors from the training spots' expression alone, and S2S-ST combined per gene with
  // the real-only regressor, the weights fitted on the training spots by cross-fitting: each fold
  // predicted by a regressor and an S2S-ST trained on the other folds (never on the test spots).
  if (config.Imputation.Enabled)
  {
    if (foldRegressors.size() != config.Imputation.Folds)
    {
      itkGenericExceptionMacro(<< "The imputation's combination needs " << config.Imputation.Folds
                               << " fold regressors, " << foldRegressors.size() << " were given");
    }
    if (realOnly.Rows != test)
    {
      itkGenericExceptionMacro(<< "The real-only regressor's predictions are not of the dataset's test spots");
    }
    const auto imputation = PipelineImputation::Run(config.Imputation, spots, config.Device, config.Threads);
    const auto testTruth = MatrixOperations::SelectRows(truth, test);
    const auto preprocessing = spots.GetPreprocessing().ToJSON();

    // The real-only regressors of the folds at the spots they did not train on.
    Array2D<double> heldOutRegression(static_cast<unsigned int>(training.size()),
                                      static_cast<unsigned int>(numberOfGenes));
    for (unsigned int fold = 0; fold < foldRegressors.size(); ++fold)
    {
      std::vector<std::size_t> positions;
      std::vector<std::size_t> rows;
      for (std::size_t t = 0; t < training.size(); ++t)
      {
        if (imputation.Folds[t] == fold)
        {
          positions.push_back(t);
          rows.push_back(training[t]);
        }
      }
      auto model = GeneRegressorModel::New();
      model->Load(foldRegressors[fold]);
      const auto predictions =
        SpotPredictions::Predict(*model, *real->Select(rows), "all", false, 64, config.Device, config.Threads);
      for (std::size_t k = 0; k < positions.size(); ++k)
      {
        heldOutRegression.set_row(static_cast<unsigned int>(positions[k]),
                                  predictions.Values[static_cast<unsigned int>(k)]);
      }
    }
    const auto combination =
      PerGeneCombination::Fit(MatrixOperations::SelectRows(truth, training), heldOutRegression, imputation.CrossFitted);
    const auto imputedTest = MatrixOperations::SelectRows(imputation.Imputed, test);

    std::ostringstream combinedLabel;
    combinedLabel << "real only + S2S-ST (per-gene weights, " << config.Imputation.Folds << "-fold cross-fitting)";
    for (const auto & [label, stem, values] :
         { std::tuple<std::string, std::string, Array2D<double>>{
             "S2S-ST imputation", "imputation_s2sst", imputedTest },
           { "Gaussian-kernel smoothing",
             "imputation_gaussian",
             MatrixOperations::SelectRows(imputation.Smoothed, test) },
           { combinedLabel.str(), "combination_real_s2sst", combination.Apply(realOnly.Values, imputedTest) } })
    {
      SpotPredictions predictions = realOnly; // the test spots' rows and positions
      predictions.Values = values;
      predictions.Features = Array2D<double>();
      const auto metrics = predictions.Evaluate(testTruth);
      WritePredictions(predictions, metrics, testTruth, preprocessing, (fs::path(folder) / stem).string());
      auto entry = Entry(label, metrics);
      entry.GenesImproved = static_cast<int>(ExpressionMetrics::GenesWithLowerError(realOnlyMetrics, metrics).size());
      result.Imputation.push_back(entry);
    }
    result.CombinationWeights = combination.Weights;
    result.ImputationGrid = imputation.Grid;
    result.ImputationSeconds = imputation.Seconds;
  }

  // Spatial maps: the genes that vary most over the test spots, truth against both predictions.
  {
    std::vector<double> variance(numberOfGenes, 0.0);
    for (std::size_t g = 0; g < numberOfGenes; ++g)
    {
      double mean = 0.0;
      for (const auto s : test)
      {
        mean += truth(s, g) / test.size();
      }
      for (const auto s : test)
      {
        variance[g] += (truth(s, g) - mean) * (truth(s, g) - mean);
      }
    }
    std::vector<std::size_t> order = SpotPredictions::FirstRows(numberOfGenes);
    std::stable_sort(
      order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return variance[a] > variance[b]; });
    for (std::size_t k = 0; k < std::min<std::size_t>(config.MapGenes, numberOfGenes); ++k)
    {
      const auto          g = order[k];
      std::vector<double> t;
      std::vector<double> a;
      std::vector<double> b;
      for (std::size_t s = 0; s < test.size(); ++s)
      {
        t.push_back(truth(test[s], g));
        a.push_back(realOnly.Values(s, g));
        b.push_back(cotrained.Values(s, g));
      }
      result.Maps.push_back({ genes[g], t, a, b });
    }
    for (const auto & p : realOnly.Positions)
    {
      result.SpatialX.push_back(p[0]);
      result.SpatialY.push_back(p[1]);
    }
    result.CotrainedLabel = cotrainedLabel;
  }

  // 2. Fidelity in the real-only regressor's feature space: synthetic against the real training
  // patches they imitate, with the real test patches against the same as the reference value.
  const auto realFeatures =
    SpotPredictions::Predict(*features, *real, "all", false, 64, config.Device, config.Threads, true);
  const auto syntheticFeatures =
    SpotPredictions::Predict(*features, *synthetic, "all", false, 64, config.Device, config.Threads, true);
  const auto realTraining = MatrixOperations::SelectRows(realFeatures.Features, training);
  const auto realTest = MatrixOperations::SelectRows(realFeatures.Features, test);
  const auto syntheticAll = MatrixOperations::SelectRows(syntheticFeatures.Features,
                                                         SpotPredictions::FirstRows(synthetic->GetNumberOfPatches()));
  result.FeatureSize = realFeatures.Features.cols();
  result.SyntheticNearestCosine = NearestNeighborSimilarity::Compute(realTraining, syntheticAll).Mean;
  result.TestNearestCosine = NearestNeighborSimilarity::Compute(realTraining, realTest).Mean;
  result.SyntheticFrechet = FeatureStatistics::FrechetDistance(realTraining, syntheticAll);
  result.TestFrechet = FeatureStatistics::FrechetDistance(realTraining, realTest);
  {
    // The embedding: the training patches and as many synthetic ones (first drawn).
    const auto shown = MatrixOperations::SelectRows(
      syntheticFeatures.Features,
      SpotPredictions::FirstRows(std::min(training.size(), synthetic->GetNumberOfPatches())));
    const auto embedding = PCAEmbedding::Compute(realTraining, shown);
    for (std::size_t r = 0; r < embedding.Coordinates.rows(); ++r)
    {
      result.EmbeddingX.push_back(embedding.Coordinates(r, 0));
      result.EmbeddingY.push_back(embedding.Coordinates(r, 1));
      result.EmbeddingGroup.push_back(r < embedding.FirstSetRows ? 0 : 1);
    }
    result.EmbeddingExplainedVariance = embedding.ExplainedVarianceRatio;
  }

  // 2b. Measures that colour cannot pass, against the real test patches (never trained on): the
  // synthetic pairs' images, and the colour-noise control's as the value of colour alone.
  {
    // Smart pointers: the datasets are temporaries, their patches must outlive them.
    const SpotPatchDataset::PatchStackType::Pointer testPatches = real->Select(test)->GetPatches();
    const SpotPatchDataset::PatchStackType::Pointer controlPatches = SpotPatchDataset::Read(controlFile)->GetPatches();
    ClassifierTwoSampleSettings                     settings;
    settings.NumberOfThreads = config.Threads;
    settings.Device = config.Device;
    for (const auto & [label, patches] :
         { std::pair<std::string, const SpotPatchDataset::PatchStackType *>{ "synthetic", synthetic->GetPatches() },
           { "colour-noise control", controlPatches.GetPointer() } })
    {
      const auto sample = SampleMeasures::Measure(testPatches, patches, settings);
      result.SampleMeasures.push_back({ label,
                                        sample.ClassifierAUC,
                                        sample.Morphology.RealNucleiPerPatch,
                                        sample.Morphology.OtherNucleiPerPatch,
                                        sample.Morphology.RealGradientEnergy,
                                        sample.Morphology.OtherGradientEnergy });
    }
  }

  // 3. Composition: expression clusters of the training spots; nuclear area fraction of real and
  // synthetic patches in each (a synthetic pair belongs to the cluster of its conditioning profile).
  {
    const auto    trainingExpression = MatrixOperations::SelectRows(truth, training);
    KMeansOptions options;
    options.Clusters = static_cast<unsigned int>(std::min<std::size_t>(config.Clusters, training.size()));
    options.Seed = 0;
    options.Starts = 4;
    const auto   clusters = KMeansResult::Cluster(trainingExpression, options);
    const auto & se = synthetic->GetSpots()->GetExpression();
    const auto   syntheticLabels = clusters.NearestCentroids(
      MatrixOperations::SelectRows(MatrixOperations::FromRowMajor(se.size() / numberOfGenes, numberOfGenes, se),
                                   SpotPredictions::FirstRows(synthetic->GetNumberOfPatches())));
    const auto trainingPatches = real->Select(training);
    const auto fractions = NuclearAreaFractions::Compute(trainingPatches->GetPatches(), synthetic->GetPatches());
    for (unsigned int k = 0; k < options.Clusters; ++k)
    {
      std::vector<std::size_t> realRows;
      std::vector<std::size_t> syntheticRows;
      for (std::size_t r = 0; r < training.size(); ++r)
      {
        if (clusters.Labels[r] == k)
        {
          realRows.push_back(r);
        }
      }
      for (std::size_t r = 0; r < syntheticLabels.size(); ++r)
      {
        if (syntheticLabels[r] == k)
        {
          syntheticRows.push_back(r);
        }
      }
      const auto               realStatistics = MeanAndDeviation(fractions.Real, realRows);
      const auto               syntheticStatistics = MeanAndDeviation(fractions.Synthetic, syntheticRows);
      std::vector<std::size_t> realExamples;
      for (std::size_t i = 0; i < std::min<std::size_t>(6, realRows.size()); ++i)
      {
        realExamples.push_back(training[realRows[i]]);
      }
      std::vector<std::size_t> syntheticExamples(
        syntheticRows.begin(), syntheticRows.begin() + std::min<std::size_t>(6, syntheticRows.size()));
      result.Composition.push_back({ k,
                                     realRows.size(),
                                     syntheticRows.size(),
                                     realStatistics.first,
                                     realStatistics.second,
                                     syntheticStatistics.first,
                                     syntheticStatistics.second,
                                     realExamples,
                                     syntheticExamples });
    }
    result.NuclearThreshold = fractions.Measurement.Threshold;
  }

  result.Write((fs::path(folder) / "evaluation.json").string());
  return result;
}

} // end namespace itk
