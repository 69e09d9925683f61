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

// The ITK idiom for exercising a class: its basic object methods, PrintSelf and every Set/Get pair.

#include "itkStainNormalizeFilter.h"
#include "itkStainTestUtilities.h"
#include "itkTestingMacros.h"

int
itkStainNormalizeFilterTest(int, char *[])
{
  using ImageType = itk::StainTest::RGBImageType;
  using FilterType = itk::StainNormalizeFilter<ImageType>;
  auto filter = FilterType::New();

  ITK_EXERCISE_BASIC_OBJECT_METHODS(filter, StainNormalizeFilter, ImageToImageFilter);

  ITK_TEST_SET_GET_VALUE(itk::StainNormalizationMethod::Macenko, filter->GetMethod());
  filter->SetMethod(itk::StainNormalizationMethod::Vahadane);
  ITK_TEST_SET_GET_VALUE(itk::StainNormalizationMethod::Vahadane, filter->GetMethod());

  ITK_TEST_SET_GET_BOOLEAN(filter, ComputeConcentrations, true);
  filter->SetLuminosityThreshold(0.75);
  ITK_TEST_SET_GET_VALUE(0.75, filter->GetLuminosityThreshold());
  filter->SetMinimumOpticalDensity(0.1);
  ITK_TEST_SET_GET_VALUE(0.1, filter->GetMinimumOpticalDensity());
  filter->SetMinimumTissuePixels(32);
  ITK_TEST_SET_GET_VALUE(32u, filter->GetMinimumTissuePixels());
  filter->SetAngularPercentile(98.0);
  ITK_TEST_SET_GET_VALUE(98.0, filter->GetAngularPercentile());
  filter->SetConcentrationPercentile(97.0);
  ITK_TEST_SET_GET_VALUE(97.0, filter->GetConcentrationPercentile());
  filter->SetVahadaneRegularization(0.05);
  ITK_TEST_SET_GET_VALUE(0.05, filter->GetVahadaneRegularization());
  filter->SetVahadaneIterations(20u);
  ITK_TEST_SET_GET_VALUE(20u, filter->GetVahadaneIterations());

  itk::StainParameters parameters;
  parameters.Method = itk::StainNormalizationMethod::Vahadane;
  parameters.StainMatrix = itk::SyntheticStainField::TypicalHEStainMatrix();
  parameters.MaxConcentrations = { { 1.6, 0.9 } };
  filter->SetTargetParameters(parameters);
  ITK_TEST_EXPECT_TRUE(filter->GetHasTargetParameters());
  ITK_TEST_EXPECT_TRUE(filter->GetTargetParameters() == parameters);
  filter->ClearTargetParameters();
  ITK_TEST_EXPECT_TRUE(!filter->GetHasTargetParameters());
  filter->SetSourceParameters(parameters);
  ITK_TEST_EXPECT_TRUE(filter->GetUseGivenSourceParameters());
  filter->ClearSourceParameters();
  ITK_TEST_EXPECT_TRUE(!filter->GetUseGivenSourceParameters());

  // A run with every option away from its default, then PrintSelf of the updated filter.
  filter->SetInput(
    itk::StainTest::MakeSyntheticTissue(96, 96, 1, itk::SyntheticStainField::AlternativeHEStainMatrix()));
  filter->SetReferenceImage(
    itk::StainTest::MakeSyntheticTissue(96, 96, 2, itk::SyntheticStainField::TypicalHEStainMatrix()));
  ITK_TRY_EXPECT_NO_EXCEPTION(filter->Update());
  ITK_TEST_EXPECT_TRUE(filter->GetInputHasTissue());
  ITK_TEST_EXPECT_EQUAL(filter->GetTargetParameters().Method, itk::StainNormalizationMethod::Vahadane);
  filter->Print(std::cout);

  std::cout << "Test finished." << std::endl;
  return EXIT_SUCCESS;
}
