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
#include "itkGenePreprocessing.h"

#include "itkMacro.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace itk
{
namespace
{
constexpr const char * FormatName = "itk-spatialtranscriptomics-gene-preprocessing";

/** Column of each of \p genes in \p geneNames; throws naming the missing ones. */
std::vector<std::size_t>
ColumnsOf(const std::vector<std::string> & genes, const std::vector<std::string> & geneNames)
{
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t c = 0; c < geneNames.size(); ++c)
  {
    index.emplace(geneNames[c], c);
  }
  std::vector<std::size_t> columns;
  std::vector<std::string> missing;
  for (const auto & gene : genes)
  {
    const auto found = index.find(gene);
    if (found == index.end())
    {
      missing.push_back(gene);
    }
    else
    {
      columns.push_back(found->second);
    }
  }
  if (!missing.empty())
  {
    std::string listing;
    for (std::size_t i = 0; i < std::min<std::size_t>(5, missing.size()); ++i)
    {
      listing += (i ? ", " : "") + missing[i];
    }
    itkGenericExceptionMacro(<< missing.size() << " of the " << genes.size() << " genes are not in the data (first: "
                             << listing << "); the expression must come from the same gene panel");
  }
  return columns;
}

/** Normalised, log-transformed value of one count (before standardisation). */
inline double
Transform(double count, double librarySize, double targetSum, bool log1p)
{
  double value = count;
  if (targetSum > 0.0)
  {
    value = librarySize > 0.0 ? count * targetSum / librarySize : 0.0;
  }
  return log1p ? std::log1p(value) : value;
}
} // namespace

GenePreprocessing
GenePreprocessing::Fit(const std::vector<std::string> & geneNames, const SparseCountMatrix & counts,
                       const GenePreprocessingSettings & settings, const std::vector<std::size_t> & rows)
{
  if (counts.Columns != geneNames.size())
  {
    itkGenericExceptionMacro(<< "The counts have " << counts.Columns << " genes but " << geneNames.size()
                             << " gene names were given");
  }
  std::vector<std::size_t> fitted = rows;
  if (fitted.empty())
  {
    fitted.resize(counts.Rows);
    std::iota(fitted.begin(), fitted.end(), 0);
  }
  if (fitted.empty())
  {
    itkGenericExceptionMacro(<< "Gene preprocessing needs at least one spot to fit on");
  }
  if (!(settings.TargetSum >= 0.0) || !std::isfinite(settings.TargetSum))
  {
    itkGenericExceptionMacro(<< "The library-size target sum must be >= 0, got " << settings.TargetSum);
  }
  GenePreprocessing result;
  result.TargetSum = settings.TargetSum;
  result.Log1p = settings.Log1p;
  result.Standardize = settings.Standardize;

  if (!settings.GeneList.empty())
  {
    ColumnsOf(settings.GeneList, geneNames); // throws on unknown genes
    result.Genes = settings.GeneList;
  }
  else
  {
    if (settings.TopGenes == 0)
    {
      itkGenericExceptionMacro(<< "Keep at least one gene (TopGenes is 0)");
    }
    std::vector<double> mean(counts.Columns, 0.0);
    for (const auto r : fitted)
    {
      const double library = counts.RowSum(r);
      for (auto k = counts.RowStart[r]; k < counts.RowStart[r + 1]; ++k)
      {
        mean[counts.ColumnIndex[k]] += Transform(counts.Values[k], library, settings.TargetSum, settings.Log1p);
      }
    }
    std::vector<std::size_t> order(counts.Columns);
    std::iota(order.begin(), order.end(), 0);
    // Highest mean first; ties by name so that the choice does not depend on the file's gene order.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return mean[a] != mean[b] ? mean[a] > mean[b] : geneNames[a] < geneNames[b];
    });
    order.resize(std::min<std::size_t>(settings.TopGenes, order.size()));
    for (const auto c : order)
    {
      result.Genes.push_back(geneNames[c]);
    }
  }

  if (result.Standardize)
  {
    GenePreprocessing plain = result;
    plain.Standardize = false;
    const auto        values = plain.Apply(geneNames, counts.SelectRows(fitted));
    const std::size_t g = result.Genes.size();
    result.Mean.assign(g, 0.0);
    result.StandardDeviation.assign(g, 0.0);
    for (std::size_t s = 0; s < fitted.size(); ++s)
    {
      for (std::size_t j = 0; j < g; ++j)
      {
        result.Mean[j] += values[s * g + j] / fitted.size();
      }
    }
    for (std::size_t s = 0; s < fitted.size(); ++s)
    {
      for (std::size_t j = 0; j < g; ++j)
      {
        const double d = values[s * g + j] - result.Mean[j];
        result.StandardDeviation[j] += d * d / fitted.size();
      }
    }
    for (auto & sd : result.StandardDeviation)
    {
      sd = std::sqrt(sd) > 0.0 ? std::sqrt(sd) : 1.0; // a constant gene is centred, not scaled
    }
  }
  return result;
}

std::vector<float>
GenePreprocessing::Apply(const std::vector<std::string> & geneNames, const SparseCountMatrix & counts) const
{
  if (counts.Columns != geneNames.size())
  {
    itkGenericExceptionMacro(<< "The counts have " << counts.Columns << " genes but " << geneNames.size()
                             << " gene names were given");
  }
  const auto        columns = ColumnsOf(Genes, geneNames);
  const std::size_t g = Genes.size();
  // Position of each data column among the kept genes (or none).
  std::vector<std::int64_t> slot(counts.Columns, -1);
  for (std::size_t j = 0; j < g; ++j)
  {
    slot[columns[j]] = static_cast<std::int64_t>(j);
  }
  std::vector<float> result(counts.Rows * g, 0.0f);
  for (std::size_t r = 0; r < counts.Rows; ++r)
  {
    const double library = counts.RowSum(r);
    float *      row = result.data() + r * g;
    for (auto k = counts.RowStart[r]; k < counts.RowStart[r + 1]; ++k)
    {
      if (slot[counts.ColumnIndex[k]] >= 0)
      {
        row[slot[counts.ColumnIndex[k]]] = static_cast<float>(Transform(counts.Values[k], library, TargetSum, Log1p));
      }
    }
    if (Standardize)
    {
      for (std::size_t j = 0; j < g; ++j)
      {
        row[j] = static_cast<float>((row[j] - Mean[j]) / StandardDeviation[j]);
      }
    }
  }
  return result;
}

std::vector<float>
GenePreprocessing::ApplyToProfile(const std::vector<std::string> & geneNames, const std::vector<float> & counts) const
{
  return Apply(geneNames, SparseCountMatrix::FromDense(1, counts.size(), counts));
}

double
GenePreprocessing::ToNormalizedCount(std::size_t gene, double value) const
{
  if (Standardize)
  {
    value = value * StandardDeviation.at(gene) + Mean.at(gene);
  }
  if (Log1p)
  {
    value = std::expm1(value);
  }
  return std::max(0.0, value);
}

std::string
GenePreprocessing::ToJSON() const
{
  nlohmann::json json;
  json["format"] = FormatName;
  json["version"] = 1;
  json["target_sum"] = TargetSum;
  json["log1p"] = Log1p;
  json["standardize"] = Standardize;
  json["genes"] = Genes;
  if (Standardize)
  {
    json["mean"] = Mean;
    json["std"] = StandardDeviation;
  }
  return json.dump();
}

GenePreprocessing
GenePreprocessing::FromJSON(const std::string & text)
{
  GenePreprocessing result;
  try
  {
    const auto json = nlohmann::json::parse(text);
    if (json.value("format", std::string()) != FormatName)
    {
      itkGenericExceptionMacro(<< "Gene preprocessing: \"format\" must be \"" << FormatName << "\"");
    }
    result.TargetSum = json.at("target_sum").get<double>();
    result.Log1p = json.at("log1p").get<bool>();
    result.Standardize = json.at("standardize").get<bool>();
    result.Genes = json.at("genes").get<std::vector<std::string>>();
    if (result.Standardize)
    {
      result.Mean = json.at("mean").get<std::vector<double>>();
      result.StandardDeviation = json.at("std").get<std::vector<double>>();
    }
  }
  catch (const nlohmann::json::exception & e)
  {
    itkGenericExceptionMacro(<< "Gene preprocessing JSON is malformed: " << e.what());
  }
  if (result.Genes.empty())
  {
    itkGenericExceptionMacro(<< "Gene preprocessing lists no genes");
  }
  if (result.Standardize &&
      (result.Mean.size() != result.Genes.size() || result.StandardDeviation.size() != result.Genes.size()))
  {
    itkGenericExceptionMacro(<< "Gene preprocessing: \"mean\" and \"std\" must have one value per gene ("
                             << result.Genes.size() << ")");
  }
  return result;
}

bool
GenePreprocessing::operator==(const GenePreprocessing & other) const
{
  return TargetSum == other.TargetSum && Log1p == other.Log1p && Standardize == other.Standardize &&
         Genes == other.Genes && Mean == other.Mean && StandardDeviation == other.StandardDeviation;
}

} // end namespace itk
