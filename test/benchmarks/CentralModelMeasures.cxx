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

// CentralModelMeasures REAL.h5 SOURCE [N] [STEPS] [SEED] [GRID.png] [SAMPLER]: the measures that colour cannot
// fool, for a set of patches against real tiles the model never saw (e.g. c2l extract --tiles
// --holdout-blocks 4 --part heldout). SOURCE is one of
//   a model (.safetensors or diffusers folder): N samples (default or 0: as many as REAL), STEPS steps
//     (default 50) of SAMPLER (default ddim; dpmsolver++, unipc, ddpm), seed SEED;
//   a patch dataset (.h5): its patches (e.g. the training tiles: the measures of real tissue);
//   "colour-noise": patches whose pixels are drawn at random from REAL's pixels.
// Prints the classifier two-sample test's AUC, nuclei per patch, median nucleus area and gradient
// energy of both sets, and writes an 8 x 8 grid of the source's first patches to GRID.png ("-": none).

#include "itkColourNoisePatches.h"
#include "itkDiffusionSampleFilter.h"
#include "itkImageFileWriter.h"
#include "itkSampleMeasures.h"
#include "itkSpotPatchDataset.h"

#include <filesystem>
#include <iostream>

namespace
{
using StackType = itk::Image<itk::RGBPixel<unsigned char>, 3>;

StackType::Pointer
Sample(const std::string & model, std::size_t count, unsigned int steps, std::uint64_t seed, const std::string & method)
{
  auto sampler = itk::DiffusionSampleFilter<StackType>::New();
  sampler->SetModelFileName(model);
  sampler->SetNumberOfSamples(count);
  sampler->SetBatchSize(64);
  sampler->SetNumberOfSteps(steps);
  sampler->SetSeed(seed);
  sampler->SetSampler(method);
  sampler->Update();
  return sampler->GetOutput();
}

void
WriteGrid(const StackType * patches, const std::string & fileName)
{
  using GridType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  const auto         size = patches->GetBufferedRegion().GetSize();
  const unsigned int side = 8;
  auto               grid = GridType::New();
  grid->SetRegions(GridType::RegionType({ { 0, 0 } }, { { side * size[0], side * size[1] } }));
  grid->Allocate();
  grid->FillBuffer(itk::RGBPixel<unsigned char>(255));
  for (unsigned int k = 0; k < std::min<std::size_t>(side * side, size[2]); ++k)
  {
    for (unsigned int y = 0; y < size[1]; ++y)
    {
      for (unsigned int x = 0; x < size[0]; ++x)
      {
        grid->SetPixel({ { static_cast<long>((k % side) * size[0] + x), static_cast<long>((k / side) * size[1] + y) } },
                       patches->GetPixel({ { x, y, k } }));
      }
    }
  }
  itk::WriteImage(grid, fileName);
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 3)
  {
    std::cerr << "usage: " << argv[0]
              << " REAL.h5 MODEL|DATASET.h5|colour-noise [N] [STEPS] [SEED] [GRID.png] [SAMPLER]\n"
              << "  N: samples of a MODEL (default or 0: one per real patch)\n";
    return 2;
  }
  try
  {
    const auto         real = itk::SpotPatchDataset::Read(argv[1]);
    const std::string  source = argv[2];
    const std::size_t  asked = argc > 3 ? std::stoul(argv[3]) : 0;
    const std::size_t  count = asked > 0 ? asked : real->GetNumberOfPatches();
    StackType::Pointer other;
    if (source == "colour-noise")
    {
      other = itk::ColourNoisePatches::MakePatches(real->GetPatches(), real->GetNumberOfPatches(), 7);
    }
    else if (std::filesystem::path(source).extension() == ".h5")
    {
      other = itk::SpotPatchDataset::Read(source)->GetPatches();
    }
    else
    {
      other = Sample(source,
                     count,
                     argc > 4 ? std::stoul(argv[4]) : 50,
                     argc > 5 ? std::stoull(argv[5]) : 0,
                     argc > 7 ? argv[7] : "ddim");
    }
    // Generated patches have the real tiles' physical size (the model was trained at it).
    other->SetSpacing(real->GetPatches()->GetSpacing());
    if (argc > 6 && std::string(argv[6]) != "-")
    {
      WriteGrid(other, argv[6]);
    }
    const auto   measures = itk::SampleMeasures::Measure(real->GetPatches(), other);
    const auto & morphology = measures.Morphology;
    std::cout << "source\t" << source << "\n"
              << "patches\t" << real->GetNumberOfPatches() << " real, " << other->GetBufferedRegion().GetSize()[2]
              << " other\n"
              << "classifier_auc\t" << measures.ClassifierAUC << "\n"
              << "nuclei_per_patch\t" << morphology.RealNucleiPerPatch << " real, " << morphology.OtherNucleiPerPatch
              << " other, " << 100.0 * morphology.NucleiPerPatchDifference() << " %\n"
              << "median_nucleus_um2\t" << morphology.RealMedianNucleusArea << " real, "
              << morphology.OtherMedianNucleusArea << " other\n"
              << "gradient_energy\t" << morphology.RealGradientEnergy << " real, " << morphology.OtherGradientEnergy
              << " other, " << 100.0 * morphology.GradientEnergyDifference() << " %" << std::endl;
  }
  catch (const std::exception & e)
  {
    std::cerr << argv[0] << ": " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
