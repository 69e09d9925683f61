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

#include "itkMethodStepRunner.h"

#include "itkMethodTestSlide.h"
#include "itkSpotPatchDataset.h"

#include <fstream>
#include <sstream>

namespace
{
namespace fs = std::filesystem;

class MethodStepRunner : public itkMethodTest::SlideFixture
{
protected:
  /** The slide's paired dataset, half of its spots for training. */
  std::string
  Extract(itk::MethodStepRunner & runner)
  {
    itk::ExtractionStepSettings extraction;
    extraction.Slide = Path("slide/image.tif");
    extraction.Spots = Path("slide/outs");
    extraction.PatchPixels = 16;
    extraction.Genes = 8;
    extraction.Fraction = 0.5;
    extraction.Output = Path("data.h5");
    const auto summary = runner.Extract(extraction);
    EXPECT_NE(summary.find("wrote " + extraction.Output + ": 60 patches of 16 px"), std::string::npos) << summary;
    return extraction.Output;
  }
};

TEST_F(MethodStepRunner, ExtractsADatasetAndNeverOverwritesOne)
{
  auto runner = itk::MethodStepRunner::New();
  EXPECT_STREQ(runner->GetNameOfClass(), "MethodStepRunner");
  const auto data = Extract(*runner);
  const auto dataset = itk::SpotPatchDataset::Read(data);
  EXPECT_EQ(dataset->GetNumberOfPatches(), 60u);
  EXPECT_EQ(dataset->GetSpots()->GetSpotIndices(true).size(), 30u);
  EXPECT_EQ(dataset->GetSpots()->GetPreprocessing().Genes.size(), 8u);

  // A second extraction to the same file is refused until Force; the file is left as it was.
  std::ifstream     in(data, std::ios::binary);
  std::stringstream before;
  before << in.rdbuf();
  itk::ExtractionStepSettings again;
  again.Slide = Path("slide/image.tif");
  again.Spots = Path("slide/outs");
  again.Output = data;
  EXPECT_THROW(runner->Extract(again), itk::ExceptionObject);
  std::ifstream     after(data, std::ios::binary);
  std::stringstream bytes;
  bytes << after.rdbuf();
  EXPECT_EQ(bytes.str(), before.str());
}

TEST_F(MethodStepRunner, FollowsTheTrainingFiltersProgressAndPassesOnAnAbort)
{
  auto               runner = itk::MethodStepRunner::New();
  const auto         data = Extract(*runner);
  std::vector<float> progress;
  bool               ended = false;
  runner->AddObserver(itk::ProgressEvent(),
                      [&](const itk::EventObject &) { progress.push_back(runner->GetProgress()); });
  runner->AddObserver(itk::EndEvent(), [&](const itk::EventObject &) { ended = true; });

  itk::PretrainingStepSettings pretraining;
  pretraining.Data = { data };
  pretraining.Training.BaseChannels = 8;
  pretraining.Training.NumberOfScales = 2;
  pretraining.Training.LayersPerBlock = 1;
  pretraining.Training.NumberOfSteps = 4;
  pretraining.Training.BatchSize = 4;
  pretraining.Threads = 1;
  pretraining.Output = Path("central.safetensors");
  const auto summary = runner->Pretrain(pretraining);
  EXPECT_NE(summary.find("trained 4 steps, to step 4"), std::string::npos) << summary;
  EXPECT_EQ(std::string(runner->GetStepName()), "pretrain");
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);
  EXPECT_TRUE(ended);

  // An abort asked for while the step runs stops its filter; nothing is written.
  runner->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) { runner->AbortGenerateDataOn(); });
  pretraining.Output = Path("aborted.safetensors");
  EXPECT_THROW(runner->Pretrain(pretraining), itk::ProcessAborted);
  EXPECT_FALSE(fs::exists(Path("aborted.safetensors")));

  std::ostringstream printed;
  runner->Print(printed);
  EXPECT_NE(printed.str().find("StepName: pretrain"), std::string::npos);
}

} // namespace
