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
#ifndef itkPipelineEvaluationResults_h
#define itkPipelineEvaluationResults_h

// What the pipeline's evaluation found, as typed data: PipelineEvaluation::Run returns it and writes
// it (evaluation.json), the report and the sampling-fraction study read it back. No LibTorch.

#include "SpatialTranscriptomicsExport.h"
#include "itkMacro.h" // itk::ExceptionObject, which Parse and Read throw

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace itk
{

/** \brief One regressor on the test spots (its row in evaluation.json's "regressors").
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT RegressorEvaluation
{
  std::string Label;
  /** Synthetic-to-real ratio (0: real pairs only). */
  double Ratio{ 0.0 };
  /** Trained on the colour-noise control pairs instead of the synthetic ones. */
  bool        Control{ false };
  std::string File;
  /** NaN where undefined (a correlation over constant genes). */
  double              MeanAbsoluteError{ 0.0 };
  double              RootMeanSquaredError{ 0.0 };
  double              MeanPearson{ 0.0 };
  double              MeanSpearman{ 0.0 };
  std::vector<double> GeneMeanAbsoluteError;
  std::vector<double> GenePearson;
  /** Genes whose error is lower than the real-only regressor's; -1 for the real-only one itself. */
  int GenesImproved{ -1 };
};

/** \brief One gene drawn at the test spots: measured, and predicted by the real-only and the
 * co-trained regressor.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT SpatialMapEvaluation
{
  std::string         Gene;
  std::vector<double> Truth;
  std::vector<double> RealOnly;
  std::vector<double> Cotrained;
};

/** \brief Measures that colour alone cannot pass, of one set of patches against the real test patches.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT SampleMeasureEvaluation
{
  /** "synthetic" or "colour-noise control". */
  std::string Patches;
  /** Of a classifier telling these patches from real ones (0.5: indistinguishable). */
  double ClassifierAUC{ 0.0 };
  double RealNucleiPerPatch{ 0.0 };
  double NucleiPerPatch{ 0.0 };
  double RealGradientEnergy{ 0.0 };
  double GradientEnergy{ 0.0 };
};

/** \brief Tissue composition of one expression cluster of the training spots: nuclear area fraction
 * of its real patches and of the synthetic patches conditioned on its profiles.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ClusterCompositionEvaluation
{
  unsigned int Cluster{ 0 };
  std::size_t  RealSpots{ 0 };
  std::size_t  SyntheticPairs{ 0 };
  double       RealNuclearFraction{ 0.0 };
  double       RealNuclearFractionSD{ 0.0 };
  double       SyntheticNuclearFraction{ 0.0 };
  double       SyntheticNuclearFractionSD{ 0.0 };
  /** Up to six examples: real spots (rows of the dataset) and synthetic pairs (rows of theirs). */
  std::vector<std::size_t> RealExamples;
  std::vector<std::size_t> SyntheticExamples;
};

/** \brief Everything the pipeline's evaluation stage measured (PipelineEvaluation::Run): each
 * regressor at the test spots against the training-mean baseline, spatial maps, the fidelity of the
 * synthetic patches in the real-only regressor's feature space, sample measures and composition.
 * Undefined numbers are NaN here and null in the JSON.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PipelineEvaluationResults
{
  std::size_t              TrainingSpots{ 0 };
  std::size_t              TestSpots{ 0 };
  std::size_t              SyntheticPairs{ 0 };
  std::vector<std::string> GeneNames;
  /** The real-only regressor first. */
  std::vector<RegressorEvaluation> Regressors;
  /** The training spots' mean profile predicted at every test spot (no image). */
  double MeanBaselineAbsoluteError{ 0.0 };
  double MeanBaselineRootMeanSquaredError{ 0.0 };

  /** Predictors from the training spots' expression (PipelineImputation), measured as the
   * regressors (GenesImproved against the real-only regressor; Ratio 0, no File): S2S-ST,
   * Gaussian-kernel smoothing, and the real-only regressor and S2S-ST combined per gene
   * (PerGeneCombination). Empty when the pipeline's imputation is off. */
  std::vector<RegressorEvaluation> Imputation;
  /** The combination's weight of the real-only regressor, per gene (S2S-ST gets 1 - w). */
  std::vector<double> CombinationWeights;
  /** The grid S2S-ST ran on, and the imputation's wall time. */
  std::string ImputationGrid;
  double      ImputationSeconds{ 0.0 };

  /** Test-spot positions (level-0 pixels), the maps, and the co-trained regressor they show. */
  std::vector<double>               SpatialX;
  std::vector<double>               SpatialY;
  std::vector<SpatialMapEvaluation> Maps;
  std::string                       CotrainedLabel;

  /** Fidelity: mean cosine similarity to the nearest real training feature vector, and Fréchet
   * distance to the real training features, of the synthetic and (the reference) real test patches. */
  std::size_t FeatureSize{ 0 };
  double      SyntheticNearestCosine{ 0.0 };
  double      TestNearestCosine{ 0.0 };
  double      SyntheticFrechet{ 0.0 };
  double      TestFrechet{ 0.0 };
  /** PCA of the training patches' features (group 0) and as many synthetic ones (group 1). */
  std::vector<double>   EmbeddingX;
  std::vector<double>   EmbeddingY;
  std::vector<int>      EmbeddingGroup;
  std::array<double, 2> EmbeddingExplainedVariance{ { 0.0, 0.0 } };

  std::vector<SampleMeasureEvaluation>      SampleMeasures;
  std::vector<ClusterCompositionEvaluation> Composition;
  double                                    NuclearThreshold{ 0.0 };

  /** Every predictor of the test spots in the report's order: the regressors, then the imputation's. */
  std::vector<RegressorEvaluation>
  Predictors() const;

  /** evaluation.json's text. */
  std::string
  ToJSON() const;
  /** Parses evaluation.json's text (older files without the baseline, the sample measures, the
   * co-trained label or the imputation read as NaN, none, "" and none); throws itk::ExceptionObject naming what is
   * missing. */
  static PipelineEvaluationResults
  Parse(const std::string & text);
  /** Parse of a file; throws when it cannot be read. */
  static PipelineEvaluationResults
  Read(const std::string & fileName);
  /** Writes ToJSON() atomically. */
  void
  Write(const std::string & fileName) const;
};

} // end namespace itk

#endif
