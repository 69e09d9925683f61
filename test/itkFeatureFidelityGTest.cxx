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

// Feature fidelity metrics against closed forms and a numpy reference (hard-coded, script below).

#include "itkFeatureFidelity.h"
#include "itkMatrixOperations.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <set>

namespace
{
/** A rows x columns matrix of \p values given row by row, or zeros. */
itk::Array2D<double>
Matrix(std::size_t rows, std::size_t columns, const std::vector<double> & values)
{
  return itk::MatrixOperations::FromRowMajor(rows, columns, values);
}
itk::Array2D<double>
Matrix(std::size_t rows, std::size_t columns)
{
  return itk::MatrixOperations::Zeros(rows, columns);
}

/** Rows t_i d + s_i e + offset for orthonormal d, e: with sum t = sum s = sum t s = 0 the principal
 * axes are exactly d and e, with variances sum t^2 and sum s^2 (over n - 1). */
itk::Array2D<double>
TwoAxisCloud(const std::vector<double> & t, const std::vector<double> & s, const std::vector<double> & d,
             const std::vector<double> & e, double offset)
{
  auto x = Matrix(t.size(), d.size());
  for (std::size_t i = 0; i < t.size(); ++i)
  {
    for (std::size_t j = 0; j < d.size(); ++j)
    {
      x(i, j) = t[i] * d[j] + s[i] * e[j] + offset;
    }
  }
  return x;
}

/** Three blobs of 12 points each around (0, 0), (10, 0), (0, 10), with fixed offsets within 0.5. */
itk::Array2D<double>
ThreeBlobs()
{
  const double centres[3][2] = { { 0, 0 }, { 10, 0 }, { 0, 10 } };
  auto         x = Matrix(36, 2);
  for (std::size_t i = 0; i < 36; ++i)
  {
    const std::size_t blob = i % 3; // interleaved, so cluster order is not row order
    x(i, 0) = centres[blob][0] + 0.5 * std::sin(1.7 * i);
    x(i, 1) = centres[blob][1] + 0.5 * std::cos(2.3 * i);
  }
  return x;
}
} // namespace

TEST(FeatureFidelity, NearestCosineClosedForm)
{
  const auto real = Matrix(3, 2, { 1, 0, 0, 1, 1, 1 });
  const auto synthetic = Matrix(4, 2, { 2, 0, 1, 2, -1, 0, 0, 0 });
  const auto result = itk::NearestNeighborSimilarity::Compute(real, synthetic);
  // (2, 0) lies on (1, 0); (1, 2) is nearest (1, 1) at 3 / sqrt(10) (versus 2 / sqrt(5) to (0, 1));
  // (-1, 0) is orthogonal to (0, 1), its best; a zero row has similarity 0 to everything.
  EXPECT_DOUBLE_EQ(result.Similarity[0], 1.0);
  EXPECT_DOUBLE_EQ(result.Similarity[1], 3.0 / std::sqrt(10.0));
  EXPECT_DOUBLE_EQ(result.Similarity[2], 0.0);
  EXPECT_DOUBLE_EQ(result.Similarity[3], 0.0);
  EXPECT_EQ(result.NearestRealRow, (std::vector<std::size_t>{ 0, 2, 1, 0 }));
  EXPECT_DOUBLE_EQ(result.Mean, (1.0 + 3.0 / std::sqrt(10.0)) / 4.0);
  EXPECT_THROW(itk::NearestNeighborSimilarity::Compute(real, Matrix(1, 3)), itk::ExceptionObject);
  EXPECT_THROW(itk::NearestNeighborSimilarity::Compute(real, itk::Array2D<double>()), itk::ExceptionObject);
}

TEST(FeatureFidelity, FrechetDiagonalClosedForm)
{
  // Statistics given directly: sum (sqrt(a) - sqrt(b))^2 + |mu1 - mu2|^2.
  itk::FeatureStatistics first{ { 1, 2, 3 }, Matrix(3, 3, { 4, 0, 0, 0, 9, 0, 0, 0, 0.25 }) };
  itk::FeatureStatistics second{ { 0, 2, 5 }, Matrix(3, 3, { 1, 0, 0, 0, 16, 0, 0, 0, 2.25 }) };
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(first, second), (1 + 0 + 4) + (1 + 1 + 1), 1e-12);

  // From samples: (+-a, 0), (0, +-b) have mean 0 and covariance diag(2a^2/3, 2b^2/3).
  const double a = 3, b = 1, c = 2, d = 5, shift = 0.5;
  auto         real = Matrix(4, 2, { a, 0, -a, 0, 0, b, 0, -b });
  auto         synthetic = Matrix(4, 2, { c, shift, -c, shift, 0, d + shift, 0, -d + shift });
  const double expected = shift * shift + std::pow(std::sqrt(2 * a * a / 3) - std::sqrt(2 * c * c / 3), 2) +
                          std::pow(std::sqrt(2 * b * b / 3) - std::sqrt(2 * d * d / 3), 2);
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(real, synthetic), expected, 1e-12);
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(synthetic, real), expected, 1e-12);
}

TEST(FeatureFidelity, FrechetOfIdenticalSetsIsZero)
{
  const auto x = Matrix(5, 3, { 0.3, 1.2, -0.5, 1.1, 0.4, 0.2, -0.7, 0.9, 1.3, 0.5, -1.0, 0.8, 2.0, 0.3, -0.4 });
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(x, x), 0.0, 1e-12);
  const auto statistics = itk::FeatureStatistics::Compute(x);
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(statistics, statistics), 0.0, 1e-12);
}

// numpy reference (/usr/bin/python3, numpy 1.24): the symmetric square root by eigh,
//   def sqrtm_eigh(a):
//       w, v = np.linalg.eigh((a + a.T) / 2); return (v * np.sqrt(np.clip(w, 0, None))) @ v.T
//   s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False); r1 = sqrtm_eigh(s1)
//   fid = sum((x.mean(0) - y.mean(0))**2) + trace(s1) + trace(s2) - 2 * trace(sqrtm_eigh(r1 @ s2 @ r1))
// For the full-rank case the pytorch-fid route, sum(sqrt(eigvals(s1 @ s2))), agrees to 1e-15.
TEST(FeatureFidelity, FrechetMatchesNumpyReference)
{
  const auto real =
    Matrix(6, 3, { 0.3, 1.2, -0.5, 1.1, 0.4, 0.2, -0.7, 0.9, 1.3, 0.5, -1.0, 0.8, 2.0, 0.3, -0.4, -0.2, 1.7, 0.6 });
  const auto synthetic = Matrix(5, 3, { 0.9, 0.1, 0.4, 1.5, -0.6, 1.1, -0.3, 0.8, 0.0, 0.2, 1.4, 1.9, 1.2, 0.5, -0.9 });
  const double expected = 0.55962568985218031;
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(real, synthetic), expected, 1e-8 * expected);

  // Fewer rows than features: singular covariances, no regularising offset needed.
  const auto   a = Matrix(4, 6, { 1.79, 0.44, 0.1,  -1.86, -0.28, -0.35, -0.08, -0.63, -0.04, -0.48, -1.31, 0.88,
                                  0.88, 1.71, 0.05, -0.4,  -0.55, -1.55, 0.98,  -1.1,  -1.19, -0.21, 1.49,  0.24 });
  const auto   b = Matrix(3,
                        6,
                        { -1.02,
                            -0.71,
                            0.63,
                            -0.16,
                            -0.77,
                            -0.23,
                            0.75,
                            1.98,
                            -1.24,
                            -0.63,
                            -0.8,
                            -2.42,
                            -0.92,
                            -1.02,
                            1.12,
                            -0.13,
                            -1.62,
                            0.65 });
  const double singular = 8.3097056034472896;
  EXPECT_NEAR(itk::FeatureStatistics::FrechetDistance(a, b), singular, 1e-8 * singular);
}

TEST(FeatureFidelity, FrechetBadInputThrows)
{
  const auto x = Matrix(3, 2, { 1, 2, 3, 4, 5, 7 });
  EXPECT_THROW(itk::FeatureStatistics::FrechetDistance(x, Matrix(1, 2, { 1, 2 })), itk::ExceptionObject); // one row
  EXPECT_THROW(itk::FeatureStatistics::FrechetDistance(x, Matrix(3, 3)), itk::ExceptionObject);
  EXPECT_THROW(itk::FeatureStatistics::FrechetDistance(x, Matrix(3, 2, { 1, 2, 3, 4, 5, std::nan("") })),
               itk::ExceptionObject);
  EXPECT_THROW(itk::FeatureStatistics::FrechetDistance(itk::FeatureStatistics{}, itk::FeatureStatistics{}),
               itk::ExceptionObject);
}

TEST(FeatureFidelity, PCARecoversDominantDirection)
{
  // Direction d = (0.6, 0.8, 0) carries sum t^2 = 1000, e = (0, 0, 1) carries sum s^2 = 1.
  const std::vector<double> t{ -20, -10, 0, 10, 20 };
  const std::vector<double> s{ 0.5, -0.5, 0, -0.5, 0.5 };
  const auto                x = TwoAxisCloud(t, s, { 0.6, 0.8, 0 }, { 0, 0, 1 }, 3.0);
  const auto                embedding = itk::PCAEmbedding::Compute(x);
  EXPECT_NEAR(embedding.Components(0, 0), 0.6, 1e-12);
  EXPECT_NEAR(embedding.Components(0, 1), 0.8, 1e-12);
  EXPECT_NEAR(embedding.Components(0, 2), 0.0, 1e-12);
  EXPECT_NEAR(std::abs(embedding.Components(1, 2)), 1.0, 1e-12);
  EXPECT_NEAR(embedding.ExplainedVarianceRatio[0], 1000.0 / 1001.0, 1e-12);
  EXPECT_NEAR(embedding.ExplainedVarianceRatio[1], 1.0 / 1001.0, 1e-12);
  for (std::size_t i = 0; i < t.size(); ++i)
  {
    EXPECT_NEAR(embedding.Coordinates(i, 0), t[i], 1e-10); // the sign makes 0.8 positive
    EXPECT_NEAR(embedding.Coordinates(i, 1), s[i], 1e-10);
  }
  EXPECT_EQ(embedding.Coordinates.rows(), 5u);
  EXPECT_EQ(embedding.Coordinates.cols(), 2u);
  EXPECT_NEAR(embedding.Mean[0], 3.0, 1e-12);
}

TEST(FeatureFidelity, PCAOfUnionWithMoreFeaturesThanRows)
{
  // 3 + 2 rows in 6 features: the axes come from the 5 x 5 Gram matrix.
  const std::vector<double> d{ 0, 0.6, 0, 0, 0.8, 0 };
  const std::vector<double> e{ 0, 0, 0, -1, 0, 0 };
  const std::vector<double> t{ -20, -10, 0, 10, 20 };
  const std::vector<double> s{ 0.5, -0.5, 0, -0.5, 0.5 };
  const auto                all = TwoAxisCloud(t, s, d, e, -1.0);
  const auto                real = all.extract(3, 6, 0, 0);
  const auto                synthetic = all.extract(2, 6, 3, 0);
  const auto                embedding = itk::PCAEmbedding::Compute(real, synthetic);
  EXPECT_EQ(embedding.FirstSetRows, 3u);
  EXPECT_EQ(embedding.Coordinates.rows(), 5u);
  EXPECT_NEAR(embedding.Components(0, 4), 0.8, 1e-10);
  EXPECT_NEAR(embedding.Components(1, 3), 1.0, 1e-10); // the sign makes the largest entry positive
  EXPECT_NEAR(embedding.ExplainedVarianceRatio[0], 1000.0 / 1001.0, 1e-12);
  for (std::size_t i = 0; i < t.size(); ++i)
  {
    EXPECT_NEAR(embedding.Coordinates(i, 0), t[i], 1e-9);
    EXPECT_NEAR(embedding.Coordinates(i, 1), -s[i], 1e-9);
  }
  EXPECT_THROW(itk::PCAEmbedding::Compute(Matrix(3, 2, { 1, 1, 1, 1, 1, 1 })), itk::ExceptionObject);
  EXPECT_THROW(itk::PCAEmbedding::Compute(Matrix(1, 2, { 1, 1 })), itk::ExceptionObject);
}

TEST(FeatureFidelity, KMeansSeparatesClustersDeterministically)
{
  const auto         x = ThreeBlobs();
  itk::KMeansOptions options;
  options.Clusters = 3;
  options.Seed = 7;
  const auto result = itk::KMeansResult::Cluster(x, options);
  ASSERT_EQ(result.Labels.size(), 36u);
  // Each blob is one cluster, and the three clusters differ.
  std::set<unsigned int> distinct;
  double                 inertia = 0.0;
  for (std::size_t blob = 0; blob < 3; ++blob)
  {
    const unsigned int label = result.Labels[blob];
    distinct.insert(label);
    double meanX = 0.0, meanY = 0.0;
    for (std::size_t i = blob; i < 36; i += 3)
    {
      EXPECT_EQ(result.Labels[i], label) << "row " << i;
      meanX += x(i, 0) / 12.0;
      meanY += x(i, 1) / 12.0;
    }
    EXPECT_NEAR(result.Centroids(label, 0), meanX, 1e-12);
    EXPECT_NEAR(result.Centroids(label, 1), meanY, 1e-12);
    for (std::size_t i = blob; i < 36; i += 3)
    {
      inertia += std::pow(x(i, 0) - meanX, 2) + std::pow(x(i, 1) - meanY, 2);
    }
  }
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_NEAR(result.Inertia, inertia, 1e-9);

  // The same seed gives the same result, bit for bit; several starts keep the best.
  const auto again = itk::KMeansResult::Cluster(x, options);
  EXPECT_EQ(again.Labels, result.Labels);
  EXPECT_EQ(again.Centroids, result.Centroids);
  options.Starts = 4;
  EXPECT_NEAR(itk::KMeansResult::Cluster(x, options).Inertia, inertia, 1e-9);
}

TEST(FeatureFidelity, KMeansEdgeCasesAndErrors)
{
  // Fewer distinct rows than clusters: still k non-empty clusters, zero inertia.
  const auto         duplicates = Matrix(4, 1, { 2, 2, 2, 2 });
  itk::KMeansOptions options;
  options.Clusters = 2;
  const auto result = itk::KMeansResult::Cluster(duplicates, options);
  EXPECT_DOUBLE_EQ(result.Inertia, 0.0);
  EXPECT_EQ(std::set<unsigned int>(result.Labels.begin(), result.Labels.end()).size(), 2u);

  options.Clusters = 0;
  EXPECT_THROW(itk::KMeansResult::Cluster(duplicates, options), itk::ExceptionObject);
  options.Clusters = 5;
  EXPECT_THROW(itk::KMeansResult::Cluster(duplicates, options), itk::ExceptionObject);
  options.Clusters = 2;
  options.MaxIterations = 0;
  EXPECT_THROW(itk::KMeansResult::Cluster(duplicates, options), itk::ExceptionObject);
  options.MaxIterations = 10;
  EXPECT_THROW(itk::KMeansResult::Cluster(Matrix(2, 1, { 1, std::numeric_limits<double>::infinity() }), options),
               itk::ExceptionObject);
}

TEST(FeatureFidelity, KMeansAssignsNewRowsToTheNearestCentroid)
{
  itk::KMeansOptions options;
  options.Clusters = 3;
  const auto clusters = itk::KMeansResult::Cluster(ThreeBlobs(), options);
  // Each blob's own rows go where k-means put them, and points near each blob's centre with them.
  EXPECT_EQ(clusters.NearestCentroids(ThreeBlobs()), clusters.Labels);
  const auto near = Matrix(3, 2, { 9.0, 1.0, 1.0, 9.0, -1.0, 0.5 });
  const auto labels = clusters.NearestCentroids(near);
  EXPECT_EQ(labels[0], clusters.Labels[1]); // row 1 of ThreeBlobs lies near (10, 0)
  EXPECT_EQ(labels[1], clusters.Labels[2]); // row 2 near (0, 10)
  EXPECT_EQ(labels[2], clusters.Labels[0]); // row 0 near (0, 0)
  EXPECT_THROW(clusters.NearestCentroids(Matrix(1, 3, { 0, 0, 0 })), itk::ExceptionObject);
  EXPECT_THROW(clusters.NearestCentroids(itk::Array2D<double>()), itk::ExceptionObject);
}

TEST(MatrixOperations, SelectRowsTakesTheRowsAskedInTheirOrder)
{
  const auto a = Matrix(3, 2, { 1, 2, 3, 4, 5, 6 });
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(itk::MatrixOperations::SelectRows(a, { 2, 0, 2 })),
            (std::vector<double>{ 5, 6, 1, 2, 5, 6 }));
  const auto none = itk::MatrixOperations::SelectRows(a, {});
  EXPECT_EQ(none.rows(), 0u);
  EXPECT_EQ(none.cols(), 2u);
  EXPECT_THROW(itk::MatrixOperations::SelectRows(a, { 3 }), itk::ExceptionObject);
}

TEST(MatrixOperations, MultiplyIsTheDefinitionWithAndWithoutTransposes)
{
  // A is 2 x 3, B is 3 x 2; each product checked against its sums written out.
  const auto a = Matrix(2, 3, { 1, 2, 3, 4, 5, 6 });
  const auto b = Matrix(3, 2, { 7, 8, 9, 10, 11, 12 });
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(itk::MatrixOperations::Multiply(a, b)),
            (std::vector<double>{ 58, 64, 139, 154 }));
  // A^T A (3 x 3) and A A^T (2 x 2).
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(itk::MatrixOperations::Multiply(a, a, true)),
            (std::vector<double>{ 17, 22, 27, 22, 29, 36, 27, 36, 45 }));
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(itk::MatrixOperations::Multiply(a, a, false, true)),
            (std::vector<double>{ 14, 32, 32, 77 }));
  // (B^T A^T) = (A B)^T.
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(itk::MatrixOperations::Multiply(b, a, true, true)),
            (std::vector<double>{ 58, 139, 64, 154 }));
  const auto product = itk::MatrixOperations::Multiply(a, b);
  EXPECT_EQ(product.rows(), 2u);
  EXPECT_EQ(product.cols(), 2u);
  EXPECT_THROW(itk::MatrixOperations::Multiply(a, a), itk::ExceptionObject); // 2 x 3 by 2 x 3
}
