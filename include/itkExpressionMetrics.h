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
#ifndef itkExpressionMetrics_h
#define itkExpressionMetrics_h

#include "itkMatrixOperations.h"

#include <string>
#include <vector>

namespace itk
{

/** \class ExpressionMetrics
 * \brief How well predicted expression matches the truth: the paper's MAE, RMSE, and HEST-Benchmark's
 * per-gene Pearson correlation, with per-gene Spearman correlation and MAE.
 *
 * Truth and prediction are spots x genes on the same (preprocessed) scale. MAE and RMSE run over all
 * entries. The correlations are per gene, across spots; Spearman's is Pearson's on ranks, with tied
 * values given their average rank (as scipy.stats.spearmanr). A gene that is constant across spots
 * in the truth or in the prediction has no correlation: its value is NaN (null in JSON, "nan" in
 * TSV), it is left out of the mean over genes, and ExcludedPearsonGenes / ExcludedSpearmanGenes
 * count the genes left out. A mean over no gene is NaN.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT ExpressionMetrics
{
  std::vector<std::string> Genes;
  std::size_t              Spots{ 0 };
  double                   MeanAbsoluteError{ 0.0 };
  double                   RootMeanSquaredError{ 0.0 };
  /** Mean over the genes whose correlation is defined. */
  double              MeanPearson{ 0.0 };
  double              MeanSpearman{ 0.0 };
  std::size_t         ExcludedPearsonGenes{ 0 };
  std::size_t         ExcludedSpearmanGenes{ 0 };
  std::vector<double> GeneMeanAbsoluteError;
  std::vector<double> GenePearson;  ///< NaN where undefined
  std::vector<double> GeneSpearman; ///< NaN where undefined

  /** {"spots", "genes", "mae", "rmse", "mean_pearson", "mean_spearman", "excluded_pearson_genes",
   * "excluded_spearman_genes", "per_gene": [{"gene", "mae", "pearson", "spearman"}, ...]};
   * undefined values are null. */
  std::string
  ToJSON() const;
  /** A header line "gene\tmae\tpearson\tspearman", then one line per gene, in gene order. */
  std::string
  ToTSV() const;
  /** Write through a temporary file and a rename, so a failed write leaves no partial file. */
  void
  WriteJSONFile(const std::string & fileName) const;
  void
  WriteTSVFile(const std::string & fileName) const;

  /** Compare \p prediction with \p truth (both spots x genes). \p genes names the columns (empty:
   * "0", "1", ...). Throws itk::ExceptionObject when the shapes differ, either is empty, a value is
   * NaN or infinite, or \p genes has the wrong length. */
  static ExpressionMetrics
  Compute(const Array2D<double> & truth, const Array2D<double> & prediction,
          const std::vector<std::string> & genes = {});

  /** Pearson correlation of two equally long samples; NaN when either is constant. */
  static double
  PearsonCorrelation(const std::vector<double> & x, const std::vector<double> & y);

  /** Spearman rank correlation (average ranks for ties); NaN when either is constant. */
  static double
  SpearmanCorrelation(const std::vector<double> & x, const std::vector<double> & y);

  /** Ranks 1..n, ties given the mean of the ranks they span (scipy.stats.rankdata "average"). */
  static std::vector<double>
  AverageRanks(const std::vector<double> & values);

  /** The genes (indices) whose MAE \p candidate lowers below \p baseline's: the gene-wise answer to
   * "which genes does the method improve". Throws when the two were computed on different genes. */
  static std::vector<std::size_t>
  GenesWithLowerError(const ExpressionMetrics & baseline, const ExpressionMetrics & candidate);
};

} // end namespace itk

#endif // itkExpressionMetrics_h
