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
#include "itkFeatureFidelity.h"

#include "itkMacro.h"
#include "vnl/algo/vnl_symmetric_eigensystem.h"
#include "vnl/vnl_matrix.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace itk
{
namespace
{
void
CheckSameFeatures(const Array2D<double> & real, const Array2D<double> & synthetic)
{
  if (real.cols() != synthetic.cols())
  {
    itkGenericExceptionMacro(<< "The real features have " << real.cols() << " columns but the synthetic ones have "
                             << synthetic.cols() << "; extract both with the same feature extractor");
  }
}

/** Eigenvalues ascending, eigenvectors as the columns of the second matrix. The input is made
 * exactly symmetric first, since round-off in products leaves it a hair off. */
struct Eigensystem
{
  std::vector<double> Values;
  Array2D<double>     Vectors;
};

Eigensystem
SymmetricEigensystem(const Array2D<double> & a)
{
  const std::size_t  n = a.rows();
  vnl_matrix<double> m(static_cast<unsigned int>(n), static_cast<unsigned int>(n));
  for (std::size_t i = 0; i < n; ++i)
  {
    for (std::size_t j = 0; j < n; ++j)
    {
      m(i, j) = 0.5 * (a(i, j) + a(j, i));
    }
  }
  const vnl_symmetric_eigensystem<double> eigen(m);
  Eigensystem                             result;
  result.Values.resize(n);
  result.Vectors = MatrixOperations::Zeros(n, n);
  for (std::size_t i = 0; i < n; ++i)
  {
    result.Values[i] = eigen.D(i, i);
    for (std::size_t j = 0; j < n; ++j)
    {
      result.Vectors(i, j) = eigen.V(i, j);
    }
  }
  return result;
}

/** Rows minus their column means, and the means. */
Array2D<double>
Centered(const Array2D<double> & x, std::vector<double> & mean)
{
  mean.assign(x.cols(), 0.0);
  for (std::size_t i = 0; i < x.rows(); ++i)
  {
    for (std::size_t j = 0; j < x.cols(); ++j)
    {
      mean[j] += x(i, j);
    }
  }
  for (double & m : mean)
  {
    m /= static_cast<double>(x.rows());
  }
  Array2D<double> centered = x;
  for (std::size_t i = 0; i < x.rows(); ++i)
  {
    for (std::size_t j = 0; j < x.cols(); ++j)
    {
      centered(i, j) -= mean[j];
    }
  }
  return centered;
}

double
SquaredDistance(const double * a, const double * b, std::size_t n)
{
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
  {
    const double d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

/** Uniform in [0, 1) from raw mt19937 output: std::uniform_real_distribution differs between libraries. */
double
Uniform(std::mt19937 & generator)
{
  return generator() / 4294967296.0;
}
} // end anonymous namespace

NearestNeighborSimilarity
NearestNeighborSimilarity::Compute(const Array2D<double> & real, const Array2D<double> & synthetic)
{
  MatrixOperations::Validate(real, "real feature matrix");
  MatrixOperations::Validate(synthetic, "synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  const std::size_t f = real.cols();
  const auto        norms = [f](const Array2D<double> & x) {
    std::vector<double> result(x.rows());
    for (std::size_t i = 0; i < x.rows(); ++i)
    {
      double sum = 0.0;
      for (std::size_t j = 0; j < f; ++j)
      {
        sum += x(i, j) * x(i, j);
      }
      result[i] = std::sqrt(sum);
    }
    return result;
  };
  const std::vector<double> realNorms = norms(real);
  const std::vector<double> syntheticNorms = norms(synthetic);

  NearestNeighborSimilarity result;
  result.Similarity.resize(synthetic.rows());
  result.NearestRealRow.resize(synthetic.rows());
  double sum = 0.0;
  for (std::size_t s = 0; s < synthetic.rows(); ++s)
  {
    double      best = -std::numeric_limits<double>::infinity();
    std::size_t bestRow = 0;
    for (std::size_t r = 0; r < real.rows(); ++r)
    {
      double similarity = 0.0;
      if (realNorms[r] > 0.0 && syntheticNorms[s] > 0.0)
      {
        double dot = 0.0;
        for (std::size_t j = 0; j < f; ++j)
        {
          dot += synthetic(s, j) * real(r, j);
        }
        similarity = std::clamp(dot / (realNorms[r] * syntheticNorms[s]), -1.0, 1.0);
      }
      if (similarity > best)
      {
        best = similarity;
        bestRow = r;
      }
    }
    result.Similarity[s] = best;
    result.NearestRealRow[s] = bestRow;
    sum += best;
  }
  result.Mean = sum / static_cast<double>(synthetic.rows());
  return result;
}

FeatureStatistics
FeatureStatistics::Compute(const Array2D<double> & features)
{
  MatrixOperations::Validate(features, "feature matrix");
  if (features.rows() < 2)
  {
    itkGenericExceptionMacro(<< "A covariance needs at least two feature rows, got " << features.rows()
                             << "; give more samples");
  }
  FeatureStatistics     statistics;
  const Array2D<double> centered = Centered(features, statistics.Mean);
  statistics.Covariance = MatrixOperations::Multiply(centered, centered, true);
  for (double & v : statistics.Covariance)
  {
    v /= static_cast<double>(features.rows() - 1);
  }
  return statistics;
}

double
FeatureStatistics::FrechetDistance(const FeatureStatistics & first, const FeatureStatistics & second)
{
  const std::size_t f = first.Mean.size();
  if (f == 0 || second.Mean.size() != f || first.Covariance.rows() != f || first.Covariance.cols() != f ||
      second.Covariance.rows() != f || second.Covariance.cols() != f)
  {
    itkGenericExceptionMacro(
      << "The Fréchet distance needs two non-empty statistics of the same dimension, got means of " << first.Mean.size()
      << " and " << second.Mean.size()
      << " features; compute both with FeatureStatistics::Compute on the same features");
  }
  double meanTerm = 0.0;
  double traceFirst = 0.0;
  double traceSecond = 0.0;
  for (std::size_t i = 0; i < f; ++i)
  {
    const double d = first.Mean[i] - second.Mean[i];
    meanTerm += d * d;
    traceFirst += first.Covariance(i, i);
    traceSecond += second.Covariance(i, i);
  }
  // S1 = V diag(l) V^T, so sqrt(S1) S2 sqrt(S1) is orthogonally similar to diag(s) (V^T S2 V) diag(s),
  // s = sqrt(max(l, 0)): the same spectrum at the cost of two products instead of three.
  const Eigensystem   firstEigen = SymmetricEigensystem(first.Covariance);
  std::vector<double> rootEigenvalues(f);
  for (std::size_t i = 0; i < f; ++i)
  {
    rootEigenvalues[i] = std::sqrt(std::max(0.0, firstEigen.Values[i]));
  }
  Array2D<double> inner = MatrixOperations::Multiply(
    firstEigen.Vectors, MatrixOperations::Multiply(second.Covariance, firstEigen.Vectors), true);
  for (std::size_t i = 0; i < f; ++i)
  {
    for (std::size_t j = 0; j < f; ++j)
    {
      inner(i, j) *= rootEigenvalues[i] * rootEigenvalues[j];
    }
  }
  double traceRoot = 0.0;
  for (double lambda : SymmetricEigensystem(inner).Values)
  {
    traceRoot += std::sqrt(std::max(0.0, lambda));
  }
  // Equal distributions give 0 up to round-off, which may land a hair below.
  return std::max(0.0, meanTerm + traceFirst + traceSecond - 2.0 * traceRoot);
}

double
FeatureStatistics::FrechetDistance(const Array2D<double> & real, const Array2D<double> & synthetic)
{
  MatrixOperations::Validate(real, "real feature matrix");
  MatrixOperations::Validate(synthetic, "synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  return FeatureStatistics::FrechetDistance(FeatureStatistics::Compute(real), FeatureStatistics::Compute(synthetic));
}

PCAEmbedding
PCAEmbedding::Compute(const Array2D<double> & features)
{
  MatrixOperations::Validate(features, "feature matrix");
  if (features.rows() < 2)
  {
    itkGenericExceptionMacro(<< "A principal-component embedding needs at least two rows, got " << features.rows());
  }
  const std::size_t n = features.rows();
  const std::size_t f = features.cols();
  PCAEmbedding      embedding;
  embedding.FirstSetRows = n;
  const Array2D<double> centered = Centered(features, embedding.Mean);
  double                totalVariance = 0.0;
  for (double v : centered)
  {
    totalVariance += v * v;
  }
  if (!(totalVariance > 0.0))
  {
    itkGenericExceptionMacro(<< "All " << n << " rows are equal: there is no direction of variance to embed");
  }

  // The principal axes from the smaller of X^T X (f x f) and X X^T (n x n); both share their
  // non-zero spectrum, and an eigenvector u of X X^T gives the axis X^T u.
  const bool        byFeatures = f <= n;
  const Eigensystem eigen = byFeatures
                              ? SymmetricEigensystem(MatrixOperations::Multiply(centered, centered, true))
                              : SymmetricEigensystem(MatrixOperations::Multiply(centered, centered, false, true));
  const std::size_t size = eigen.Values.size();
  embedding.Components = MatrixOperations::Zeros(2, f);
  for (std::size_t c = 0; c < 2 && c < size; ++c)
  {
    const std::size_t   column = size - 1 - c; // ascending order: the largest last
    const double        lambda = std::max(0.0, eigen.Values[column]);
    std::vector<double> axis(f, 0.0);
    if (byFeatures)
    {
      for (std::size_t j = 0; j < f; ++j)
      {
        axis[j] = eigen.Vectors(j, column);
      }
    }
    else
    {
      for (std::size_t i = 0; i < n; ++i)
      {
        for (std::size_t j = 0; j < f; ++j)
        {
          axis[j] += centered(i, j) * eigen.Vectors(i, column);
        }
      }
    }
    double norm = 0.0;
    double largest = 0.0;
    for (double v : axis)
    {
      norm += v * v;
      if (std::abs(v) > std::abs(largest))
      {
        largest = v;
      }
    }
    norm = std::sqrt(norm);
    if (!(norm > 0.0) || lambda == 0.0)
    {
      continue; // no variance left along a second axis: its coordinates stay 0
    }
    const double sign = largest < 0.0 ? -1.0 : 1.0;
    for (std::size_t j = 0; j < f; ++j)
    {
      embedding.Components(c, j) = sign * axis[j] / norm;
    }
    embedding.ExplainedVarianceRatio[c] = lambda / totalVariance;
  }
  embedding.Coordinates = MatrixOperations::Multiply(centered, embedding.Components, false, true);
  return embedding;
}

PCAEmbedding
PCAEmbedding::Compute(const Array2D<double> & real, const Array2D<double> & synthetic)
{
  MatrixOperations::Validate(real, "real feature matrix");
  MatrixOperations::Validate(synthetic, "synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  Array2D<double> both(real.rows() + synthetic.rows(), real.cols());
  std::copy(real.begin(), real.end(), both.begin());
  std::copy(synthetic.begin(), synthetic.end(), both.begin() + real.size());
  PCAEmbedding embedding = PCAEmbedding::Compute(both);
  embedding.FirstSetRows = real.rows();
  return embedding;
}

namespace
{
/** Nearest centroid of each row; returns the summed squared distances. On ties a row keeps its
 * current cluster when \p keepCurrent (so a cluster refilled from an empty one is not emptied again by
 * equal distances), else takes the lowest index. */
double
Assign(const Array2D<double> & data, const Array2D<double> & centroids, std::vector<unsigned int> & labels,
       std::vector<double> & distances, bool keepCurrent)
{
  double inertia = 0.0;
  for (std::size_t i = 0; i < data.rows(); ++i)
  {
    double       best = std::numeric_limits<double>::infinity();
    unsigned int bestCluster = 0;
    if (keepCurrent)
    {
      bestCluster = labels[i];
      best = SquaredDistance(
        &data.data_block()[i * data.cols()], &centroids.data_block()[bestCluster * data.cols()], data.cols());
    }
    for (std::size_t c = 0; c < centroids.rows(); ++c)
    {
      const double d =
        SquaredDistance(&data.data_block()[i * data.cols()], &centroids.data_block()[c * data.cols()], data.cols());
      if (d < best)
      {
        best = d;
        bestCluster = static_cast<unsigned int>(c);
      }
    }
    labels[i] = bestCluster;
    distances[i] = best;
    inertia += best;
  }
  return inertia;
}

/** k-means++: the first centre uniformly, each next one with probability proportional to the squared
 * distance to the nearest centre chosen so far. */
Array2D<double>
SeedCentroids(const Array2D<double> & data, unsigned int clusters, std::mt19937 & generator)
{
  const std::size_t   n = data.rows();
  const std::size_t   f = data.cols();
  Array2D<double>     centroids = MatrixOperations::Zeros(clusters, f);
  std::vector<bool>   chosen(n, false);
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  std::size_t         pick = std::min(n - 1, static_cast<std::size_t>(Uniform(generator) * n));
  for (unsigned int c = 0; c < clusters; ++c)
  {
    if (c > 0)
    {
      double total = 0.0;
      for (double d : nearest)
      {
        total += d;
      }
      if (total > 0.0)
      {
        const double target = Uniform(generator) * total;
        double       cumulative = 0.0;
        pick = n;
        for (std::size_t i = 0; i < n; ++i)
        {
          cumulative += nearest[i];
          if (nearest[i] > 0.0 && cumulative > target)
          {
            pick = i;
            break;
          }
        }
        if (pick == n) // round-off at the top end: the last row with weight
        {
          for (std::size_t i = n; i-- > 0;)
          {
            if (nearest[i] > 0.0)
            {
              pick = i;
              break;
            }
          }
        }
      }
      else
      {
        // Fewer distinct rows than clusters: take the first row not yet a centre.
        pick = static_cast<std::size_t>(std::find(chosen.begin(), chosen.end(), false) - chosen.begin());
      }
    }
    chosen[pick] = true;
    std::copy_n(&data.data_block()[pick * f], f, &centroids.data_block()[c * f]);
    for (std::size_t i = 0; i < n; ++i)
    {
      nearest[i] = std::min(nearest[i], SquaredDistance(&data.data_block()[i * f], &centroids.data_block()[c * f], f));
    }
  }
  return centroids;
}

/** Centroids as the means of their rows; an empty cluster takes the row farthest from its centroid
 * (among clusters with more than one row), so k clusters stay k. */
void
UpdateCentroids(const Array2D<double> & data, Array2D<double> & centroids, std::vector<unsigned int> & labels,
                std::vector<double> & distances)
{
  const std::size_t        f = data.cols();
  std::vector<std::size_t> counts(centroids.rows(), 0);
  for (unsigned int label : labels)
  {
    ++counts[label];
  }
  for (std::size_t c = 0; c < centroids.rows(); ++c)
  {
    if (counts[c] != 0)
    {
      continue;
    }
    std::size_t farthest = data.rows();
    for (std::size_t i = 0; i < data.rows(); ++i)
    {
      if (counts[labels[i]] > 1 && (farthest == data.rows() || distances[i] > distances[farthest]))
      {
        farthest = i;
      }
    }
    --counts[labels[farthest]];
    labels[farthest] = static_cast<unsigned int>(c);
    distances[farthest] = 0.0;
    counts[c] = 1;
  }
  centroids.Fill(0.0);
  for (std::size_t i = 0; i < data.rows(); ++i)
  {
    double *       centroid = &centroids.data_block()[labels[i] * f];
    const double * row = &data.data_block()[i * f];
    for (std::size_t j = 0; j < f; ++j)
    {
      centroid[j] += row[j];
    }
  }
  for (std::size_t c = 0; c < centroids.rows(); ++c)
  {
    for (std::size_t j = 0; j < f; ++j)
    {
      centroids(c, j) /= static_cast<double>(counts[c]);
    }
  }
}
} // end anonymous namespace

std::vector<unsigned int>
KMeansResult::NearestCentroids(const Array2D<double> & rows) const
{
  MatrixOperations::Validate(rows, "rows to assign to clusters");
  if (rows.cols() != Centroids.cols() || Centroids.rows() == 0)
  {
    itkGenericExceptionMacro(<< "The rows have " << rows.cols() << " columns but the " << Centroids.rows()
                             << " centroids have " << Centroids.cols()
                             << "; assign rows of the features the clustering was fitted on");
  }
  std::vector<unsigned int> labels(rows.rows(), 0);
  std::vector<double>       distances(rows.rows(), 0.0);
  Assign(rows, Centroids, labels, distances, false);
  return labels;
}

KMeansResult
KMeansResult::Cluster(const Array2D<double> & data, const KMeansOptions & options)
{
  MatrixOperations::Validate(data, "data to cluster");
  if (options.Clusters == 0 || options.Clusters > data.rows())
  {
    itkGenericExceptionMacro(<< "k-means needs between 1 and " << data.rows() << " clusters (the number of rows), got "
                             << options.Clusters);
  }
  if (options.MaxIterations == 0 || options.Starts == 0)
  {
    itkGenericExceptionMacro(<< "k-means needs at least one iteration and one start, got MaxIterations "
                             << options.MaxIterations << " and Starts " << options.Starts);
  }
  std::mt19937 generator(options.Seed);
  KMeansResult best;
  best.Inertia = std::numeric_limits<double>::infinity();
  std::vector<unsigned int> labels(data.rows());
  std::vector<unsigned int> previous(data.rows());
  std::vector<double>       distances(data.rows());
  for (unsigned int start = 0; start < options.Starts; ++start)
  {
    Array2D<double> centroids = SeedCentroids(data, options.Clusters, generator);
    Assign(data, centroids, labels, distances, false);
    unsigned int iterations = 0;
    double       inertia = 0.0;
    while (true)
    {
      previous = labels;
      UpdateCentroids(data, centroids, labels, distances);
      inertia = Assign(data, centroids, labels, distances, true);
      ++iterations;
      if (labels == previous || iterations >= options.MaxIterations)
      {
        break;
      }
    }
    if (inertia < best.Inertia)
    {
      best.Labels = labels;
      best.Centroids = centroids;
      best.Inertia = inertia;
      best.Iterations = iterations;
    }
  }
  return best;
}

} // end namespace itk
