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
#ifndef itkFeatureFidelity_h
#define itkFeatureFidelity_h

#include "itkMatrixOperations.h"

#include <array>
#include <cstdint>
#include <vector>

namespace itk
{

/** \brief For each synthetic row, the cosine similarity to its nearest real row.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT NearestNeighborSimilarity
{
  std::vector<double>      Similarity;     ///< one per synthetic row
  std::vector<std::size_t> NearestRealRow; ///< the real row reaching it (the first, on ties)
  double                   Mean{ 0.0 };    ///< mean over synthetic rows

  /** Cosine similarity of each synthetic row (M x F) to its most similar real row (N x F), and the
   * mean over synthetic rows: how close generated features come to some real sample. A row of zeros
   * has no direction; as in scikit-learn's cosine_similarity its similarity to anything is 0.
   * Throws itk::ExceptionObject on empty or non-finite input or differing feature counts. */
  static NearestNeighborSimilarity
  Compute(const Array2D<double> & real, const Array2D<double> & synthetic);
};

/** \brief Mean and covariance (denominator N - 1) of a feature set.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT FeatureStatistics
{
  std::vector<double> Mean;
  Array2D<double>     Covariance; ///< F x F

  /** Throws when \p features has fewer than two rows (no covariance) or non-finite values. */
  static FeatureStatistics
  Compute(const Array2D<double> & features);

  /** The Fréchet distance of two Gaussians,
   * \f$ \|\mu_1 - \mu_2\|^2 + \mathrm{Tr}(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}) \f$
   * (FID when the features are Inception's). The trace of the square root is taken in the symmetric
   * form \f$ \mathrm{Tr}(\Sigma_1\Sigma_2)^{1/2} = \sum_i \sqrt{\lambda_i} \f$ with \f$ \lambda_i \f$ the
   * eigenvalues of the positive semi-definite \f$ \Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2} \f$ (same
   * spectrum as \f$ \Sigma_1\Sigma_2 \f$); round-off negatives of either eigen-decomposition are
   * clamped to 0, so singular covariances (fewer samples than features) need no regularising offset.
   * Costs two F x F symmetric eigen-decompositions. Throws on differing dimensions. */
  static double
  FrechetDistance(const FeatureStatistics & first, const FeatureStatistics & second);

  /** FrechetDistance of the two sets' statistics (each needs at least two rows). */
  static double
  FrechetDistance(const Array2D<double> & real, const Array2D<double> & synthetic);
};

/** \brief A two-dimensional principal-component embedding.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PCAEmbedding
{
  Array2D<double>       Coordinates;                            ///< rows x 2
  Array2D<double>       Components;                             ///< 2 x F, unit rows
  std::vector<double>   Mean;                                   ///< F, subtracted before projecting
  std::array<double, 2> ExplainedVarianceRatio{ { 0.0, 0.0 } }; ///< of the total variance
  std::size_t           FirstSetRows{ 0 };                      ///< rows of the first set

  /** Project the rows of \p features onto its first two principal axes. Each axis's sign makes its
   * largest-magnitude entry positive, so the embedding is deterministic. With a single feature the
   * second coordinate and ratio are 0. Costs one symmetric eigen-decomposition of size
   * min(rows, F). Throws when fewer than two rows are given or all rows are equal. */
  static PCAEmbedding
  Compute(const Array2D<double> & features);

  /** The embedding of the union of \p real and \p synthetic (rows: real first, then synthetic; the
   * axes are fitted on both, so neither set is favoured). */
  static PCAEmbedding
  Compute(const Array2D<double> & real, const Array2D<double> & synthetic);
};

/** \brief Settings of k-means clustering.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT KMeansOptions
{
  unsigned int  Clusters{ 8 };
  std::uint32_t Seed{ 0 };
  /** Lloyd iterations at most per start; a start stops earlier once no assignment changes. */
  unsigned int MaxIterations{ 300 };
  /** Independent k-means++ starts (drawn in turn from one generator); the lowest inertia wins. */
  unsigned int Starts{ 1 };
};

/** \brief k-means clustering: cluster labels, centroids and the within-cluster sum of squares.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT KMeansResult
{
  std::vector<unsigned int> Labels;    ///< one per row, 0..Clusters-1
  Array2D<double>           Centroids; ///< Clusters x F
  double                    Inertia{ 0.0 };
  unsigned int              Iterations{ 0 }; ///< Lloyd iterations of the winning start

  /** k-means (Lloyd's iterations from k-means++ seeding, Arthur and Vassilvitskii 2007) of the rows
   * of \p data, e.g. to group spots into expression clusters. The same data, options and seed give
   * the same result on every platform (std::mt19937 raw output, no library distribution). A cluster
   * left empty takes the point farthest from its centroid. Throws on empty or non-finite data,
   * Clusters of 0 or above the number of rows, or MaxIterations or Starts of 0. */
  static KMeansResult
  Cluster(const Array2D<double> & data, const KMeansOptions & options);

  /** The cluster of each row of \p rows: its nearest centroid (squared Euclidean distance; the lowest
   * index on ties), as Cluster assigns its own rows. Throws itk::ExceptionObject on empty or
   * non-finite rows, or a column count other than the centroids'. */
  std::vector<unsigned int>
  NearestCentroids(const Array2D<double> & rows) const;
};

} // end namespace itk

#endif // itkFeatureFidelity_h
