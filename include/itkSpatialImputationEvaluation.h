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
#ifndef itkSpatialImputationEvaluation_h
#define itkSpatialImputationEvaluation_h

#include "itkImputationMetrics.h"
#include "itkSparseToSparseImputationFilter.h"
#include "itkSpatialImputationBaselines.h"

#include <string>
#include <vector>

namespace itk
{

/** Which spots of a section are measured (1) and which are held out (0). \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ImputationSplit
{
  std::string               Name;
  std::vector<std::uint8_t> Measured;

  /** The split of a section on \p grid by one of the two protocols: a seeded random \p fraction of
   * the spots measured (MakeRandom) when \p fraction is above 0, one stride-2
   * \p phase measured (MakePhase) when \p phase is given. Throws itk::ExceptionObject unless
   * exactly one of the two is given. */
  static ImputationSplit
  Make(const SpotGrid & grid, double fraction, const std::string & phase, std::uint32_t seed);

  /** S2S-ST's protocol: the spots of one stride-2 phase ("upleft", ...) are measured, the others held
   * out. */
  static ImputationSplit
  MakePhase(const SpotGrid & grid, const std::string & phase);

  /** C2L-ST's protocol: a seeded random \p fraction of the spots is measured (SpatialExpressionData::RandomSplit, as
   * SpatialExpressionData::MakeRandomSplit: both methods hold out the same spots). */
  static ImputationSplit
  MakeRandom(std::size_t spots, double fraction, std::uint32_t seed);
};

/** One method's imputation of a split, measured on the held-out spots. */
struct SpatialTranscriptomics_EXPORT ImputationMethodResult
{
  std::string Method;
  /** The cross-validated parameter (k, bandwidth in micrometres) or the final training loss. */
  double            Parameter{ 0.0 };
  double            Seconds{ 0.0 };
  ImputationMetrics AllGenes;
  ImputationMetrics MostVariableGenes;
  /** Spots x genes on the preprocessed scale, measured spots unchanged. */
  Array2D<double> SpotValues;
};

/** How to evaluate: the genes (chosen on the measured spots only), the baselines, and S2S-ST. */
struct SpatialTranscriptomics_EXPORT ImputationEvaluationSettings
{
  GenePreprocessingSettings    Genes;
  unsigned int                 MostVariableGenes{ 50 };
  std::vector<SpatialBaseline> Baselines; ///< every baseline unless changed

  ImputationEvaluationSettings();
};

/** The evaluation of every method on one split. */
struct SpatialTranscriptomics_EXPORT ImputationEvaluation
{
  ImputationSplit                     Split;
  std::vector<std::string>            Genes;
  std::vector<std::size_t>            MostVariable; ///< indices into Genes
  std::vector<ImputationMethodResult> Methods;
  /** Spots x genes: the measured values on the preprocessed scale (held-out spots included: what
   * every method is measured against). */
  Array2D<double> Truth;
  /** The gene preprocessing, fitted on the measured spots (GenePreprocessing::ToJSON). */
  std::string Preprocessing;

  /** {"split", "genes", "most_variable_genes", "methods": [{"method", "parameter", "seconds",
   * "all_genes": {...}, "most_variable_genes": {...}}]}, the metrics as ImputationMetrics::ToJSON. */
  std::string
  ToJSON() const;
  /** One row per spot: "spot", "measured" (1/0), then "METHOD:GENE" for every method and gene, the
   * values on the preprocessed scale. \p spotIds names the spots, in the evaluated order. */
  std::string
  PredictionsToTSV(const std::vector<std::string> & spotIds) const;
  /** The imputation as AnnData (.h5ad): X = S2S-ST's values (the first method's when S2S-ST did
   * not run) at every spot of \p spots (the evaluated section, in its order), obs["measured"] 1 or
   * 0, obsm["spatial"] the spots' pixel positions, a layer per method (its name) and the measured
   * values as layers["truth"], and in uns the gene preprocessing, the split and X's method.
   * Throws itk::ExceptionObject when \p spots is not the section evaluated; an existing file is
   * replaced (the caller decides whether it may be). */
  void
  WriteAnnData(const std::string & fileName, const SpatialExpressionData & spots) const;

  /** \brief Imputes the held-out spots of \p split with every baseline (the lattice fills only when
   * the measured spots form a stride-2 phase) and, when \p imputation is given, with that configured
   * SparseToSparseImputationFilter; measures each on the held-out spots, for all genes and for the
   * most variable ones. The gene selection and normalisation are fitted on the measured spots only
   * (\p spots holds raw counts and is not modified).
   * \ingroup SpatialTranscriptomics */
  static ImputationEvaluation
  Evaluate(const SpatialExpressionData & spots, const SpotGrid & grid, const ImputationSplit & split,
           const ImputationEvaluationSettings & settings, SparseToSparseImputationFilter * imputation = nullptr);
};

} // end namespace itk

#endif
