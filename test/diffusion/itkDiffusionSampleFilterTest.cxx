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

// Exercises DiffusionSampleFilter's Set/Get pairs and PrintSelf (before and after an update).

#include "itkDiffusionSampleFilter.h"

#include "itkDiffusionModelFile.h"
#include "itkTestingMacros.h"

#include <torch/torch.h>

int
itkDiffusionSampleFilterTest(int, char *[])
{
  const std::string model = std::string(DIFFUSION_TEST_OUTPUT) + "/itkDiffusionSampleFilterTest.safetensors";
  {
    itk::diffusion::UNet2DConfig config;
    config.sampleSize = 16;
    config.blockOutChannels = { 8, 16 };
    config.downBlockTypes = { "DownBlock2D", "AttnDownBlock2D" };
    config.upBlockTypes = { "AttnUpBlock2D", "UpBlock2D" };
    config.layersPerBlock = 1;
    config.normNumGroups = 4;
    config.attentionHeadDim = 4;
    torch::manual_seed(0);
    itk::diffusion::SaveDiffusionModel(
      model, itk::diffusion::UNet2D(config), itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}));
  }

  using FilterType = itk::DiffusionSampleFilter<>;
  auto filter = FilterType::New();
  ITK_EXERCISE_BASIC_OBJECT_METHODS(filter, DiffusionSampleFilter, ImageSource);

  ITK_TEST_SET_GET_VALUE(std::string("cpu"), std::string(filter->GetDevice()));
  ITK_TEST_SET_GET_VALUE(std::string("ddim"), std::string(filter->GetSampler()));
  filter->SetModelFileName(model);
  ITK_TEST_SET_GET_VALUE(model, std::string(filter->GetModelFileName()));
  filter->SetNumberOfSamples(2);
  ITK_TEST_SET_GET_VALUE(2u, filter->GetNumberOfSamples());
  filter->SetBatchSize(1);
  ITK_TEST_SET_GET_VALUE(1u, filter->GetBatchSize());
  filter->SetNumberOfSteps(3);
  ITK_TEST_SET_GET_VALUE(3u, filter->GetNumberOfSteps());
  filter->SetEta(0.5);
  ITK_TEST_SET_GET_VALUE(0.5, filter->GetEta());
  filter->SetEta(7.0);
  ITK_TEST_SET_GET_VALUE(1.0, filter->GetEta());
  filter->SetGuidanceScale(1.0);
  ITK_TEST_SET_GET_VALUE(1.0, filter->GetGuidanceScale());
  filter->SetSeed(99u);
  ITK_TEST_SET_GET_VALUE(99u, filter->GetSeed());
  filter->SetSampler("ddpm");
  ITK_TEST_SET_GET_VALUE(std::string("ddpm"), std::string(filter->GetSampler()));
  filter->SetNumberOfTorchThreads(1);
  ITK_TEST_SET_GET_VALUE(1u, filter->GetNumberOfTorchThreads());
  filter->SetDevice("cpu");
  ITK_TEST_SET_GET_NULL_VALUE(filter->GetModel());

  ITK_TRY_EXPECT_NO_EXCEPTION(filter->Update());
  ITK_TEST_EXPECT_EQUAL(filter->GetOutput()->GetLargestPossibleRegion().GetSize()[2], 2u);
  filter->Print(std::cout);

  auto loaded = itk::DiffusionModel::New();
  loaded->Load(model);
  filter->SetModel(loaded);
  ITK_TEST_SET_GET_VALUE(loaded.GetPointer(), filter->GetModel());
  filter->SetDevice("quantum");
  ITK_TRY_EXPECT_EXCEPTION(filter->Update());
  filter->Print(std::cout);
  loaded->Print(std::cout);

  std::cout << "Test finished." << std::endl;
  return EXIT_SUCCESS;
}
