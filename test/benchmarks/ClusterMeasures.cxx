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

// ClusterMeasures REAL.h5 SYNTHETIC.h5 [CLUSTERS]: real against synthetic patches per expression
// cluster (the paper's Table 1 compares nuclear composition per cluster). REAL is the dataset a local
// model was adapted on (c2l extract --fraction), SYNTHETIC the pairs it drew for the training spots'
// profiles (c2l sample --expression). Clusters: k-means (CLUSTERS, default 3) of the training spots'
// expression; every real spot (training and test) and every synthetic pair (by its conditioning
// profile) goes to the nearest centroid. One hematoxylin fit over both sets measures every patch;
// per cluster it prints nuclei per patch, nuclear area fraction (the share of tissue pixels above the
// hematoxylin threshold, as in the pipeline's composition table), median nucleus area, gradient energy
// and the classifier two-sample AUC (where both sides hold at least 10 patches), real then synthetic.

#include "itkFeatureFidelity.h"
#include "itkMatrixOperations.h"
#include "itkSampleMeasures.h"
#include "itkSpotPatchDataset.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>

namespace
{
itk::Array2D<double>
ExpressionOf(const itk::SpotPatchDataset & dataset)
{
  const auto & spots = *dataset.GetSpots();
  return itk::MatrixOperations::FromRowMajor(
    spots.GetNumberOfSpots(), spots.GetPreprocessing().Genes.size(), spots.GetExpression());
}

/** Mean nuclei per patch, nuclear area fraction, median nucleus area and gradient energy of \p rows. */
struct Summary
{
  double Nuclei{ 0.0 };
  double AreaFraction{ 0.0 };
  double MedianNucleus{ 0.0 };
  double Gradient{ 0.0 };
};

Summary
Summarize(const std::vector<itk::PatchMorphology> & patches, const std::vector<double> & areaFractions,
          const std::vector<std::size_t> & rows)
{
  Summary             summary;
  std::vector<double> areas;
  std::size_t         withTissue = 0;
  for (const auto r : rows)
  {
    summary.Nuclei += patches[r].NucleusAreas.size();
    summary.Gradient += patches[r].GradientEnergy;
    if (std::isfinite(areaFractions[r])) // NaN: a patch without tissue
    {
      summary.AreaFraction += areaFractions[r];
      ++withTissue;
    }
    areas.insert(areas.end(), patches[r].NucleusAreas.begin(), patches[r].NucleusAreas.end());
  }
  const double count = std::max<double>(1.0, static_cast<double>(rows.size()));
  summary.Nuclei /= count;
  summary.Gradient /= count;
  summary.AreaFraction /= std::max<double>(1.0, static_cast<double>(withTissue));
  if (!areas.empty())
  {
    std::nth_element(areas.begin(), areas.begin() + areas.size() / 2, areas.end());
    summary.MedianNucleus = areas[areas.size() / 2];
  }
  return summary;
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 3)
  {
    std::cerr << "usage: " << argv[0] << " REAL.h5 SYNTHETIC.h5 [CLUSTERS]\n";
    return 2;
  }
  try
  {
    const auto real = itk::SpotPatchDataset::Read(argv[1]);
    const auto synthetic = itk::SpotPatchDataset::Read(argv[2]);
    if (synthetic->GetSpots()->GetPreprocessing().Genes != real->GetSpots()->GetPreprocessing().Genes)
    {
      std::cerr << argv[0] << ": the synthetic pairs' genes are not the real dataset's\n";
      return 1;
    }
    // Generated patches have the real patches' physical size (the model was trained at it).
    synthetic->GetPatches()->SetSpacing(real->GetPatches()->GetSpacing());
    const auto training = real->GetSpots()->GetSpotIndices(true);

    itk::KMeansOptions options;
    options.Clusters = argc > 3 ? static_cast<unsigned int>(std::stoul(argv[3])) : 3u;
    options.Seed = 0;
    options.Starts = 4;
    const auto clusters =
      itk::KMeansResult::Cluster(itk::MatrixOperations::SelectRows(ExpressionOf(*real), training), options);
    const auto realLabels = clusters.NearestCentroids(ExpressionOf(*real));
    const auto syntheticLabels = clusters.NearestCentroids(ExpressionOf(*synthetic));

    const auto morphology = itk::MorphologyComparison::Compare(real->GetPatches(), synthetic->GetPatches());
    // The pipeline's nuclear area fraction (its composition table), with the same stains and threshold.
    const auto realFractions = morphology.Nuclei.Measure(real->GetPatches());
    const auto syntheticFractions = morphology.Nuclei.Measure(synthetic->GetPatches());

    std::cout << "cluster\treal\tsynthetic\tnuclei_real\tnuclei_synthetic\tarea_fraction_real\tarea_fraction_"
                 "synthetic\tmedian_nucleus_real\tmedian_nucleus_synthetic\tgradient_real\tgradient_synthetic\t"
                 "classifier_auc\n";
    for (unsigned int k = 0; k <= options.Clusters; ++k)
    {
      // k == Clusters: all patches.
      std::vector<std::size_t> realRows;
      std::vector<std::size_t> syntheticRows;
      for (std::size_t r = 0; r < realLabels.size(); ++r)
      {
        if (k == options.Clusters || realLabels[r] == k)
        {
          realRows.push_back(r);
        }
      }
      for (std::size_t r = 0; r < syntheticLabels.size(); ++r)
      {
        if (k == options.Clusters || syntheticLabels[r] == k)
        {
          syntheticRows.push_back(r);
        }
      }
      const auto a = Summarize(morphology.Real, realFractions, realRows);
      const auto b = Summarize(morphology.Other, syntheticFractions, syntheticRows);
      double     auc = std::numeric_limits<double>::quiet_NaN();
      if (realRows.size() >= 10 && syntheticRows.size() >= 10)
      {
        const itk::SpotPatchDataset::PatchStackType::Pointer realPatches = real->Select(realRows)->GetPatches();
        const itk::SpotPatchDataset::PatchStackType::Pointer syntheticPatches =
          synthetic->Select(syntheticRows)->GetPatches();
        auc = itk::ClassifierTwoSampleResult::Compute(realPatches, syntheticPatches).AUC;
      }
      std::cout << std::setprecision(4) << (k == options.Clusters ? std::string("all") : std::to_string(k)) << '\t'
                << realRows.size() << '\t' << syntheticRows.size() << '\t' << a.Nuclei << '\t' << b.Nuclei << '\t'
                << a.AreaFraction << '\t' << b.AreaFraction << '\t' << a.MedianNucleus << '\t' << b.MedianNucleus
                << '\t' << a.Gradient << '\t' << b.Gradient << '\t' << auc << std::endl;
    }
  }
  catch (const std::exception & e)
  {
    std::cerr << argv[0] << ": " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
