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

// Expression metrics against closed forms, and Spearman with ties against values computed by an
// independent numpy implementation (below), hard-coded because the test machine's python has no scipy.

#include "itkExpressionMetrics.h"
#include "itkMatrixOperations.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

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

constexpr double NotANumber = std::numeric_limits<double>::quiet_NaN();

itk::Array2D<double>
ByGene(std::size_t spots, const std::vector<std::vector<double>> & genes)
{
  auto m = Matrix(spots, genes.size());
  for (std::size_t g = 0; g < genes.size(); ++g)
  {
    for (std::size_t s = 0; s < spots; ++s)
    {
      m(s, g) = genes[g][s];
    }
  }
  return m;
}

// 8 spots x 3 genes with ties in both truth and prediction (columns: genes).
const auto TiedTruth =
  Matrix(8, 3, { 1, 0, 2.5, 2, 0, 2.5, 2, 1, 0.5, 3, 1, 4.0, 5, 1, 2.5, 5, 2, 1.0, 5, 0, 3.0, 8, 3, 0.5 });
const auto TiedPrediction =
  Matrix(8, 3, { 0.5, 1, 1.0, 2, 1, 2.0, 1, 1, 1.0, 3, 2, 2.0, 4, 0, 3.0, 6, 2, 1.0, 4, 1, 2.0, 7, 2, 0.0 });
} // namespace

TEST(ExpressionMetrics, ErrorsByHand)
{
  // Differences 1, -1, 3, 0: MAE 5/4, RMSE sqrt(11/4); gene MAEs (1 + 3)/2 and (1 + 0)/2.
  const auto truth = Matrix(2, 2, { 0, 0, 0, 0 });
  const auto prediction = Matrix(2, 2, { 1, -1, 3, 0 });
  const auto metrics = itk::ExpressionMetrics::Compute(truth, prediction, { "A", "B" });
  EXPECT_DOUBLE_EQ(metrics.MeanAbsoluteError, 1.25);
  EXPECT_DOUBLE_EQ(metrics.RootMeanSquaredError, std::sqrt(2.75));
  EXPECT_DOUBLE_EQ(metrics.GeneMeanAbsoluteError[0], 2.0);
  EXPECT_DOUBLE_EQ(metrics.GeneMeanAbsoluteError[1], 0.5);
  EXPECT_EQ(metrics.Spots, 2u);
  // The truth is constant for both genes: no correlation is defined.
  EXPECT_TRUE(std::isnan(metrics.GenePearson[0]));
  EXPECT_TRUE(std::isnan(metrics.MeanPearson));
  EXPECT_EQ(metrics.ExcludedPearsonGenes, 2u);
  EXPECT_EQ(metrics.ExcludedSpearmanGenes, 2u);
}

TEST(ExpressionMetrics, CorrelationsClosedForm)
{
  const std::vector<double> x{ -2, -1, 0.5, 1, 3 };
  std::vector<double>       affine, negated, cubed;
  for (double v : x)
  {
    affine.push_back(2.0 * v + 1.0);
    negated.push_back(-v);
    cubed.push_back(v * v * v);
  }
  EXPECT_NEAR(itk::ExpressionMetrics::PearsonCorrelation(x, affine), 1.0, 1e-15);
  EXPECT_NEAR(itk::ExpressionMetrics::PearsonCorrelation(x, negated), -1.0, 1e-15);
  // A monotone, non-linear map: ranks agree exactly, values do not lie on a line.
  EXPECT_DOUBLE_EQ(itk::ExpressionMetrics::SpearmanCorrelation(x, cubed), 1.0);
  EXPECT_LT(itk::ExpressionMetrics::PearsonCorrelation(x, cubed), 0.99);
  // Two points on each side: r = (sum dx dy) / sqrt(sum dx^2 sum dy^2) for x = 0,1,2,3, y = 0,2,1,3.
  EXPECT_DOUBLE_EQ(itk::ExpressionMetrics::PearsonCorrelation({ 0, 1, 2, 3 }, { 0, 2, 1, 3 }), 4.0 / 5.0);
  EXPECT_TRUE(std::isnan(itk::ExpressionMetrics::PearsonCorrelation({ 1, 2, 3 }, { 4, 4, 4 })));
  EXPECT_TRUE(std::isnan(itk::ExpressionMetrics::SpearmanCorrelation({ 0.1, 0.1, 0.1 }, { 1, 2, 3 })));
  EXPECT_THROW(itk::ExpressionMetrics::PearsonCorrelation({ 1, 2 }, { 1, 2, 3 }), itk::ExceptionObject);
}

TEST(ExpressionMetrics, AverageRanksOfTies)
{
  // scipy.stats.rankdata([1, 2, 2, 3, 5, 5, 5, 8]) = [1, 2.5, 2.5, 4, 6, 6, 6, 8].
  EXPECT_EQ(itk::ExpressionMetrics::AverageRanks({ 1, 2, 2, 3, 5, 5, 5, 8 }),
            (std::vector<double>{ 1, 2.5, 2.5, 4, 6, 6, 6, 8 }));
  EXPECT_EQ(itk::ExpressionMetrics::AverageRanks({ 2.5, 2.5, 0.5, 4, 2.5, 1, 3, 0.5 }),
            (std::vector<double>{ 5, 5, 1.5, 8, 5, 3, 7, 1.5 }));
}

// The expected values come from this numpy script (/usr/bin/python3, numpy 1.24), an implementation
// of scipy.stats.rankdata("average") independent of the C++ one:
//   def rankdata_avg(a):
//       values, inverse, counts = np.unique(np.asarray(a, float), return_inverse=True, return_counts=True)
//       ends = np.cumsum(counts); starts = ends - counts + 1
//       return ((starts + ends) / 2.0)[inverse]
//   spearman = lambda x, y: np.corrcoef(rankdata_avg(x), rankdata_avg(y))[0, 1]
//   pearson = lambda x, y: np.corrcoef(x, y)[0, 1]
// on the columns of TiedTruth and TiedPrediction.
TEST(ExpressionMetrics, SpearmanWithTiesMatchesNumpy)
{
  const auto   metrics = itk::ExpressionMetrics::Compute(TiedTruth, TiedPrediction, { "G0", "G1", "G2" });
  const double spearman[3] = { 0.9756060828611427, 0.58953913439011296, 0.72271602608753449 };
  const double pearson[3] = { 0.94947135442146469, 0.56694670951384074, 0.70084178063640601 };
  const double mae[3] = { 0.6875, 0.75, 0.8125 };
  for (int g = 0; g < 3; ++g)
  {
    EXPECT_NEAR(metrics.GeneSpearman[g], spearman[g], 1e-14) << "gene " << g;
    EXPECT_NEAR(metrics.GenePearson[g], pearson[g], 1e-14) << "gene " << g;
    EXPECT_DOUBLE_EQ(metrics.GeneMeanAbsoluteError[g], mae[g]) << "gene " << g;
  }
  EXPECT_NEAR(metrics.MeanSpearman, (spearman[0] + spearman[1] + spearman[2]) / 3.0, 1e-14);
  EXPECT_NEAR(metrics.MeanPearson, (pearson[0] + pearson[1] + pearson[2]) / 3.0, 1e-14);
  EXPECT_DOUBLE_EQ(metrics.MeanAbsoluteError, 0.75);
  EXPECT_NEAR(metrics.RootMeanSquaredError, 0.90138781886599728, 1e-15);
  EXPECT_EQ(metrics.ExcludedPearsonGenes, 0u);
}

TEST(ExpressionMetrics, ConstantGenesAreNaNAndExcluded)
{
  // Gene 0 perfectly predicted, gene 1 constant in the truth, gene 2 constant in the prediction,
  // gene 3 anti-correlated.
  const auto truth = ByGene(4, { { 1, 2, 3, 4 }, { 5, 5, 5, 5 }, { 0, 1, 0, 2 }, { 1, 2, 3, 4 } });
  const auto prediction = ByGene(4, { { 1, 2, 3, 4 }, { 1, 2, 3, 5 }, { 7, 7, 7, 7 }, { 8, 6, 4, 2 } });
  const auto metrics = itk::ExpressionMetrics::Compute(truth, prediction);
  EXPECT_EQ(metrics.Genes, (std::vector<std::string>{ "0", "1", "2", "3" }));
  EXPECT_DOUBLE_EQ(metrics.GenePearson[0], 1.0);
  EXPECT_TRUE(std::isnan(metrics.GenePearson[1]));
  EXPECT_TRUE(std::isnan(metrics.GenePearson[2]));
  EXPECT_TRUE(std::isnan(metrics.GeneSpearman[1]));
  EXPECT_TRUE(std::isnan(metrics.GeneSpearman[2]));
  EXPECT_DOUBLE_EQ(metrics.GenePearson[3], -1.0);
  EXPECT_EQ(metrics.ExcludedPearsonGenes, 2u);
  EXPECT_EQ(metrics.ExcludedSpearmanGenes, 2u);
  EXPECT_DOUBLE_EQ(metrics.MeanPearson, 0.0);  // (1 + -1) / 2
  EXPECT_DOUBLE_EQ(metrics.MeanSpearman, 0.0); // the excluded genes do not dilute the mean
  // Every gene still has an error.
  EXPECT_DOUBLE_EQ(metrics.GeneMeanAbsoluteError[1], (4 + 3 + 2 + 0) / 4.0);
}

TEST(ExpressionMetrics, BadInputThrows)
{
  const auto two = Matrix(2, 2, { 1, 2, 3, 4 });
  EXPECT_THROW(itk::ExpressionMetrics::Compute(two, Matrix(2, 3)), itk::ExceptionObject);
  EXPECT_THROW(itk::ExpressionMetrics::Compute(two, Matrix(1, 2)), itk::ExceptionObject);
  EXPECT_THROW(itk::ExpressionMetrics::Compute(itk::Array2D<double>(), itk::Array2D<double>()), itk::ExceptionObject);
  EXPECT_THROW(itk::ExpressionMetrics::Compute(two, Matrix(2, 2, { 1, NotANumber, 3, 4 })), itk::ExceptionObject);
  EXPECT_THROW(itk::ExpressionMetrics::Compute(Matrix(2, 2, { 1, 2, std::numeric_limits<double>::infinity(), 4 }), two),
               itk::ExceptionObject);
  EXPECT_THROW(itk::ExpressionMetrics::Compute(two, two, { "only one name" }), itk::ExceptionObject);
  EXPECT_THROW(Matrix(2, 2, { 1, 2, 3 }), itk::ExceptionObject);
  try
  {
    itk::ExpressionMetrics::Compute(two, Matrix(3, 2));
    FAIL() << "a shape mismatch must throw";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("same spots and genes"), std::string::npos) << e.GetDescription();
  }
}

TEST(ExpressionMetrics, JSONAndTSVCarryGenesAndNulls)
{
  const auto truth = ByGene(3, { { 1, 2, 3 }, { 2, 2, 2 } });
  const auto prediction = ByGene(3, { { 1, 2, 4 }, { 1, 2, 3 } });
  const auto metrics = itk::ExpressionMetrics::Compute(truth, prediction, { "ACTB", "MT-CO1" });

  const auto json = nlohmann::json::parse(metrics.ToJSON());
  EXPECT_EQ(json.at("spots"), 3);
  EXPECT_EQ(json.at("genes"), 2);
  EXPECT_DOUBLE_EQ(json.at("mae").get<double>(), metrics.MeanAbsoluteError);
  EXPECT_DOUBLE_EQ(json.at("rmse").get<double>(), metrics.RootMeanSquaredError);
  EXPECT_EQ(json.at("excluded_pearson_genes"), 1);
  EXPECT_EQ(json.at("per_gene").at(1).at("gene"), "MT-CO1");
  EXPECT_TRUE(json.at("per_gene").at(1).at("pearson").is_null());
  EXPECT_DOUBLE_EQ(json.at("per_gene").at(0).at("pearson").get<double>(), metrics.GenePearson[0]);
  EXPECT_DOUBLE_EQ(json.at("mean_pearson").get<double>(), metrics.GenePearson[0]);

  std::istringstream tsv(metrics.ToTSV());
  std::string        line;
  std::getline(tsv, line);
  EXPECT_EQ(line, "gene\tmae\tpearson\tspearman");
  std::getline(tsv, line);
  EXPECT_EQ(line.substr(0, 5), "ACTB\t");
  std::getline(tsv, line);
  EXPECT_EQ(line, "MT-CO1\t0.6666666667\tnan\tnan"); // MAE 2/3 to 10 digits
  EXPECT_FALSE(std::getline(tsv, line));

  const auto folder = std::filesystem::temp_directory_path() / "itkExpressionMetricsGTest";
  std::filesystem::create_directories(folder);
  metrics.WriteJSONFile((folder / "metrics.json").string());
  metrics.WriteTSVFile((folder / "metrics.tsv").string());
  std::ifstream      in(folder / "metrics.tsv");
  std::ostringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), metrics.ToTSV());
  EXPECT_FALSE(std::filesystem::exists(folder / "metrics.tsv.tmp"));
  EXPECT_THROW(metrics.WriteJSONFile((folder / "no-such-folder" / "m.json").string()), itk::ExceptionObject);
  std::filesystem::remove_all(folder);
}

TEST(ExpressionMetrics, GenesWithLowerError)
{
  const auto truth = ByGene(2, { { 0, 0 }, { 0, 0 }, { 0, 0 } });
  const auto baseline = itk::ExpressionMetrics::Compute(truth, ByGene(2, { { 1, 1 }, { 1, 1 }, { 1, 1 } }));
  const auto candidate = itk::ExpressionMetrics::Compute(truth, ByGene(2, { { 0.5, 0.5 }, { 2, 2 }, { 1, 1 } }));
  EXPECT_EQ(itk::ExpressionMetrics::GenesWithLowerError(baseline, candidate), (std::vector<std::size_t>{ 0 }));
  const auto other = itk::ExpressionMetrics::Compute(truth, truth, { "a", "b", "c" });
  EXPECT_THROW(itk::ExpressionMetrics::GenesWithLowerError(baseline, other), itk::ExceptionObject);
}
