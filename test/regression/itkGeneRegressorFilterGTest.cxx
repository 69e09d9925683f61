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
// The ITK layer of the gene regressor: GeneRegressorTrainFilter learns patch -> expression from a
// dataset's training spots (and synthetic pairs), GeneRegressorFilter predicts for a patch stack,
// GeneRegressorModel saves and loads it; every precondition is a clear exception.

#include "itkGeneRegressorFilter.h"
#include "itkGeneRegressorTrainFilter.h"
#include "itkLibTorchThreads.h"

#include "gtest/gtest.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace
{
using namespace itk;
using StackType = SpotPatchDataset::PatchStackType;

std::filesystem::path
ScratchFolder(const std::string & name)
{
  const auto folder = std::filesystem::path(REGRESSION_TEST_OUTPUT) / name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

/** \p count spots of side x side patches, alternately reddish and bluish with a little texture;
 * G1 is high on the red ones, G2 on the blue ones, G3 is constant. The last quarter are test spots. */
SpotPatchDataset::Pointer
TwoColourDataset(unsigned int count, unsigned int side, const GenePreprocessing & preprocessing = GenePreprocessing())
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { side, side, count } }));
  stack->Allocate();
  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  std::vector<float>                               expression;
  std::vector<std::uint8_t>                        split;
  for (unsigned int k = 0; k < count; ++k)
  {
    const bool red = k % 2 == 0;
    for (unsigned int y = 0; y < side; ++y)
    {
      for (unsigned int x = 0; x < side; ++x)
      {
        const auto           texture = static_cast<unsigned char>(((x * 7 + y * 13 + k * 5) % 17) * 3);
        StackType::PixelType pixel;
        pixel.Set(red ? 200 + texture / 2 : 60 + texture, 90 + texture, red ? 70 : 200 + texture / 2);
        stack->SetPixel({ { x, y, k } }, pixel);
      }
    }
    ids.push_back("spot" + std::to_string(k));
    positions.push_back({ { 10.0 * k, 5.0 } });
    expression.insert(expression.end(), { red ? 2.f : 0.f, red ? 0.f : 2.f, 1.f });
    split.push_back(k < count * 3 / 4 ? 1 : 0);
  }
  auto spots = SpatialExpressionData::New();
  spots->SetSpots(ids, positions);
  GenePreprocessing genes = preprocessing;
  genes.Genes = { "G1", "G2", "G3" };
  spots->SetExpression(genes, expression);
  spots->SetSplit(split);
  auto dataset = SpotPatchDataset::New();
  dataset->SetPatches(stack);
  dataset->SetSpots(spots);
  return dataset;
}

GeneRegressorTrainFilter::Pointer
SmallTrainer(const SpotPatchDataset * real, unsigned int steps = 60)
{
  auto filter = GeneRegressorTrainFilter::New();
  filter->SetRealDataset(real);
  filter->SetDepth(18);
  filter->SetNumberOfSteps(steps);
  filter->SetBatchSize(8);
  filter->SetLearningRate(1e-3);
  filter->SetSeed(1);
  filter->SetNumberOfTorchThreads(1); // tiny network: threads cost more than they give
  return filter;
}

GeneRegressorFilter::MatrixType
Predict(const GeneRegressorModel * model, const StackType * patches, bool countScale = false)
{
  auto filter = GeneRegressorFilter::New();
  filter->SetModel(model);
  filter->SetInput(patches);
  filter->SetCountScale(countScale);
  filter->SetBatchSize(5);
  filter->SetNumberOfTorchThreads(1);
  filter->Update();
  return filter->GetExpression();
}

TEST(GeneRegressorFilter, LearnsWhatTheTrainingPatchesShow)
{
  const auto dataset = TwoColourDataset(32, 32);
  auto       trainer = SmallTrainer(dataset);
  trainer->Update();
  const auto * model = trainer->GetOutput();
  EXPECT_EQ(trainer->GetNumberOfRealPairs(), 24u); // the training split only
  EXPECT_EQ(trainer->GetNumberOfSyntheticPairs(), 0u);
  EXPECT_EQ(model->GetGenes(), (std::vector<std::string>{ "G1", "G2", "G3" }));
  EXPECT_EQ(model->GetImageSize(), 32u);
  EXPECT_EQ(model->GetDepth(), 18u);

  // The held-out spots: red ones must read high G1 and low G2, blue ones the reverse.
  const auto test = dataset->Select({ 24, 25, 26, 27, 28, 29, 30, 31 });
  const auto predicted = Predict(model, test->GetPatches());
  ASSERT_EQ(predicted.rows(), 8u);
  ASSERT_EQ(predicted.cols(), 3u);
  double redG1 = 0, blueG1 = 0, redG2 = 0, blueG2 = 0;
  for (unsigned int r = 0; r < 8; ++r)
  {
    (r % 2 == 0 ? redG1 : blueG1) += predicted(r, 0) / 4;
    (r % 2 == 0 ? redG2 : blueG2) += predicted(r, 1) / 4;
  }
  // Truth: 2 against 0. An untrained head predicts about the same for both colours.
  EXPECT_GT(redG1 - blueG1, 1.0) << redG1 << " " << blueG1;
  EXPECT_GT(blueG2 - redG2, 1.0) << blueG2 << " " << redG2;
}

TEST(GeneRegressorFilter, SavedModelPredictsTheSame)
{
  const auto folder = ScratchFolder("GeneRegressorSaved");
  const auto dataset = TwoColourDataset(16, 16);
  auto       trainer = SmallTrainer(dataset, 5);
  trainer->SetOutputFileName((folder / "regressor.safetensors").string());
  trainer->Update();
  EXPECT_EQ(trainer->GetStepsTrained(), 5u);
  EXPECT_EQ(trainer->GetCurrentStep(), 5u);
  EXPECT_TRUE(std::isfinite(trainer->GetFinalLoss()));
  auto loaded = GeneRegressorModel::New();
  loaded->Load((folder / "regressor.safetensors").string());
  EXPECT_EQ(loaded->GetGenePreprocessing(), trainer->GetOutput()->GetGenePreprocessing());
  EXPECT_EQ(loaded->GetNumberOfParameters(), trainer->GetOutput()->GetNumberOfParameters());
  EXPECT_NE(loaded->GetTrainingSummary().find("\"real_pairs\":12"), std::string::npos) << loaded->GetTrainingSummary();
  const auto before = Predict(trainer->GetOutput(), dataset->GetPatches());
  const auto after = Predict(loaded, dataset->GetPatches());
  for (unsigned int i = 0; i < before.size(); ++i)
  {
    EXPECT_EQ(before.data_block()[i], after.data_block()[i]);
  }
}

TEST(GeneRegressorFilter, CountScaleUndoesThePreprocessing)
{
  // Standardised log1p values: counts per target sum = expm1(x * sd + mean).
  GenePreprocessing preprocessing;
  preprocessing.Standardize = true;
  preprocessing.Mean = { 1.0, 0.5, 2.0 };
  preprocessing.StandardDeviation = { 0.5, 2.0, 1.0 };
  const auto dataset = TwoColourDataset(16, 16, preprocessing);
  auto       trainer = SmallTrainer(dataset, 3);
  trainer->Update();
  const auto values = Predict(trainer->GetOutput(), dataset->GetPatches());
  const auto counts = Predict(trainer->GetOutput(), dataset->GetPatches(), true);
  for (unsigned int r = 0; r < values.rows(); ++r)
  {
    for (unsigned int g = 0; g < 3; ++g)
    {
      const double expected =
        std::max(0.0, std::expm1(values(r, g) * preprocessing.StandardDeviation[g] + preprocessing.Mean[g]));
      EXPECT_NEAR(counts(r, g), expected, 1e-12 * std::max(1.0, expected));
    }
  }
}

TEST(GeneRegressorFilter, TrainsOnSyntheticPairsToo)
{
  const auto real = TwoColourDataset(16, 16);
  const auto synthetic = TwoColourDataset(40, 16);
  auto       trainer = SmallTrainer(real, 3);
  trainer->SetSyntheticDataset(synthetic);
  trainer->Update();
  EXPECT_EQ(trainer->GetNumberOfRealPairs(), 12u);
  EXPECT_EQ(trainer->GetNumberOfSyntheticPairs(), 30u); // its training split
  // A synthetic fraction of 1 (synthetic pairs only) is what the trainer accepts, so the filter too.
  trainer->SetSyntheticFraction(1.0);
  EXPECT_NO_THROW(trainer->Update());
  trainer->SetSyntheticFraction(-1.0);

  // Synthetic pairs of other genes or another patch size are refused, naming the problem.
  GenePreprocessing other;
  other.Standardize = true;
  other.Mean = { 0, 0, 0 };
  other.StandardDeviation = { 1, 1, 1 };
  trainer->SetSyntheticDataset(TwoColourDataset(8, 16, other));
  EXPECT_THROW(trainer->Update(), ExceptionObject);
  trainer->SetSyntheticDataset(TwoColourDataset(8, 32));
  try
  {
    trainer->Update();
    FAIL() << "patches of another size were accepted";
  }
  catch (const ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("32 x 32"), std::string::npos) << e.GetDescription();
  }
}

/** The message of the exception \p update throws ("" if none). */
template <typename TFunction>
std::string
ThrownMessage(TFunction update)
{
  try
  {
    update();
  }
  catch (const ExceptionObject & e)
  {
    return e.GetDescription();
  }
  return {};
}

TEST(GeneRegressorFilter, PreconditionsThrow)
{
  const auto dataset = TwoColourDataset(16, 16);
  {
    auto trainer = SmallTrainer(dataset, 3);
    trainer->SetDepth(20);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("18, 34 or 50"), std::string::npos);
    trainer->SetDepth(18);
    trainer->SetLoss("l1");
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("mae or mse"), std::string::npos);
    trainer->SetLoss("mae");
    trainer->SetBackboneFileName("/nonexistent/resnet18.safetensors");
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("do not exist"), std::string::npos);
    trainer->SetBackboneFileName("");
    trainer->SetResume(true);
    trainer->SetCheckpointFileName("/nonexistent/checkpoint");
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("does not exist"), std::string::npos);
    trainer->SetResume(false);
    trainer->SetDevice("tpu");
    EXPECT_FALSE(ThrownMessage([&] { trainer->Update(); }).empty());
    trainer->SetDevice("cpu");
    trainer->SetNumberOfSteps(0);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("positive"), std::string::npos);
    trainer->SetNumberOfSteps(3);
    trainer->SetBatchSize(1);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("at least 2"), std::string::npos);
    trainer->SetBatchSize(8);
    trainer->SetSyntheticFraction(0.5);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("no synthetic dataset"), std::string::npos);
    trainer->SetSyntheticFraction(1.5);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("at most 1"), std::string::npos);
  }
  {
    auto noExpression = SpotPatchDataset::New();
    noExpression->SetPatches(dataset->GetPatches());
    auto spots = SpatialExpressionData::New();
    spots->SetSpots(dataset->GetSpots()->GetSpotIds(), dataset->GetSpots()->GetPixelPositions());
    noExpression->SetSpots(spots);
    auto trainer = SmallTrainer(noExpression, 3);
    EXPECT_NE(ThrownMessage([&] { trainer->Update(); }).find("no preprocessed expression"), std::string::npos);
  }

  auto trainer = SmallTrainer(dataset, 2);
  trainer->Update();
  auto predictor = GeneRegressorFilter::New();
  predictor->SetInput(dataset->GetPatches());
  EXPECT_NE(ThrownMessage([&] { predictor->Update(); }).find("SetModel"), std::string::npos);
  predictor->SetModel(trainer->GetOutput());
  predictor->SetInput(TwoColourDataset(8, 32)->GetPatches());
  EXPECT_NE(ThrownMessage([&] { predictor->Update(); }).find("trained on 16 x 16"), std::string::npos);
  auto unloaded = GeneRegressorModel::New();
  EXPECT_NE(ThrownMessage([&] { unloaded->Save("/tmp/never.safetensors"); }).find("No regressor"), std::string::npos);
  EXPECT_NE(ThrownMessage([&] { unloaded->Load("/nonexistent/model.safetensors"); }).find("/nonexistent/model"),
            std::string::npos);
}

// A filter takes no process-wide decision unless asked: LibTorch's thread count and its global
// random generator are the same after training as before (and the weights still follow Seed).
TEST(GeneRegressorFilter, LeavesLibTorchsThreadsAndGlobalGeneratorAsTheyWere)
{
  const auto dataset = TwoColourDataset(16, 16);
  itk::LibTorchThreads::Set(3);
  torch::manual_seed(123);
  const auto expected = torch::rand({ 8 });
  torch::manual_seed(123);
  auto first = SmallTrainer(dataset, 2);
  first->SetNumberOfTorchThreads(0);
  first->Update();
  EXPECT_TRUE(torch::equal(torch::rand({ 8 }), expected));
  EXPECT_EQ(itk::LibTorchThreads::Get(), 3u);

  torch::manual_seed(7); // another global state: the trained weights do not depend on it
  auto second = SmallTrainer(dataset, 2);
  second->SetNumberOfTorchThreads(0);
  second->Update();
  const auto a = Predict(first->GetOutput(), dataset->GetPatches());
  const auto b = Predict(second->GetOutput(), dataset->GetPatches());
  for (unsigned int i = 0; i < a.size(); ++i)
  {
    EXPECT_EQ(a.data_block()[i], b.data_block()[i]);
  }
  itk::LibTorchThreads::Set(1);
}

TEST(GeneRegressorFilter, PrintsEverySetting)
{
  auto               trainer = GeneRegressorTrainFilter::New();
  std::ostringstream text;
  trainer->Print(text);
  for (const char * name : { "OutputFileName",
                             "Depth",
                             "BackboneFileName",
                             "NumberOfSteps",
                             "BatchSize",
                             "LearningRate",
                             "WeightDecay",
                             "WarmupFraction",
                             "Loss",
                             "SyntheticFraction",
                             "Augment",
                             "Seed",
                             "Device",
                             "NumberOfTorchThreads",
                             "CheckpointFileName",
                             "CheckpointInterval",
                             "Resume",
                             "FinalLoss",
                             "NumberOfRealPairs",
                             "NumberOfSyntheticPairs" })
  {
    EXPECT_NE(text.str().find(name), std::string::npos) << name;
  }
  auto               predictor = GeneRegressorFilter::New();
  std::ostringstream predictorText;
  predictor->Print(predictorText);
  for (const char * name : { "BatchSize", "CountScale", "ComputeFeatures", "Device", "NumberOfTorchThreads" })
  {
    EXPECT_NE(predictorText.str().find(name), std::string::npos) << name;
  }
}

} // namespace
