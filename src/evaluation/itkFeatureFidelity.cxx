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
CheckSameFeatures(const DenseMatrix & real, const DenseMatrix & synthetic)
{
  if (real.Columns != synthetic.Columns)
  {
    itkGenericExceptionMacro(<< "The real features have " << real.Columns << " columns but the synthetic ones have "
                             << synthetic.Columns << "; extract both with the same feature extractor");
  }
}

/** Eigenvalues ascending, eigenvectors as the columns of the second matrix. The input is made
 * exactly symmetric first, since round-off in products leaves it a hair off. */
struct Eigensystem
{
  std::vector<double> Values;
  DenseMatrix         Vectors;
};

Eigensystem
SymmetricEigensystem(const DenseMatrix & a)
{
  const std::size_t  n = a.Rows;
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
  result.Vectors = DenseMatrix(n, n);
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
DenseMatrix
Centered(const DenseMatrix & x, std::vector<double> & mean)
{
  mean.assign(x.Columns, 0.0);
  for (std::size_t i = 0; i < x.Rows; ++i)
  {
    for (std::size_t j = 0; j < x.Columns; ++j)
    {
      mean[j] += x(i, j);
    }
  }
  for (double & m : mean)
  {
    m /= static_cast<double>(x.Rows);
  }
  DenseMatrix centered = x;
  for (std::size_t i = 0; i < x.Rows; ++i)
  {
    for (std::size_t j = 0; j < x.Columns; ++j)
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
NearestRealCosineSimilarity(const DenseMatrix & real, const DenseMatrix & synthetic)
{
  real.Validate("real feature matrix");
  synthetic.Validate("synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  const std::size_t f = real.Columns;
  const auto        norms = [f](const DenseMatrix & x) {
    std::vector<double> result(x.Rows);
    for (std::size_t i = 0; i < x.Rows; ++i)
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
  result.Similarity.resize(synthetic.Rows);
  result.NearestRealRow.resize(synthetic.Rows);
  double sum = 0.0;
  for (std::size_t s = 0; s < synthetic.Rows; ++s)
  {
    double      best = -std::numeric_limits<double>::infinity();
    std::size_t bestRow = 0;
    for (std::size_t r = 0; r < real.Rows; ++r)
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
  result.Mean = sum / static_cast<double>(synthetic.Rows);
  return result;
}

FeatureStatistics
ComputeFeatureStatistics(const DenseMatrix & features)
{
  features.Validate("feature matrix");
  if (features.Rows < 2)
  {
    itkGenericExceptionMacro(<< "A covariance needs at least two feature rows, got " << features.Rows
                             << "; give more samples");
  }
  FeatureStatistics statistics;
  const DenseMatrix centered = Centered(features, statistics.Mean);
  statistics.Covariance = DenseMatrix::Multiply(centered, centered, true);
  for (double & v : statistics.Covariance.Values)
  {
    v /= static_cast<double>(features.Rows - 1);
  }
  return statistics;
}

double
FrechetDistance(const FeatureStatistics & first, const FeatureStatistics & second)
{
  const std::size_t f = first.Mean.size();
  if (f == 0 || second.Mean.size() != f || first.Covariance.Rows != f || first.Covariance.Columns != f ||
      second.Covariance.Rows != f || second.Covariance.Columns != f)
  {
    itkGenericExceptionMacro(
      << "The Fréchet distance needs two non-empty statistics of the same dimension, got means of " << first.Mean.size()
      << " and " << second.Mean.size() << " features; compute both with ComputeFeatureStatistics on the same features");
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
  DenseMatrix inner =
    DenseMatrix::Multiply(firstEigen.Vectors, DenseMatrix::Multiply(second.Covariance, firstEigen.Vectors), true);
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
FrechetDistance(const DenseMatrix & real, const DenseMatrix & synthetic)
{
  real.Validate("real feature matrix");
  synthetic.Validate("synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  return FrechetDistance(ComputeFeatureStatistics(real), ComputeFeatureStatistics(synthetic));
}

PCAEmbedding
ComputePCAEmbedding(const DenseMatrix & features)
{
  features.Validate("feature matrix");
  if (features.Rows < 2)
  {
    itkGenericExceptionMacro(<< "A principal-component embedding needs at least two rows, got " << features.Rows);
  }
  const std::size_t n = features.Rows;
  const std::size_t f = features.Columns;
  PCAEmbedding      embedding;
  embedding.FirstSetRows = n;
  const DenseMatrix centered = Centered(features, embedding.Mean);
  double            totalVariance = 0.0;
  for (double v : centered.Values)
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
  const Eigensystem eigen = byFeatures ? SymmetricEigensystem(DenseMatrix::Multiply(centered, centered, true))
                                       : SymmetricEigensystem(DenseMatrix::Multiply(centered, centered, false, true));
  const std::size_t size = eigen.Values.size();
  embedding.Components = DenseMatrix(2, f);
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
  embedding.Coordinates = DenseMatrix::Multiply(centered, embedding.Components, false, true);
  return embedding;
}

PCAEmbedding
ComputePCAEmbedding(const DenseMatrix & real, const DenseMatrix & synthetic)
{
  real.Validate("real feature matrix");
  synthetic.Validate("synthetic feature matrix");
  CheckSameFeatures(real, synthetic);
  DenseMatrix both(real.Rows + synthetic.Rows, real.Columns);
  std::copy(real.Values.begin(), real.Values.end(), both.Values.begin());
  std::copy(synthetic.Values.begin(), synthetic.Values.end(), both.Values.begin() + real.Values.size());
  PCAEmbedding embedding = ComputePCAEmbedding(both);
  embedding.FirstSetRows = real.Rows;
  return embedding;
}

namespace
{
/** Nearest centroid of each row; returns the summed squared distances. On ties a row keeps its
 * current cluster when \p keepCurrent (so a cluster refilled from an empty one is not emptied again by
 * equal distances), else takes the lowest index. */
double
Assign(const DenseMatrix & data, const DenseMatrix & centroids, std::vector<unsigned int> & labels,
       std::vector<double> & distances, bool keepCurrent)
{
  double inertia = 0.0;
  for (std::size_t i = 0; i < data.Rows; ++i)
  {
    double       best = std::numeric_limits<double>::infinity();
    unsigned int bestCluster = 0;
    if (keepCurrent)
    {
      bestCluster = labels[i];
      best =
        SquaredDistance(&data.Values[i * data.Columns], &centroids.Values[bestCluster * data.Columns], data.Columns);
    }
    for (std::size_t c = 0; c < centroids.Rows; ++c)
    {
      const double d =
        SquaredDistance(&data.Values[i * data.Columns], &centroids.Values[c * data.Columns], data.Columns);
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
DenseMatrix
SeedCentroids(const DenseMatrix & data, unsigned int clusters, std::mt19937 & generator)
{
  const std::size_t   n = data.Rows;
  const std::size_t   f = data.Columns;
  DenseMatrix         centroids(clusters, f);
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
    std::copy_n(&data.Values[pick * f], f, &centroids.Values[c * f]);
    for (std::size_t i = 0; i < n; ++i)
    {
      nearest[i] = std::min(nearest[i], SquaredDistance(&data.Values[i * f], &centroids.Values[c * f], f));
    }
  }
  return centroids;
}

/** Centroids as the means of their rows; an empty cluster takes the row farthest from its centroid
 * (among clusters with more than one row), so k clusters stay k. */
void
UpdateCentroids(const DenseMatrix & data, DenseMatrix & centroids, std::vector<unsigned int> & labels,
                std::vector<double> & distances)
{
  const std::size_t        f = data.Columns;
  std::vector<std::size_t> counts(centroids.Rows, 0);
  for (unsigned int label : labels)
  {
    ++counts[label];
  }
  for (std::size_t c = 0; c < centroids.Rows; ++c)
  {
    if (counts[c] != 0)
    {
      continue;
    }
    std::size_t farthest = data.Rows;
    for (std::size_t i = 0; i < data.Rows; ++i)
    {
      if (counts[labels[i]] > 1 && (farthest == data.Rows || distances[i] > distances[farthest]))
      {
        farthest = i;
      }
    }
    --counts[labels[farthest]];
    labels[farthest] = static_cast<unsigned int>(c);
    distances[farthest] = 0.0;
    counts[c] = 1;
  }
  std::fill(centroids.Values.begin(), centroids.Values.end(), 0.0);
  for (std::size_t i = 0; i < data.Rows; ++i)
  {
    double *       centroid = &centroids.Values[labels[i] * f];
    const double * row = &data.Values[i * f];
    for (std::size_t j = 0; j < f; ++j)
    {
      centroid[j] += row[j];
    }
  }
  for (std::size_t c = 0; c < centroids.Rows; ++c)
  {
    for (std::size_t j = 0; j < f; ++j)
    {
      centroids(c, j) /= static_cast<double>(counts[c]);
    }
  }
}
} // end anonymous namespace

std::vector<unsigned int>
KMeansResult::NearestCentroids(const DenseMatrix & rows) const
{
  rows.Validate("rows to assign to clusters");
  if (rows.Columns != Centroids.Columns || Centroids.Rows == 0)
  {
    itkGenericExceptionMacro(<< "The rows have " << rows.Columns << " columns but the " << Centroids.Rows
                             << " centroids have " << Centroids.Columns
                             << "; assign rows of the features the clustering was fitted on");
  }
  std::vector<unsigned int> labels(rows.Rows, 0);
  std::vector<double>       distances(rows.Rows, 0.0);
  Assign(rows, Centroids, labels, distances, false);
  return labels;
}

KMeansResult
KMeansCluster(const DenseMatrix & data, const KMeansOptions & options)
{
  data.Validate("data to cluster");
  if (options.Clusters == 0 || options.Clusters > data.Rows)
  {
    itkGenericExceptionMacro(<< "k-means needs between 1 and " << data.Rows << " clusters (the number of rows), got "
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
  std::vector<unsigned int> labels(data.Rows);
  std::vector<unsigned int> previous(data.Rows);
  std::vector<double>       distances(data.Rows);
  for (unsigned int start = 0; start < options.Starts; ++start)
  {
    DenseMatrix centroids = SeedCentroids(data, options.Clusters, generator);
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
