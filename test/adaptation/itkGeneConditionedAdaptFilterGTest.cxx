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

// The ITK layer of local adaptation: GeneConditionedAdaptFilter turns a central model file and a
// paired dataset into a local model file that DiffusionModel loads and DiffusionSampleFilter
// samples from, one patch per expression profile; checkpoints resume to the same file; every
// precondition is a clear exception.

#include "itkDiffusionModelFile.h"
#include "itkDiffusionSampleFilter.h"
#include "itkDiffusionTestUtilities.h"
#include "itkGeneConditionedAdaptFilter.h"
#include "itkMatrixOperations.h"
#include "itkSHA256.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace
{
using namespace itk;

/** \p rows profiles of the given values, row by row. */
Array2D<double>
Profiles(std::size_t rows, const std::vector<double> & values)
{
  return MatrixOperations::FromRowMajor(rows, values.size() / rows, values);
}

/** A tiny central model file and a 12-spot dataset of 16 x 16 patches with 5-gene expression. */
struct Inputs
{
  std::filesystem::path     folder;
  std::string               centralFile;
  DiffusionModel::Pointer   central;
  SpotPatchDataset::Pointer dataset;
};

Inputs
MakeInputs(const std::string & name)
{
  Inputs inputs;
  inputs.folder = DiffusionTest::ScratchFolder(name);
  inputs.centralFile = (inputs.folder / "central.safetensors").string();
  torch::manual_seed(0);
  diffusion::SaveDiffusionModel(inputs.centralFile,
                                diffusion::UNet2D(DiffusionTest::TinyConfig()),
                                diffusion::NoiseSchedule(diffusion::SchedulerConfig()));
  inputs.central = DiffusionModel::New();
  inputs.central->Load(inputs.centralFile);

  using StackType = SpotPatchDataset::PatchStackType;
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, 12 } }));
  stack->Allocate();
  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  std::vector<float>                               expression;
  for (unsigned int k = 0; k < 12; ++k)
  {
    const bool           red = k % 2 == 0;
    StackType::PixelType pixel;
    pixel.Set(red ? 220 : 60, 100, red ? 60 : 220);
    for (unsigned int y = 0; y < 16; ++y)
    {
      for (unsigned int x = 0; x < 16; ++x)
      {
        stack->SetPixel({ { x, y, k } }, pixel);
      }
    }
    ids.push_back("spot" + std::to_string(k));
    positions.push_back({ { 10.0 * k, 5.0 } });
    expression.insert(expression.end(), { red ? 3.f : 0.f, red ? 0.f : 3.f, 1.f, 0.5f, 0.f });
  }
  auto spots = SpatialExpressionData::New();
  spots->SetSpots(ids, positions);
  GenePreprocessing preprocessing;
  preprocessing.Genes = { "G1", "G2", "G3", "G4", "G5" };
  spots->SetExpression(preprocessing, expression);
  spots->SetSplit({ 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 });
  inputs.dataset = SpotPatchDataset::New();
  inputs.dataset->SetPatches(stack);
  inputs.dataset->SetSpots(spots);
  return inputs;
}

GeneConditionedAdaptFilter::Pointer
SmallFilter(const Inputs & inputs, const std::string & output)
{
  auto filter = GeneConditionedAdaptFilter::New();
  filter->SetCentralModel(inputs.central);
  filter->SetDataset(inputs.dataset);
  filter->SetOutputFileName((inputs.folder / output).string());
  filter->SetNumberOfSteps(12);
  filter->SetBatchSize(4);
  filter->SetGradientAccumulation(1);
  filter->SetLearningRate(1e-2);
  filter->SetEmbeddingSize(8);
  filter->SetSeed(3);
  filter->SetNumberOfTorchThreads(1); // tiny model: threads cost more than they give
  return filter;
}

std::string
FileBytes(const std::string & path)
{
  std::ifstream     in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(GeneConditionedAdaptFilter, MakesALocalModelThatSamplesPerProfile)
{
  const auto inputs = MakeInputs("adapt-filter");
  auto       filter = SmallFilter(inputs, "local.safetensors");
  filter->Update();
  EXPECT_EQ(filter->GetNumberOfTrainingSpots(), 8u);
  const DiffusionModel * local = filter->GetOutput();
  ASSERT_TRUE(local->IsConditional());
  EXPECT_EQ(local->GetNumberOfGenes(), 5u);
  EXPECT_EQ(local->GetCentralSHA256(), torchcore::SHA256OfFile(inputs.centralFile));
  EXPECT_NE(local->GetGenePreprocessing().find("\"G5\""), std::string::npos);
  EXPECT_LT(local->GetNumberOfAdapterParameters(), local->GetNumberOfUNetParameters());
  EXPECT_FALSE(inputs.central->IsConditional()); // the input model is left as it was

  // One patch per profile, the same patches for the same seed, others for other profiles.
  auto sampler = DiffusionSampleFilter<>::New();
  sampler->SetModel(filter->GetOutput());
  sampler->SetConditioningProfiles(Profiles(3, { 3, 0, 1, 0.5, 0, 0, 3, 1, 0.5, 0, 3, 0, 1, 0.5, 0 }));
  sampler->SetNumberOfSteps(4);
  sampler->SetNumberOfTorchThreads(1);
  sampler->SetGuidanceScale(3.0);
  sampler->SetSeed(9);
  sampler->Update();
  const auto size = sampler->GetOutput()->GetLargestPossibleRegion().GetSize();
  EXPECT_EQ(size[0], 16u);
  EXPECT_EQ(size[2], 3u);
  std::vector<std::uint8_t> first(reinterpret_cast<const std::uint8_t *>(sampler->GetOutput()->GetBufferPointer()),
                                  reinterpret_cast<const std::uint8_t *>(sampler->GetOutput()->GetBufferPointer()) +
                                    3 * 16 * 16 * 3);
  sampler->Modified();
  sampler->Update();
  EXPECT_TRUE(std::equal(
    first.begin(), first.end(), reinterpret_cast<const std::uint8_t *>(sampler->GetOutput()->GetBufferPointer())));
  sampler->SetGuidanceScale(1.0);
  sampler->Update();
  EXPECT_FALSE(std::equal(
    first.begin(), first.end(), reinterpret_cast<const std::uint8_t *>(sampler->GetOutput()->GetBufferPointer())));
  sampler->SetGeneDropout(2);
  EXPECT_NO_THROW(sampler->Update());
  sampler->SetGeneDropout(5);
  EXPECT_THROW(sampler->Update(), ExceptionObject); // no gene left

  // The local model file loads on its own too (the central model found beside it by hash).
  auto reloaded = DiffusionModel::New();
  reloaded->Load((inputs.folder / "local.safetensors").string());
  EXPECT_TRUE(reloaded->IsConditional());
  std::ostringstream printed;
  filter->Print(printed);
  EXPECT_NE(printed.str().find("NumberOfTrainingSpots: 8"), std::string::npos);
}

TEST(GeneConditionedAdaptFilter, ResumedAdaptationWritesTheSameModel)
{
  const auto inputs = MakeInputs("adapt-resume");
  auto       straight = SmallFilter(inputs, "straight.safetensors");
  straight->Update();

  const auto checkpoint = (inputs.folder / "checkpoint.safetensors").string();
  auto       first = SmallFilter(inputs, "interrupted.safetensors");
  first->SetNumberOfSteps(6); // a run "killed" after 6 of 12 steps, with a checkpoint every 3
  first->SetCheckpointFileName(checkpoint);
  first->SetCheckpointInterval(3);
  first->Update();
  EXPECT_EQ(first->GetStepsTrained(), 6u);
  auto resumed = SmallFilter(inputs, "resumed.safetensors");
  resumed->SetCheckpointFileName(checkpoint);
  resumed->ResumeOn();
  resumed->Update();
  EXPECT_EQ(FileBytes((inputs.folder / "resumed.safetensors").string()),
            FileBytes((inputs.folder / "straight.safetensors").string()));
  EXPECT_EQ(resumed->GetStepsTrained(), 6u); // steps 7 to 12
  EXPECT_EQ(resumed->GetCurrentStep(), 12u);
  EXPECT_EQ(resumed->GetFinalLoss(), straight->GetFinalLoss());

  // Resume without a checkpoint is an error (as in the other training filters), not a fresh start.
  auto missing = SmallFilter(inputs, "missing.safetensors");
  missing->SetCheckpointFileName((inputs.folder / "none.safetensors").string());
  missing->ResumeOn();
  EXPECT_THROW(missing->Update(), ExceptionObject);
  EXPECT_FALSE(std::filesystem::exists(inputs.folder / "missing.safetensors"));
}

TEST(GeneConditionedAdaptFilter, SamplingChecksWhatItIsGiven)
{
  const auto inputs = MakeInputs("adapt-sampling-checks");
  auto       sampler = DiffusionSampleFilter<>::New();
  sampler->SetModel(inputs.central);
  sampler->SetNumberOfSteps(2);
  sampler->SetConditioningProfiles(Profiles(1, { 1, 2, 3, 4, 5 }));
  EXPECT_THROW(sampler->Update(), ExceptionObject); // profiles for a central model
  sampler->SetConditioningProfiles(Array2D<double>());
  sampler->SetGuidanceScale(3.0);
  EXPECT_THROW(sampler->Update(), ExceptionObject); // guidance without conditioning

  auto filter = SmallFilter(inputs, "local.safetensors");
  filter->SetNumberOfSteps(1);
  filter->Update();
  auto local = DiffusionSampleFilter<>::New();
  local->SetModel(filter->GetOutput());
  local->SetNumberOfSteps(2);
  EXPECT_THROW(local->Update(), ExceptionObject); // a local model without profiles
  local->SetConditioningProfiles(Profiles(1, { 1, 2, 3, 4 }));
  EXPECT_THROW(local->Update(), ExceptionObject); // 4-gene profiles for a 5-gene model
  local->SetConditioningProfiles(Profiles(1, { 1, 2, 3, 4, std::nan("") }));
  EXPECT_THROW(local->Update(), ExceptionObject); // NaN expression
}

TEST(GeneConditionedAdaptFilter, PreconditionsThrow)
{
  const auto inputs = MakeInputs("adapt-preconditions");
  auto       filter = SmallFilter(inputs, "local.safetensors");
  filter->SetOutputFileName("");
  EXPECT_THROW(filter->Update(), ExceptionObject);
  filter->SetOutputFileName(inputs.centralFile); // would replace the central model
  EXPECT_THROW(filter->Update(), ExceptionObject);
  filter->SetOutputFileName((inputs.folder / "local.safetensors").string());
  filter->SetDevice("tpu");
  EXPECT_THROW(filter->Update(), ExceptionObject);
  filter->SetDevice("cpu");
  filter->SetNumberOfSteps(0);
  EXPECT_THROW(filter->Update(), ExceptionObject);
  filter->SetNumberOfSteps(2);

  // A dataset of the wrong patch size, and one without expression.
  auto wrong = MakeInputs("adapt-preconditions-size").dataset;
  using StackType = SpotPatchDataset::PatchStackType;
  auto big = StackType::New();
  big->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 32, 32, 12 } }));
  big->Allocate();
  wrong->SetPatches(big);
  filter->SetDataset(wrong);
  EXPECT_THROW(filter->Update(), ExceptionObject);
  auto noExpression = SpotPatchDataset::New();
  noExpression->SetPatches(inputs.dataset->GetPatches());
  auto spots = SpatialExpressionData::New();
  spots->SetSpots(inputs.dataset->GetSpots()->GetSpotIds(), inputs.dataset->GetSpots()->GetPixelPositions());
  noExpression->SetSpots(spots);
  filter->SetDataset(noExpression);
  EXPECT_THROW(filter->Update(), ExceptionObject);

  // A local model as the "central" one.
  filter->SetDataset(inputs.dataset);
  filter->Update();
  auto again = SmallFilter(inputs, "twice.safetensors");
  again->SetCentralModel(filter->GetOutput());
  EXPECT_THROW(again->Update(), ExceptionObject);
}

TEST(GeneConditionedAdaptFilter, RefusesPatchesOfAnotherColourOrPixelSizeThanTheCentralModels)
{
  auto inputs = MakeInputs("adapt-colours");
  // The training spots (the first 8) alternate (220, 100, 60) and (60, 100, 220): mean 140, 100, 140.
  // The test spots' patches are black, so a mean over every patch (93.3, 66.7, 93.3) would differ.
  auto * stack = const_cast<SpotPatchDataset::PatchStackType *>(inputs.dataset->GetPatches());
  for (unsigned int k = 8; k < 12; ++k)
  {
    for (unsigned int y = 0; y < 16; ++y)
    {
      for (unsigned int x = 0; x < 16; ++x)
      {
        stack->SetPixel({ { x, y, k } }, SpotPatchDataset::PatchStackType::PixelType(static_cast<unsigned char>(0)));
      }
    }
  }
  const auto centralStating = [&inputs](const std::map<std::string, std::string> & metadata) {
    const std::string file = (inputs.folder / "stating.safetensors").string();
    torch::manual_seed(0);
    diffusion::SaveDiffusionModel(file,
                                  diffusion::UNet2D(DiffusionTest::TinyConfig()),
                                  diffusion::NoiseSchedule(diffusion::SchedulerConfig()),
                                  metadata);
    auto central = DiffusionModel::New();
    central->Load(file);
    return central;
  };
  const auto refusal = [](GeneConditionedAdaptFilter * filter) -> std::string {
    try
    {
      filter->Update();
    }
    catch (const ExceptionObject & e)
    {
      return e.GetDescription();
    }
    return "";
  };

  auto filter = SmallFilter(inputs, "local.safetensors");
  filter->SetNumberOfSteps(1);
  filter->SetCentralModel(centralStating({ { "patch_rgb_mean", "[140.0, 100.0, 165.0]" } }));
  // By default the difference is measured (and warned about), not refused: tissue composition moves it too.
  EXPECT_EQ(refusal(filter), "");
  EXPECT_EQ(filter->GetColourDifference(), 25.0);
  std::ostringstream printed;
  filter->Print(printed);
  EXPECT_NE(printed.str().find("ColourDifference: 25"), std::string::npos);
  std::filesystem::remove(inputs.folder / "local.safetensors");
  filter->SetMaximumColourDifference(20.0);
  const auto message = refusal(filter);
  EXPECT_NE(message.find("B differs by 25 grey levels, more than MaximumColourDifference (20)"), std::string::npos)
    << message;
  EXPECT_NE(message.find("mean colour (R, G, B) is 140, 100, 140"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(inputs.folder / "local.safetensors"));
  filter->SetMaximumColourDifference(30.0);
  EXPECT_EQ(refusal(filter), "");
  filter->SetMaximumColourDifference(20.0);
  filter->SetCentralModel(centralStating({ { "patch_rgb_mean", "[141.5, 98, 139]" } }));
  EXPECT_EQ(refusal(filter), "");
  EXPECT_EQ(filter->GetColourDifference(), 2.0);
  filter->SetCentralModel(centralStating({})); // a model that states nothing is not checked
  EXPECT_EQ(refusal(filter), "");
  EXPECT_TRUE(std::isnan(filter->GetColourDifference()));
  filter->SetMaximumColourDifference(-1.0);
  EXPECT_NE(refusal(filter).find("MaximumColourDifference must be in [0, 255]"), std::string::npos);
  filter->SetMaximumColourDifference(20.0);

  // A stated colour that is not three grey levels is refused when the model loads.
  const std::string malformed = (inputs.folder / "malformed.safetensors").string();
  diffusion::SaveDiffusionModel(malformed,
                                diffusion::UNet2D(DiffusionTest::TinyConfig()),
                                diffusion::NoiseSchedule(diffusion::SchedulerConfig()),
                                { { "patch_rgb_mean", "[140, 100]" } });
  auto model = DiffusionModel::New();
  try
  {
    model->Load(malformed);
    ADD_FAILURE() << "a malformed patch_rgb_mean was accepted";
  }
  catch (const ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("\"patch_rgb_mean\""), std::string::npos) << e.GetDescription();
  }

  // The pixel size, where both state it: the patches at 4 um per pixel, the model trained at 2.
  stack->SetSpacing(4.0);
  filter->SetCentralModel(centralStating({ { "pixel_size_um", "2.000000" } }));
  EXPECT_NE(refusal(filter).find("patches are at 4 um per pixel but the central model"), std::string::npos);
  filter->SetCentralModel(centralStating({ { "pixel_size_um", "4.010000" } })); // within 1 %
  EXPECT_EQ(refusal(filter), "");
  stack->SetSpacing(1.0); // ITK's default: nobody stated the patches' pixel size
  filter->SetCentralModel(centralStating({ { "pixel_size_um", "2.000000" } }));
  EXPECT_EQ(refusal(filter), "");
  std::filesystem::remove_all(inputs.folder);
}

} // namespace
