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
#include "itkExpressionMetrics.h"

#include "itkAtomicFile.h"
#include "itkJsonNumbers.h"
#include "itkMacro.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

namespace itk
{
namespace
{
constexpr double NotANumber = std::numeric_limits<double>::quiet_NaN();

bool
IsConstant(const std::vector<double> & values)
{
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); });
}

void
CheckSameLength(const std::vector<double> & x, const std::vector<double> & y)
{
  if (x.size() != y.size())
  {
    itkGenericExceptionMacro(<< "A correlation needs two samples of equal length, got " << x.size() << " and "
                             << y.size());
  }
}

/** Pearson's r of non-constant samples, by two passes (mean first) to avoid cancellation. */
double
PearsonOfNonConstant(const std::vector<double> & x, const std::vector<double> & y)
{
  const double n = static_cast<double>(x.size());
  const double meanX = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double meanY = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double       sxy = 0.0;
  double       sxx = 0.0;
  double       syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    const double dx = x[i] - meanX;
    const double dy = y[i] - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // Rounding can push |r| a hair past 1 for perfectly correlated samples.
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double
MeanOfDefined(const std::vector<double> & values, std::size_t & excluded)
{
  double      sum = 0.0;
  std::size_t count = 0;
  for (double v : values)
  {
    if (std::isnan(v))
    {
      continue;
    }
    sum += v;
    ++count;
  }
  excluded = values.size() - count;
  return count == 0 ? NotANumber : sum / static_cast<double>(count);
}

std::string
FormatNumber(double value)
{
  if (std::isnan(value))
  {
    return "nan";
  }
  std::ostringstream text;
  text << std::setprecision(10) << value;
  return text.str();
}

void
WriteTextAtomically(const std::string & fileName, const std::string & text, const char * what)
{
  AtomicFile::Write(fileName, text, std::string("the ") + what);
}
} // end anonymous namespace

std::vector<double>
ExpressionMetrics::AverageRanks(const std::vector<double> & values)
{
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{ 0 });
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t first = 0; first < order.size();)
  {
    std::size_t last = first + 1;
    while (last < order.size() && values[order[last]] == values[order[first]])
    {
      ++last;
    }
    // Positions first..last-1 hold equal values: each gets the mean of ranks first+1..last.
    const double rank = 0.5 * static_cast<double>(first + 1 + last);
    for (std::size_t k = first; k < last; ++k)
    {
      ranks[order[k]] = rank;
    }
    first = last;
  }
  return ranks;
}

double
ExpressionMetrics::PearsonCorrelation(const std::vector<double> & x, const std::vector<double> & y)
{
  CheckSameLength(x, y);
  if (x.empty() || IsConstant(x) || IsConstant(y))
  {
    return NotANumber;
  }
  return PearsonOfNonConstant(x, y);
}

double
ExpressionMetrics::SpearmanCorrelation(const std::vector<double> & x, const std::vector<double> & y)
{
  CheckSameLength(x, y);
  if (x.empty() || IsConstant(x) || IsConstant(y))
  {
    return NotANumber;
  }
  return PearsonOfNonConstant(ExpressionMetrics::AverageRanks(x), ExpressionMetrics::AverageRanks(y));
}

ExpressionMetrics
ExpressionMetrics::Compute(const Array2D<double> & truth, const Array2D<double> & prediction,
                           const std::vector<std::string> & genes)
{
  MatrixOperations::Validate(truth, "true expression");
  MatrixOperations::Validate(prediction, "predicted expression");
  if (truth.rows() != prediction.rows() || truth.cols() != prediction.cols())
  {
    itkGenericExceptionMacro(<< "The true expression is " << truth.rows() << " spots x " << truth.cols()
                             << " genes but the prediction is " << prediction.rows() << " x " << prediction.cols()
                             << "; predict the same spots and genes, in the same order");
  }
  if (!genes.empty() && genes.size() != truth.cols())
  {
    itkGenericExceptionMacro(<< "Got " << genes.size() << " gene names for " << truth.cols()
                             << " expression columns; give one name per column (or none)");
  }
  const std::size_t spots = truth.rows();
  const std::size_t geneCount = truth.cols();

  ExpressionMetrics metrics;
  metrics.Spots = spots;
  metrics.Genes = genes;
  if (metrics.Genes.empty())
  {
    for (std::size_t g = 0; g < geneCount; ++g)
    {
      metrics.Genes.push_back(std::to_string(g));
    }
  }

  double absoluteSum = 0.0;
  double squaredSum = 0.0;
  for (std::size_t i = 0; i < truth.size(); ++i)
  {
    const double difference = prediction.data_block()[i] - truth.data_block()[i];
    absoluteSum += std::abs(difference);
    squaredSum += difference * difference;
  }
  const double entries = static_cast<double>(truth.size());
  metrics.MeanAbsoluteError = absoluteSum / entries;
  metrics.RootMeanSquaredError = std::sqrt(squaredSum / entries);

  metrics.GeneMeanAbsoluteError.resize(geneCount);
  metrics.GenePearson.resize(geneCount);
  metrics.GeneSpearman.resize(geneCount);
  std::vector<double> x(spots);
  std::vector<double> y(spots);
  for (std::size_t g = 0; g < geneCount; ++g)
  {
    double geneAbsoluteSum = 0.0;
    for (std::size_t s = 0; s < spots; ++s)
    {
      x[s] = truth(s, g);
      y[s] = prediction(s, g);
      geneAbsoluteSum += std::abs(y[s] - x[s]);
    }
    metrics.GeneMeanAbsoluteError[g] = geneAbsoluteSum / static_cast<double>(spots);
    metrics.GenePearson[g] = ExpressionMetrics::PearsonCorrelation(x, y);
    metrics.GeneSpearman[g] = ExpressionMetrics::SpearmanCorrelation(x, y);
  }
  metrics.MeanPearson = MeanOfDefined(metrics.GenePearson, metrics.ExcludedPearsonGenes);
  metrics.MeanSpearman = MeanOfDefined(metrics.GeneSpearman, metrics.ExcludedSpearmanGenes);
  return metrics;
}

std::string
ExpressionMetrics::ToJSON() const
{
  nlohmann::json perGene = nlohmann::json::array();
  for (std::size_t g = 0; g < Genes.size(); ++g)
  {
    perGene.push_back({ { "gene", Genes[g] },
                        { "mae", JsonNumber(GeneMeanAbsoluteError[g]) },
                        { "pearson", JsonNumber(GenePearson[g]) },
                        { "spearman", JsonNumber(GeneSpearman[g]) } });
  }
  const nlohmann::json document = { { "spots", Spots },
                                    { "genes", Genes.size() },
                                    { "mae", JsonNumber(MeanAbsoluteError) },
                                    { "rmse", JsonNumber(RootMeanSquaredError) },
                                    { "mean_pearson", JsonNumber(MeanPearson) },
                                    { "mean_spearman", JsonNumber(MeanSpearman) },
                                    { "excluded_pearson_genes", ExcludedPearsonGenes },
                                    { "excluded_spearman_genes", ExcludedSpearmanGenes },
                                    { "per_gene", perGene } };
  return document.dump(2) + "\n";
}

std::string
ExpressionMetrics::ToTSV() const
{
  std::ostringstream text;
  text << "gene\tmae\tpearson\tspearman\n";
  for (std::size_t g = 0; g < Genes.size(); ++g)
  {
    text << Genes[g] << '\t' << FormatNumber(GeneMeanAbsoluteError[g]) << '\t' << FormatNumber(GenePearson[g]) << '\t'
         << FormatNumber(GeneSpearman[g]) << '\n';
  }
  return text.str();
}

void
ExpressionMetrics::WriteJSONFile(const std::string & fileName) const
{
  WriteTextAtomically(fileName, ToJSON(), "expression metrics");
}

void
ExpressionMetrics::WriteTSVFile(const std::string & fileName) const
{
  WriteTextAtomically(fileName, ToTSV(), "per-gene expression metrics");
}

std::vector<std::size_t>
ExpressionMetrics::GenesWithLowerError(const ExpressionMetrics & baseline, const ExpressionMetrics & candidate)
{
  if (baseline.Genes != candidate.Genes || baseline.GeneMeanAbsoluteError.size() != baseline.Genes.size() ||
      candidate.GeneMeanAbsoluteError.size() != candidate.Genes.size())
  {
    itkGenericExceptionMacro(<< "The baseline and candidate metrics cover different genes (" << baseline.Genes.size()
                             << " and " << candidate.Genes.size()
                             << "); evaluate both on the same genes, in the same order");
  }
  std::vector<std::size_t> improved;
  for (std::size_t g = 0; g < candidate.Genes.size(); ++g)
  {
    if (candidate.GeneMeanAbsoluteError[g] < baseline.GeneMeanAbsoluteError[g])
    {
      improved.push_back(g);
    }
  }
  return improved;
}

} // end namespace itk
