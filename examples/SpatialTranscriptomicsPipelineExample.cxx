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

// The whole method through the library alone, as a C++ application embeds it (no c2l):
//
//   SpatialTranscriptomicsPipelineExample OUTPUT_FOLDER [PIPELINE.json]
//
// With a pipeline JSON file (the format c2l run reads) it runs those settings into OUTPUT_FOLDER.
// Without one it writes a small synthetic slide into OUTPUT_FOLDER/slide and runs tiny settings
// (a minute on two cores: the numbers show that the method runs, not how well it does).

#include "itkSpatialTranscriptomicsPipeline.h"
#include "itkSyntheticSlide.h"

#include <filesystem>
#include <iostream>

namespace
{

/** Tiny settings on a synthetic slide, set field by field as a library user would. */
itk::PipelineSettings
TinySettingsOnSyntheticSlide(const std::filesystem::path & folder)
{
  const auto slideFolder = folder / "slide";
  if (!std::filesystem::exists(slideFolder / "ground_truth.json"))
  {
    itk::SyntheticSlideSettings slide;
    slide.NumberOfSpots = 60;
    slide.Seed = 3;
    itk::SyntheticSlide::Write(itk::SyntheticSlide::Generate(slide), slideFolder.string());
  }
  itk::PipelineSettings settings;
  settings.Slide = (slideFolder / "image.tif").string();
  settings.Spots = (slideFolder / "outs").string();
  settings.Threads = 1;
  settings.Ratios = { 1, 2 };
  settings.Extraction.PatchPixels = 16;
  settings.Extraction.Genes = 12;
  settings.Extraction.Fraction = 0.5;
  settings.Extraction.Seed = 1;
  settings.Tiles = 40;
  settings.Pretraining.Training.BaseChannels = 8;
  settings.Pretraining.Training.NumberOfScales = 2;
  settings.Pretraining.Training.LayersPerBlock = 1;
  settings.Pretraining.Training.NumberOfSteps = 4;
  settings.Pretraining.Training.BatchSize = 4;
  settings.Adaptation.Training.NumberOfSteps = 4;
  settings.Adaptation.Training.BatchSize = 4;
  settings.Adaptation.Training.GradientAccumulation = 1;
  settings.Adaptation.Training.EmbeddingSize = 8;
  settings.Synthesis.Steps = 2;
  settings.Synthesis.Batch = 16;
  settings.Regressor.Training.Depth = 18;
  settings.Regressor.Training.NumberOfSteps = 3;
  settings.Regressor.Training.BatchSize = 8;
  settings.Clusters = 2;
  settings.MapGenes = 1;
  settings.Imputation.Steps = 20; // S2S-ST, and a regressor per fold for its combination
  settings.Imputation.Folds = 2;
  return settings;
}

} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 2 || argc > 3)
  {
    std::cerr << "Usage: " << argv[0] << " OUTPUT_FOLDER [PIPELINE.json]" << std::endl;
    return EXIT_FAILURE;
  }
  try
  {
    const std::filesystem::path folder = std::filesystem::absolute(argv[1]);
    itk::PipelineSettings       settings =
      argc == 3 ? itk::PipelineSettings::Read(argv[2]) : TinySettingsOnSyntheticSlide(folder);
    settings.Output = (folder / "run").string();

    auto pipeline = itk::SpatialTranscriptomicsPipeline::New();
    pipeline->SetSettings(settings);
    const auto * observed = pipeline.GetPointer();
    pipeline->AddObserver(itk::IterationEvent(),
                          [observed](const itk::EventObject &) { std::cout << observed->GetMessage() << std::endl; });
    pipeline->Update();
    std::cout << "evaluation: " << (std::filesystem::path(settings.Output) / "evaluation" / "evaluation.json").string()
              << std::endl;
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << e.GetDescription() << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
