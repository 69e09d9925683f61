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

// MorphologyReadout DATASET.h5 [GROUND_TRUTH.json]: how well the patches of a dataset show what
// their expression says. Each patch is read out by colour deconvolution with the synthetic slide's
// (known) stain matrix: the mean hematoxylin (nuclei: their number and size) and the mean eosin
// (stroma); means, not areas above a threshold, so that small patches where a nucleus is a pixel or
// two still read out. Prints, per gene of the dataset's expression, the Pearson correlation between the
// gene and each read-out over the patches, and with the ground truth the mean correlation of each
// gene program's genes (signed by their effect) and of the unrelated genes. Used on real patches
// (the upper bound), on synthetic pairs from a local model (at several guidance scales), and on
// central-model samples paired with profiles at random (the floor).

#include "itkSpotPatchDataset.h"
#include "itkStainAnalysis.h"
#include "itkSyntheticStainedTissue.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>

namespace
{
double
Pearson(const std::vector<double> & x, const std::vector<double> & y)
{
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / x.size();
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / y.size();
  double       sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 2)
  {
    std::cerr << "usage: " << argv[0] << " DATASET.h5 [GROUND_TRUTH.json]" << std::endl;
    return EXIT_FAILURE;
  }
  try
  {
    const auto   dataset = itk::SpotPatchDataset::Read(argv[1]);
    const auto & spots = *dataset->GetSpots();
    if (!spots.HasExpression())
    {
      std::cerr << "error: " << argv[1] << " has no expression" << std::endl;
      return EXIT_FAILURE;
    }
    itk::StainParameters stains;
    stains.Method = itk::StainNormalizationMethod::Ruifrok;
    stains.StainMatrix = itk::SyntheticStainField::TypicalHEStainMatrix();
    stains.MaxConcentrations = { { 1.0, 1.0 } };
    const itk::StainColorMapper deconvolution(stains, stains);
    const auto                  size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
    const std::size_t           pixels = size[0] * size[1];
    const auto *        bytes = reinterpret_cast<const unsigned char *>(dataset->GetPatches()->GetBufferPointer());
    std::vector<float>  h(pixels), e(pixels);
    std::vector<double> hematoxylin, eosin;
    for (std::size_t k = 0; k < size[2]; ++k)
    {
      deconvolution.Concentrations(bytes + 3 * pixels * k, pixels, 3, h.data(), e.data());
      hematoxylin.push_back(std::accumulate(h.begin(), h.end(), 0.0) / pixels);
      eosin.push_back(std::accumulate(e.begin(), e.end(), 0.0) / pixels);
    }
    const auto &                                          genes = spots.GetPreprocessing().Genes;
    std::map<std::string, std::pair<std::string, double>> truth; // gene -> (program, effect)
    if (argc > 2)
    {
      std::ifstream in(argv[2]);
      const auto    groundTruth = nlohmann::json::parse(in); // alive for the whole loop
      for (const auto & gene : groundTruth.at("genes"))
      {
        truth[gene.at("name").get<std::string>()] = { gene.at("program").get<std::string>(),
                                                      gene.at("effect").get<double>() };
      }
    }
    nlohmann::json result;
    result["dataset"] = argv[1];
    result["patches"] = size[2];
    std::map<std::string, std::vector<double>> byProgram;
    for (std::size_t g = 0; g < genes.size(); ++g)
    {
      std::vector<double> values;
      for (std::size_t k = 0; k < size[2]; ++k)
      {
        values.push_back(spots.GetExpression()[k * genes.size() + g]);
      }
      const double rH = Pearson(values, hematoxylin);
      const double rE = Pearson(values, eosin);
      result["genes"][genes[g]] = { { "hematoxylin", rH }, { "eosin", rE } };
      const auto found = truth.find(genes[g]);
      if (found != truth.end())
      {
        // Nuclear programs show in the hematoxylin area, stroma in eosin; signed by the gene's effect.
        const std::string & program = found->second.first;
        const double        sign = found->second.second < 0 ? -1.0 : 1.0;
        byProgram[program].push_back(program == "stroma" ? sign * rE : (program == "none" ? std::abs(rH) : sign * rH));
      }
    }
    for (const auto & program : byProgram)
    {
      result["programs"][program.first] =
        std::accumulate(program.second.begin(), program.second.end(), 0.0) / program.second.size();
    }
    std::cout << result.dump(2) << std::endl;
  }
  catch (const std::exception & e)
  {
    std::cerr << "error: " << e.what() << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
