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
#ifndef itkMethodTestSlide_h
#define itkMethodTestSlide_h

// A scratch folder with a small synthetic slide (60 spots), and settings small enough that the
// whole method runs on it in seconds: the method's tests check what runs and what is written, not
// how well it predicts.

#include "itkPipelineSettings.h"
#include "itkSyntheticSlide.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <string>
#include <unistd.h>

namespace itkMethodTest
{

class SlideFixture : public ::testing::Test
{
protected:
  void
  SetUp() override
  {
    const auto * test = ::testing::UnitTest::GetInstance()->current_test_info();
    m_Folder = std::filesystem::temp_directory_path() /
               (std::string("method-") + test->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(m_Folder);
    itk::SyntheticSlideSettings slide;
    slide.NumberOfSpots = 60;
    slide.Seed = 3;
    itk::SyntheticSlide::Write(itk::SyntheticSlide::Generate(slide), Path("slide"));
  }

  void
  TearDown() override
  {
    std::filesystem::remove_all(m_Folder);
  }

  std::string
  Path(const std::string & name) const
  {
    return (m_Folder / name).string();
  }

  /** Tiny settings for the whole pipeline on the slide, writing into "run". */
  itk::PipelineSettings
  TinySettings() const
  {
    itk::PipelineSettings settings;
    settings.Output = Path("run");
    settings.Slide = Path("slide/image.tif");
    settings.Spots = Path("slide/outs");
    settings.Threads = 1;
    settings.Ratios = { 1 };
    settings.Extraction.PatchPixels = 16;
    settings.Extraction.Genes = 8;
    settings.Extraction.Fraction = 0.5;
    settings.Tiles = 24;
    settings.Pretraining.Training.BaseChannels = 8;
    settings.Pretraining.Training.NumberOfScales = 2;
    settings.Pretraining.Training.LayersPerBlock = 1;
    settings.Pretraining.Training.NumberOfSteps = 3;
    settings.Pretraining.Training.BatchSize = 4;
    settings.Adaptation.Training.NumberOfSteps = 3;
    settings.Adaptation.Training.BatchSize = 4;
    settings.Adaptation.Training.GradientAccumulation = 1;
    settings.Adaptation.Training.EmbeddingSize = 8;
    settings.Synthesis.Steps = 2;
    settings.Synthesis.Batch = 16;
    settings.Regressor.Training.Depth = 18;
    settings.Regressor.Training.NumberOfSteps = 2;
    settings.Regressor.Training.BatchSize = 8;
    settings.Clusters = 2;
    settings.MapGenes = 1;
    settings.Imputation.Steps = 20;
    settings.Imputation.Folds = 2;
    return settings;
  }

  std::filesystem::path m_Folder;
};

} // namespace itkMethodTest

#endif
