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
// ImputationSections OUT.tsv PROTOCOL STEPS SEED THREADS [KEY=VALUE ...] COUNTS,SPOTS [COUNTS,SPOTS ...]:
// S2S-ST and the spatial baselines on real sections, one TSV row per (section, split, method).
// KEY=VALUE sets a filter setting other than the defaults: width, stages, blocks, layers, growth,
// window, heads, batch, crop, lr, rate; natural=FOLDER adds co-learning on the images of FOLDER.
// PROTOCOL: "phase" (S2S-ST's: each stride-2 phase measured in turn, four folds), "random" (C2L-ST's:
// a random 25 % measured, seed SEED), "both", or one phase's name (one fold). STEPS 0 runs the
// baselines only.
// Genes: top 250 by mean on the measured spots (log1p CP10k), and their 50 most variable.

#include "itkSpatialDataReader.h"
#include "itkSpatialImputationEvaluation.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

int
main(int argc, char * argv[])
{
  if (argc < 7)
  {
    std::cerr << "Usage: " << argv[0] << " OUT.tsv phase|random|both|upleft|... STEPS SEED THREADS COUNTS,SPOTS..."
              << std::endl;
    return 2;
  }
  const std::string out = argv[1];
  const std::string protocol = argv[2];
  const auto        steps = static_cast<unsigned int>(std::stoul(argv[3]));
  const auto        seed = static_cast<std::uint32_t>(std::stoul(argv[4]));
  const auto        threads = static_cast<unsigned int>(std::stoul(argv[5]));
  if (std::filesystem::exists(out))
  {
    std::cerr << out << " exists; choose another name" << std::endl;
    return 2;
  }
  std::ofstream table(out);
  table << "section\tsplit\tmethod\tparameter\tseconds\tmeasured\theld_out\tmae\trmse\tpearson\tssim\tpsnr\tmv_mae\tmv_"
           "rmse\tmv_pearson\tmv_ssim\n";
  try
  {
    std::map<std::string, double> overrides;
    std::string                   naturalImages;
    for (int a = 6; a < argc; ++a)
    {
      const std::string pair = argv[a];
      if (pair.rfind("natural=", 0) == 0)
      {
        naturalImages = pair.substr(8);
        continue;
      }
      if (pair.find('=') != std::string::npos)
      {
        overrides[pair.substr(0, pair.find('='))] = std::stod(pair.substr(pair.find('=') + 1));
        continue;
      }
      const auto        comma = pair.find(',');
      const auto        spots = itk::SpatialDataReader::ReadCountTable(pair.substr(0, comma), pair.substr(comma + 1));
      const auto        grid = itk::SpotGrid::FromSpots(*spots);
      const std::string section = std::filesystem::path(pair.substr(0, comma)).stem().stem().string();
      std::vector<itk::ImputationSplit> splits;
      for (const char * phase : { "upleft", "upright", "downleft", "downright" })
      {
        if (protocol == "phase" || protocol == "both" || protocol == phase)
        {
          splits.push_back(itk::ImputationSplit::MakePhase(grid, phase));
        }
      }
      if (protocol == "random" || protocol == "both")
      {
        splits.push_back(itk::ImputationSplit::MakeRandom(spots->GetNumberOfSpots(), 0.25, seed));
      }
      for (const auto & split : splits)
      {
        itk::ImputationEvaluationSettings settings;
        auto                              filter = itk::SparseToSparseImputationFilter::New();
        filter->SetNumberOfSteps(steps);
        filter->SetSeed(seed);
        filter->SetNumberOfThreads(threads);
        if (!naturalImages.empty())
        {
          filter->SetNaturalImages(itk::SparseToSparseImputationFilter::ReadNaturalImages(naturalImages));
        }
        for (const auto & [key, value] : overrides)
        {
          const auto count = static_cast<unsigned int>(value);
          if (key == "width")
            filter->SetWidth(count);
          else if (key == "stages")
            filter->SetNumberOfStages(count);
          else if (key == "blocks")
            filter->SetDenseBlocks(count);
          else if (key == "layers")
            filter->SetDenseLayers(count);
          else if (key == "growth")
            filter->SetGrowthRate(count);
          else if (key == "window")
            filter->SetAttentionWindow(count);
          else if (key == "heads")
            filter->SetAttentionHeads(count);
          else if (key == "batch")
            filter->SetBatchSize(count);
          else if (key == "crop")
            filter->SetCropSize(count);
          else if (key == "lr")
            filter->SetLearningRate(value);
          else if (key == "rate")
            filter->SetSubsamplingRate(value);
          else
          {
            std::cerr << "Unknown setting " << key << std::endl;
            return 2;
          }
        }
        const auto evaluation =
          itk::ImputationEvaluation::Evaluate(*spots, grid, split, settings, steps > 0 ? filter.GetPointer() : nullptr);
        std::size_t measured = 0;
        for (const auto m : split.Measured)
        {
          measured += m;
        }
        for (const auto & method : evaluation.Methods)
        {
          table << section << '\t' << split.Name << '\t' << method.Method << '\t' << method.Parameter << '\t'
                << method.Seconds << '\t' << measured << '\t' << split.Measured.size() - measured << '\t'
                << method.AllGenes.HeldOut.MeanAbsoluteError << '\t' << method.AllGenes.HeldOut.RootMeanSquaredError
                << '\t' << method.AllGenes.HeldOut.MeanPearson << '\t' << method.AllGenes.MeanSSIM << '\t'
                << method.AllGenes.MeanPSNR << '\t' << method.MostVariableGenes.HeldOut.MeanAbsoluteError << '\t'
                << method.MostVariableGenes.HeldOut.RootMeanSquaredError << '\t'
                << method.MostVariableGenes.HeldOut.MeanPearson << '\t' << method.MostVariableGenes.MeanSSIM << '\n';
          std::cout << section << ' ' << split.Name << ' ' << method.Method << " pearson(mv) "
                    << method.MostVariableGenes.HeldOut.MeanPearson << " mae "
                    << method.AllGenes.HeldOut.MeanAbsoluteError << " (" << method.Seconds << " s)" << std::endl;
        }
        table.flush();
      }
    }
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << e.GetDescription() << std::endl;
    return 1;
  }
  return 0;
}
