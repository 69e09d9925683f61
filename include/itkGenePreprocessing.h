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
#ifndef itkGenePreprocessing_h
#define itkGenePreprocessing_h

#include "itkSparseCountMatrix.h"

#include <string>
#include <vector>

namespace itk
{

/** \brief How to choose and transform genes (the paper's defaults: top 250 genes by mean
 * expression, library-size normalisation to 10,000, then log1p).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT GenePreprocessingSettings
{
  /** Keep the genes with the highest mean normalised expression (ignored if GeneList is given). */
  unsigned int TopGenes{ 250 };
  /** Keep exactly these genes, in this order. */
  std::vector<std::string> GeneList;
  /** Scale each spot's counts to this total (0: no library-size normalisation). */
  double TargetSum{ 1e4 };
  bool   Log1p{ true };
  /** Then subtract each gene's mean and divide by its standard deviation (over the fitted spots). */
  bool Standardize{ false };
};

/** \class GenePreprocessing
 * \brief A fitted gene preprocessing: the genes kept and the transform, applied identically at
 * adaptation, sampling and prediction.
 *
 * For spot s and kept gene g with raw count c and library size L_s (sum over all genes):
 * \f$ x = \log(1 + c \, T / L_s) \f$ (T = TargetSum), then optionally \f$ (x - \mu_g) / \sigma_g \f$.
 * Genes are matched by name, so data from another file with the same genes in another order, or
 * with more genes, is transformed the same way.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT GenePreprocessing
{
public:
  double                   TargetSum{ 1e4 };
  bool                     Log1p{ true };
  bool                     Standardize{ false };
  std::vector<std::string> Genes;
  std::vector<double>      Mean;
  std::vector<double>      StandardDeviation;

  /** Choose the genes and the standardisation constants from the spots \p rows (all if empty).
   * Throws if a listed gene is unknown, TopGenes is 0, or no spot is given. */
  static GenePreprocessing
  Fit(const std::vector<std::string> & geneNames, const SparseCountMatrix & counts,
      const GenePreprocessingSettings & settings, const std::vector<std::size_t> & rows = {});

  /** The preprocessed expression, spots x Genes, row-major. Throws naming the genes that
   * \p geneNames lacks. */
  std::vector<float>
  Apply(const std::vector<std::string> & geneNames, const SparseCountMatrix & counts) const;

  /** Apply to one profile of raw counts over \p geneNames. */
  std::vector<float>
  ApplyToProfile(const std::vector<std::string> & geneNames, const std::vector<float> & counts) const;

  /** Undoes the transform for one value \p value of kept gene \p gene (an index into Genes):
   * the standardisation, then log1p. What remains is the count scaled to TargetSum, c T / L_s (the
   * raw count when TargetSum is 0); L_s itself is not recoverable. Negative results clamp to 0. */
  double
  ToNormalizedCount(std::size_t gene, double value) const;

  std::string
  ToJSON() const;
  /** Parse and validate; throws itk::ExceptionObject naming what is wrong. */
  static GenePreprocessing
  FromJSON(const std::string & text);

  bool
  operator==(const GenePreprocessing & other) const;
};

} // end namespace itk

#endif
