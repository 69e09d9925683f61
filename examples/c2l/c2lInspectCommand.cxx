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

// c2l inspect: what a dataset, a slide or a folder of spots holds.

#include "c2lCommands.h"

#include "itkSpatialDataReader.h"
#include "itkSpotPatchDataset.h"

#include <filesystem>
#include <iostream>

namespace c2l
{
namespace
{
void
PrintSpots(const itk::SpatialExpressionData & spots)
{
  std::cout << "spots: " << spots.GetNumberOfSpots() << "\ngenes: " << spots.GetNumberOfGenes()
            << "\ncounts: " << spots.GetCounts().NumberOfNonZeros() << " non-zeros\npixel size: "
            << (spots.GetPixelSize() > 0.0 ? std::to_string(spots.GetPixelSize()) + " um" : "unknown") << std::endl;
  if (spots.HasExpression())
  {
    std::cout << "preprocessed genes: " << spots.GetPreprocessing().Genes.size() << std::endl;
  }
  if (!spots.GetSplit().empty())
  {
    std::cout << "split: " << spots.GetSpotIndices(true).size() << " training, " << spots.GetSpotIndices(false).size()
              << " test" << std::endl;
  }
  for (const auto & entry : spots.GetAllMetadata())
  {
    std::cout << entry.first << ": " << entry.second << std::endl;
  }
}

void
Inspect(const std::string & path)
{
  namespace fs = std::filesystem;
  if (!fs::exists(path))
  {
    itkGenericExceptionMacro(<< "No such file or folder: " << path);
  }
  const std::string extension = fs::path(path).extension().string();
  if (fs::is_regular_file(path) && (extension == ".h5" || extension == ".hdf5"))
  {
    const auto dataset = itk::SpotPatchDataset::Read(path);
    const auto size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
    std::cout << "patch dataset: " << dataset->GetNumberOfPatches() << " patches of " << size[0] << " x " << size[1]
              << " px at " << dataset->GetPixelSize() << " um/px\nslide: " << dataset->GetSlideFileName()
              << "\npadded spots: " << dataset->GetPaddedSpots().size() << std::endl;
    PrintSpots(*dataset->GetSpots());
    return;
  }
  if (fs::is_directory(path) || extension == ".h5ad")
  {
    PrintSpots(*itk::SpatialDataReader::Read(path));
    return;
  }
  auto slide = itk::SlideReader::New();
  slide->Open(path);
  std::cout << "slide: " << path << "\nreader: " << slide->GetBackend() << "\nlevels: " << slide->GetNumberOfLevels()
            << std::endl;
  for (unsigned int level = 0; level < slide->GetNumberOfLevels(); ++level)
  {
    const auto size = slide->GetLevelDimensions(level);
    std::cout << "  level " << level << ": " << size[0] << " x " << size[1] << " (downsample "
              << slide->GetLevelDownsample(level) << ")" << std::endl;
  }
  std::cout << "pixel size: "
            << (slide->GetStatedPixelSize() > 0.0 ? std::to_string(slide->GetStatedPixelSize()) + " um"
                                                  : "not stated (give --pixel-size)")
            << std::endl;
}
} // namespace

void
AddInspectCommand(CLI::App & app)
{
  auto   path = std::make_shared<std::string>();
  auto * command = app.add_subcommand("inspect", DescriptionOf("inspect"));
  command->add_option("PATH", *path, "A dataset (.h5), a slide or image, a Visium outs/ or HEST folder, an .h5ad")
    ->required();
  command->callback([path]() { Inspect(*path); });
}

} // namespace c2l
