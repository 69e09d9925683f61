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
#include "itkPerGeneCombination.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <random>

namespace
{
itk::Array2D<double>
Random(unsigned int rows, unsigned int cols, std::uint32_t seed)
{
  std::mt19937                     generator(seed);
  std::normal_distribution<double> normal;
  itk::Array2D<double>             values(rows, cols);
  for (unsigned int r = 0; r < rows; ++r)
  {
    for (unsigned int c = 0; c < cols; ++c)
    {
      values(r, c) = normal(generator);
    }
  }
  return values;
}

/** Gene \p g's squared error of w * first + (1 - w) * second. */
double
SquaredError(const itk::Array2D<double> & truth, const itk::Array2D<double> & first,
             const itk::Array2D<double> & second, unsigned int g, double w)
{
  double sum = 0.0;
  for (unsigned int s = 0; s < truth.rows(); ++s)
  {
    const double e = w * first(s, g) + (1.0 - w) * second(s, g) - truth(s, g);
    sum += e * e;
  }
  return sum;
}
} // namespace

TEST(PerGeneCombination, RecoversTheWeightsOfAnExactMixture)
{
  const auto   first = Random(50, 3, 1);
  const auto   second = Random(50, 3, 2);
  const double mixture[3] = { 0.3, 0.0, 1.0 };
  auto         truth = first;
  for (unsigned int s = 0; s < truth.rows(); ++s)
  {
    for (unsigned int g = 0; g < 3; ++g)
    {
      truth(s, g) = mixture[g] * first(s, g) + (1.0 - mixture[g]) * second(s, g);
    }
  }
  const auto combination = itk::PerGeneCombination::Fit(truth, first, second);
  ASSERT_EQ(combination.Weights.size(), 3u);
  for (unsigned int g = 0; g < 3; ++g)
  {
    EXPECT_NEAR(combination.Weights[g], mixture[g], 1e-12);
  }
  const auto combined = combination.Apply(first, second);
  for (unsigned int s = 0; s < truth.rows(); ++s)
  {
    for (unsigned int g = 0; g < 3; ++g)
    {
      EXPECT_NEAR(combined(s, g), truth(s, g), 1e-12);
    }
  }
}

TEST(PerGeneCombination, MatchesABruteForceSearchOnNoisyPredictions)
{
  // The closed form against an independent minimisation: the squared error over a fine grid of weights.
  const auto truth = Random(40, 6, 3);
  auto       first = Random(40, 6, 4);
  auto       second = Random(40, 6, 5);
  for (unsigned int s = 0; s < truth.rows(); ++s)
  {
    for (unsigned int g = 0; g < 6; ++g)
    {
      first(s, g) = truth(s, g) + (0.3 + 0.3 * g) * first(s, g);
      second(s, g) = truth(s, g) + (1.8 - 0.3 * g) * second(s, g);
    }
  }
  const auto combination = itk::PerGeneCombination::Fit(truth, first, second);
  for (unsigned int g = 0; g < 6; ++g)
  {
    double best = 0.0;
    for (int k = 0; k <= 10000; ++k)
    {
      if (SquaredError(truth, first, second, g, k / 10000.0) < SquaredError(truth, first, second, g, best))
      {
        best = k / 10000.0;
      }
    }
    EXPECT_NEAR(combination.Weights[g], best, 1e-4) << "gene " << g;
  }
}

TEST(PerGeneCombination, ClampsToAnAverageAndSplitsEqualPredictions)
{
  const auto first = Random(30, 3, 6);
  auto       second = Random(30, 3, 7);
  auto       truth = first;
  for (unsigned int s = 0; s < truth.rows(); ++s)
  {
    truth(s, 0) = 1.5 * first(s, 0) - 0.5 * second(s, 0);  // beyond the first predictor
    truth(s, 1) = -0.2 * first(s, 1) + 1.2 * second(s, 1); // beyond the second
    second(s, 2) = first(s, 2);                            // both predict the same
  }
  const auto combination = itk::PerGeneCombination::Fit(truth, first, second);
  EXPECT_EQ(combination.Weights[0], 1.0);
  EXPECT_EQ(combination.Weights[1], 0.0);
  EXPECT_EQ(combination.Weights[2], 0.5);
}

TEST(PerGeneCombination, RefusesMismatchedOrMissingPredictions)
{
  const auto a = Random(10, 2, 8);
  EXPECT_THROW(itk::PerGeneCombination::Fit(a, a, Random(10, 3, 9)), itk::ExceptionObject);
  EXPECT_THROW(itk::PerGeneCombination::Fit(a, Random(9, 2, 9), a), itk::ExceptionObject);
  EXPECT_THROW(
    itk::PerGeneCombination::Fit(itk::Array2D<double>(0, 2), itk::Array2D<double>(0, 2), itk::Array2D<double>(0, 2)),
    itk::ExceptionObject);
  auto withNaN = a;
  withNaN(4, 1) = std::numeric_limits<double>::quiet_NaN();
  try
  {
    itk::PerGeneCombination::Fit(a, a, withNaN);
    FAIL() << "a NaN prediction was accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("spot 4, gene 1"), std::string::npos) << e.GetDescription();
  }
  const auto combination = itk::PerGeneCombination::Fit(a, a, Random(10, 2, 10));
  EXPECT_THROW(combination.Apply(Random(10, 3, 1), Random(10, 3, 2)), itk::ExceptionObject);
}

TEST(PerGeneCombination, FoldsAreBalancedSeededAndShuffled)
{
  const auto folds = itk::PerGeneCombination::AssignFolds(47, 4, 0);
  ASSERT_EQ(folds.size(), 47u);
  std::vector<int> sizes(4, 0);
  for (const auto f : folds)
  {
    ASSERT_LT(f, 4u);
    ++sizes[f];
  }
  EXPECT_EQ(sizes, (std::vector<int>{ 12, 12, 12, 11 }));
  EXPECT_EQ(itk::PerGeneCombination::AssignFolds(47, 4, 0), folds);
  EXPECT_NE(itk::PerGeneCombination::AssignFolds(47, 4, 1), folds);
  // Shuffled, not dealt in order: the first four items are not folds 0, 1, 2, 3 for every seed.
  int inOrder = 0;
  for (std::uint32_t seed = 0; seed < 20; ++seed)
  {
    const auto f = itk::PerGeneCombination::AssignFolds(47, 4, seed);
    inOrder += f[0] == 0 && f[1] == 1 && f[2] == 2 && f[3] == 3;
  }
  EXPECT_LT(inOrder, 3);
  EXPECT_THROW(itk::PerGeneCombination::AssignFolds(47, 1, 0), itk::ExceptionObject);
  EXPECT_THROW(itk::PerGeneCombination::AssignFolds(3, 4, 0), itk::ExceptionObject);
}
