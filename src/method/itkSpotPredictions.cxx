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
#include "itkSpotPredictions.h"

#include "itkAnnDataWriter.h"
#include "itkAtomicFile.h"
#include "itkGenePreprocessing.h"
#include "itkGeneRegressorFilter.h"

#include <iomanip>
#include <numeric>
#include <sstream>

namespace itk
{

std::vector<std::size_t>
SpotPredictions::FirstRows(std::size_t count)
{
  std::vector<std::size_t> rows(count);
  std::iota(rows.begin(), rows.end(), std::size_t{ 0 });
  return rows;
}

SpotPredictions
SpotPredictions::Predict(const GeneRegressorModel & model, const SpotPatchDataset & dataset, const std::string & which,
                         bool countScale, unsigned int batch, const std::string & device, unsigned int threads,
                         bool features)
{
  const auto &             spots = *dataset.GetSpots();
  std::vector<std::size_t> rows;
  if (which == "all")
  {
    rows = FirstRows(spots.GetNumberOfSpots());
  }
  else
  {
    rows = spots.GetSpotIndices(which == "train");
  }
  if (rows.empty())
  {
    itkGenericExceptionMacro(<< "The dataset has no " << which << " spot to predict at"
                             << (which == "test"
                                   ? " (extract it with a Fraction below 1 to hold spots out; c2l: --fraction)"
                                   : ""));
  }
  const auto subset = dataset.Select(rows);
  auto       filter = GeneRegressorFilter::New();
  filter->SetInput(subset->GetPatches());
  filter->SetModel(&model);
  filter->SetCountScale(countScale);
  filter->SetComputeFeatures(features);
  filter->SetBatchSize(batch);
  filter->SetDevice(device);
  filter->SetNumberOfTorchThreads(threads);
  filter->Update();

  SpotPredictions result;
  result.CountScale = countScale;
  result.Rows = rows;
  result.SpotIds = subset->GetSpots()->GetSpotIds();
  for (const auto & p : subset->GetSpots()->GetPixelPositions())
  {
    result.Positions.push_back({ p[0], p[1] });
  }
  result.Genes = model.GetGenes();
  result.Values = filter->GetExpression();
  if (features)
  {
    result.Features = filter->GetFeatures();
  }
  return result;
}

void
SpotPredictions::WriteTable(const std::string & path) const
{
  const SpotPredictions & predictions = *this;
  std::ostringstream      out;
  out << "spot";
  for (const auto & gene : predictions.Genes)
  {
    out << '\t' << gene;
  }
  out << '\n' << std::setprecision(7);
  const std::size_t genes = predictions.Genes.size();
  for (std::size_t s = 0; s < predictions.SpotIds.size(); ++s)
  {
    out << predictions.SpotIds[s];
    for (std::size_t g = 0; g < genes; ++g)
    {
      out << '\t' << predictions.Values(s, g);
    }
    out << '\n';
  }
  AtomicFile::Write(path, out.str(), "the predictions");
}

Array2D<double>
SpotPredictions::TruthFrom(const SpotPatchDataset & dataset, const std::string & preprocessingJSON) const
{
  const SpotPredictions & predictions = *this;
  const auto              preprocessing = GenePreprocessing::FromJSON(preprocessingJSON);
  auto                    spots = dataset.GetSpots()->SelectSpots(predictions.Rows);
  if (!(spots->HasExpression() && spots->GetPreprocessing() == preprocessing))
  {
    if (spots->GetCounts().Rows != spots->GetNumberOfSpots())
    {
      itkGenericExceptionMacro(<< "The dataset was preprocessed otherwise than the regressor's training data and "
                                  "holds no raw counts to preprocess the regressor's way; evaluate on a dataset "
                                  "extracted with the same genes");
    }
    spots->ApplyPreprocessing(preprocessing); // names the regressor's genes it lacks, if any
  }
  return MatrixOperations::FromRowMajor(
    spots->GetNumberOfSpots(), spots->GetPreprocessing().Genes.size(), spots->GetExpression());
}

ExpressionMetrics
SpotPredictions::Evaluate(const Array2D<double> & truth) const
{
  return ExpressionMetrics::Compute(truth, Values, Genes);
}

void
SpotPredictions::WriteAnnData(const std::string & path, const std::string & preprocessingJSON,
                              const Array2D<double> & truth) const
{
  auto writer = AnnDataWriter::New();
  writer->SetFileName(path);
  writer->SetSpots(SpotIds, Positions);
  writer->SetGenes(Genes);
  writer->SetValues(Values);
  writer->SetText("gene_preprocessing", preprocessingJSON);
  writer->SetText("scale", CountScale ? "counts per target sum" : "preprocessed");
  if (!truth.empty())
  {
    if (CountScale)
    {
      itkGenericExceptionMacro(<< "A truth layer is on the preprocessed scale and these predictions are counts per "
                                  "target sum; predict without CountScale");
    }
    writer->SetLayer("truth", truth);
  }
  writer->Write();
}

} // end namespace itk
