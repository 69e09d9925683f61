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

// DiffusionPretrainFilter as a library user drives it (until now only c2l pretrain went through it):
// a tiny run writes a model that loads, its loss log, a half-precision output of half the size that
// loads to the same weights rounded to float16, abort, PrintSelf of every setting, preconditions.

#include "itkDiffusionPretrainFilter.h"

#include "itkDiffusionModelFile.h"
#include "itkDiffusionTestUtilities.h"
#include "itkLoopbackPort.h"
#include "itkSafeTensors.h"

#include "itkCommand.h"
#include "itkImageRegionIterator.h"
#include "itkImageRegionIteratorWithIndex.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace
{
using FilterType = itk::DiffusionPretrainFilter;
using StackType = FilterType::PatchStackType;

/** 12 patches of \p side pixels of a two-colour texture, at \p micrometresPerPixel. */
StackType::Pointer
Patches(unsigned int side = 16, double micrometresPerPixel = 4.0)
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { side, side, 12 } }));
  stack->Allocate();
  const double spacing[3] = { micrometresPerPixel, micrometresPerPixel, 1.0 }; // by default 64 um patches
  stack->SetSpacing(spacing);
  itk::ImageRegionIterator<StackType> it(stack, stack->GetBufferedRegion());
  for (std::size_t i = 0; !it.IsAtEnd(); ++it, ++i)
  {
    const bool dark = (i / 16 + i) % 3 == 0;
    it.Set(itk::RGBPixel<unsigned char>(dark ? 90 : 220));
  }
  return stack;
}

FilterType::Pointer
TinyFilter(const std::filesystem::path & folder, const StackType * patches)
{
  auto filter = FilterType::New();
  filter->AddPatches(patches);
  filter->SetImageSize(16);
  filter->SetBaseChannels(8);
  filter->SetNumberOfScales(2);
  filter->SetLayersPerBlock(1);
  filter->SetNumberOfSteps(3);
  filter->SetBatchSize(4);
  filter->SetNumberOfTorchThreads(1);
  filter->SetSeed(2);
  filter->SetOutputFileName((folder / "central.safetensors").string());
  return filter;
}
} // namespace

TEST(DiffusionPretrainFilter, TrainsWritesALoadableModelAndItsLossLog)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter");
  const auto patches = Patches();
  auto       filter = TinyFilter(folder, patches);
  filter->SetLossLogFileName((folder / "loss.tsv").string());
  filter->Update();
  EXPECT_TRUE(filter->GetOutput()->IsLoaded());
  EXPECT_EQ(filter->GetOutput()->GetImageSize(), 16u);
  EXPECT_GT(filter->GetFinalLoss(), 0.0);
  EXPECT_EQ(filter->GetStepsTrained(), 3u);
  std::ifstream log((folder / "loss.tsv").string());
  std::string   line;
  std::size_t   lines = 0;
  while (std::getline(log, line))
  {
    ++lines;
  }
  EXPECT_EQ(lines, 4u); // header + 3 steps
  // The physical size the model draws at, from the patches' spacing.
  const auto metadata = itk::torchcore::ReadSafeTensorsMetadata((folder / "central.safetensors").string());
  EXPECT_EQ(std::stod(metadata.at("pixel_size_um")), 4.0);
  EXPECT_EQ(std::stod(metadata.at("patch_um")), 64.0);

  // The same run with half-precision output: half the weight bytes, the same weights to float16.
  auto half = TinyFilter(folder, patches);
  half->SetOutputFileName((folder / "half.safetensors").string());
  half->HalfPrecisionOutputOn();
  half->Update();
  const auto full = itk::torchcore::ReadSafeTensors((folder / "central.safetensors").string());
  const auto halved = itk::torchcore::ReadSafeTensors((folder / "half.safetensors").string());
  ASSERT_EQ(full.tensors.size(), halved.tensors.size());
  for (const auto & [name, value] : full.tensors)
  {
    const auto stored = halved.Find(name);
    ASSERT_TRUE(stored.defined()) << name;
    EXPECT_EQ(stored.scalar_type(), torch::kFloat16) << name;
    EXPECT_TRUE(torch::equal(stored, value.to(torch::kFloat16))) << name;
  }
  EXPECT_LT(std::filesystem::file_size(folder / "half.safetensors"),
            0.6 * std::filesystem::file_size(folder / "central.safetensors"));
  auto loaded = itk::DiffusionModel::New();
  loaded->Load((folder / "half.safetensors").string());
  EXPECT_EQ(loaded->GetImageSize(), 16u);
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, RecordsTheMeanColourOfAllItsPatches)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-colour");
  // Two inputs of other sizes and three different channels: a mean of the inputs' means, a swapped
  // channel or a mean over the wrong axis would each record other numbers.
  std::vector<StackType::Pointer> inputs{ Patches(), Patches() };
  inputs[1]->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, 4 } }));
  inputs[1]->Allocate();
  double sum[3] = { 0.0, 0.0, 0.0 };
  double pixels = 0.0;
  for (const auto & input : inputs)
  {
    itk::ImageRegionIteratorWithIndex<StackType> it(input, input->GetBufferedRegion());
    for (; !it.IsAtEnd(); ++it)
    {
      const auto                   index = it.GetIndex();
      const auto                   red = static_cast<unsigned char>(7 * index[0] + 3 * index[2]);
      const auto                   green = static_cast<unsigned char>(200 - 5 * index[1]);
      const auto                   blue = static_cast<unsigned char>(input == inputs[1] ? 250 : 40);
      itk::RGBPixel<unsigned char> pixel;
      pixel.Set(red, green, blue);
      it.Set(pixel);
      sum[0] += red;
      sum[1] += green;
      sum[2] += blue;
      pixels += 1.0;
    }
  }
  auto filter = TinyFilter(folder, inputs[0]);
  filter->AddPatches(inputs[1]);
  filter->SetNumberOfSteps(1);
  filter->Update();
  const auto recorded = filter->GetOutput()->GetPatchColourMean();
  ASSERT_EQ(recorded.size(), 3u);
  for (unsigned int c = 0; c < 3; ++c)
  {
    EXPECT_NEAR(recorded[c], sum[c] / pixels, 0.005) << "channel " << c; // stored to two decimals
  }
  EXPECT_EQ(filter->GetOutput()->GetPixelSize(), 4.0);
  std::ostringstream printed;
  filter->GetOutput()->Print(printed);
  EXPECT_NE(printed.str().find("PixelSize: 4\n"), std::string::npos) << printed.str();
  EXPECT_EQ(printed.str().find("PatchColourMean: (not stated)"), std::string::npos) << printed.str();
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, WritesSnapshotsOfTheModelAlongTheRun)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-snapshots");
  EXPECT_EQ(FilterType::SnapshotFileName("runs/central.safetensors", 500), "runs/central-step-500.safetensors");
  const auto patches = Patches();
  // A constant learning rate: the run's first two steps are then those of a two-step run.
  const auto constantRun = [&](unsigned int steps, const std::string & output) {
    auto filter = TinyFilter(folder, patches);
    filter->SetNumberOfSteps(steps);
    filter->SetSchedule("constant");
    filter->SetWarmupFraction(0.0);
    filter->SetOutputFileName((folder / output).string());
    return filter;
  };
  auto run = constantRun(4, "central.safetensors");
  run->SetSnapshotInterval(2);
  run->Update();
  std::ostringstream printed;
  run->Print(printed);
  EXPECT_NE(printed.str().find("SnapshotInterval: 2"), std::string::npos);
  for (const unsigned int step : { 1u, 3u })
  {
    EXPECT_FALSE(std::filesystem::exists(folder / ("central-step-" + std::to_string(step) + ".safetensors")));
  }
  const auto tensorsOf = [&](const std::string & name) {
    return itk::torchcore::ReadSafeTensors((folder / name).string());
  };
  const auto expectSameWeights = [](const itk::torchcore::SafeTensors & a, const itk::torchcore::SafeTensors & b) {
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto & [name, value] : a.tensors)
    {
      ASSERT_TRUE(b.Find(name).defined()) << name;
      EXPECT_TRUE(torch::equal(b.Find(name), value)) << name;
    }
  };
  const auto second = tensorsOf("central-step-2.safetensors");
  const auto fourth = tensorsOf("central-step-4.safetensors");
  EXPECT_EQ(second.metadata.at("steps"), "2");
  EXPECT_EQ(fourth.metadata.at("steps"), "4");
  EXPECT_EQ(second.metadata.at("patch_rgb_mean"), fourth.metadata.at("patch_rgb_mean"));
  expectSameWeights(fourth, tensorsOf("central.safetensors")); // the last snapshot is the output
  constantRun(2, "two.safetensors")->Update();
  expectSameWeights(second, tensorsOf("two.safetensors")); // the model as it stood at step 2
  // The snapshots differ: the comparison above can fail.
  double largest = 0.0;
  for (const auto & [name, value] : second.tensors)
  {
    largest = std::max(largest, (fourth.Find(name) - value).abs().max().item<double>());
  }
  EXPECT_GT(largest, 0.0);
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, ContinuesTrainingAnInitialModel)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-initial");
  const auto patches = Patches();
  auto       first = TinyFilter(folder, patches);
  first->Update();
  const itk::DiffusionModel::Pointer initial = first->GetOutput();
  const std::string                  initialFile = (folder / "central.safetensors").string();
  const auto                         initialWeights = itk::torchcore::ReadSafeTensors(initialFile);

  // A step too small to move a weight: the output holds the initial model's weights (the EMA's first
  // update copies them) and its architecture, whatever the architecture settings say.
  auto still = TinyFilter(folder, patches);
  still->SetInitialModel(initial);
  still->SetBaseChannels(16);
  still->SetNumberOfScales(3);
  still->SetLayersPerBlock(2);
  still->SetNumberOfSteps(1);
  still->SetLearningRate(1e-12);
  still->SetWeightDecay(0.0);
  still->SetOutputFileName((folder / "still.safetensors").string());
  // The filter leaves the application's random stream (LibTorch's global generator) as it was.
  const auto globalBefore = at::detail::getDefaultCPUGenerator().get_state();
  still->Update();
  EXPECT_TRUE(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), globalBefore));
  EXPECT_EQ(still->GetOutput()->GetUNetConfiguration(), initial->GetUNetConfiguration());
  EXPECT_EQ(still->GetOutput()->GetSchedulerConfiguration(), initial->GetSchedulerConfiguration());
  const auto stillWeights = itk::torchcore::ReadSafeTensors((folder / "still.safetensors").string());
  ASSERT_EQ(stillWeights.tensors.size(), initialWeights.tensors.size());
  for (const auto & [name, value] : initialWeights.tensors)
  {
    const auto stored = stillWeights.Find(name);
    ASSERT_TRUE(stored.defined()) << name;
    EXPECT_TRUE(torch::allclose(stored, value, 0.0, 1e-6)) << name;
  }
  const auto metadata = itk::torchcore::ReadSafeTensorsMetadata((folder / "still.safetensors").string());
  EXPECT_EQ(metadata.at("initial_model"), "central.safetensors");
  EXPECT_EQ(metadata.at("initial_model_sha256"), itk::diffusion::SHA256OfModel(initialFile));
  std::ostringstream printed;
  still->Print(printed);
  EXPECT_NE(printed.str().find("InitialModel: " + initialFile), std::string::npos) << printed.str();

  // Real steps move the weights away from the initial model's and leave the initial model as it was.
  itk::DiffusionModel::SampleRequest request;
  request.NumberOfSamples = 1;
  request.NumberOfSteps = 2;
  request.NumberOfThreads = 1;
  const auto before = initial->Sample(request, {});
  auto       trained = TinyFilter(folder, patches);
  trained->SetInitialModel(initial);
  trained->SetLearningRate(1e-2);
  trained->SetOutputFileName((folder / "trained.safetensors").string());
  trained->Update();
  const auto trainedWeights = itk::torchcore::ReadSafeTensors((folder / "trained.safetensors").string());
  double     largestChange = 0.0;
  for (const auto & [name, value] : initialWeights.tensors)
  {
    largestChange = std::max(largestChange, (trainedWeights.Find(name) - value).abs().max().item<double>());
  }
  EXPECT_GT(largestChange, 1e-3);
  EXPECT_EQ(initial->Sample(request, {}), before);
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, RefusesAnInitialModelItCannotContinue)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-initial-refusals");
  auto       first = TinyFilter(folder, Patches());
  first->Update();
  const itk::DiffusionModel::Pointer initial = first->GetOutput();
  const auto                         refuses = [&](const StackType *           patches,
                           const itk::DiffusionModel * model,
                           const std::string &         prediction,
                           const std::string &         expected) {
    auto filter = TinyFilter(folder, patches);
    filter->SetImageSize(0); // the patches' size
    filter->SetInitialModel(model);
    filter->SetPredictionType(prediction);
    filter->SetOutputFileName((folder / "refused.safetensors").string());
    try
    {
      filter->Update();
      ADD_FAILURE() << "accepted; expected a refusal naming \"" << expected << "\"";
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(expected), std::string::npos) << e.GetDescription();
    }
    EXPECT_FALSE(std::filesystem::exists(folder / "refused.safetensors"));
  };
  refuses(Patches(), itk::DiffusionModel::New(), "epsilon", "holds no model");
  refuses(Patches(32), initial, "epsilon", "draws 16-pixel patches");
  refuses(Patches(16, 2.0), initial, "epsilon", "trained at 4");
  refuses(Patches(), initial, "v_prediction", "predicts epsilon");
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, PrintsEverySettingAndAborts)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-print");
  auto       filter = TinyFilter(folder, Patches());
  filter->SetLossLogFileName("curve.tsv");
  filter->HalfPrecisionOutputOn();
  std::ostringstream printed;
  filter->Print(printed);
  for (const char * setting : { "OutputFileName",
                                "CheckpointFileName",
                                "LossLogFileName: curve.tsv",
                                "HalfPrecisionOutput: 1",
                                "CheckpointInterval",
                                "Resume",
                                "ImageSize: 16",
                                "BaseChannels: 8",
                                "NumberOfScales: 2",
                                "LayersPerBlock: 1",
                                "PredictionType",
                                "NumberOfSteps: 3",
                                "BatchSize: 4",
                                "LearningRate",
                                "WarmupFraction",
                                "EmaDecay",
                                "SnrGamma",
                                "Seed: 2",
                                "Device: cpu",
                                "DataParallel:",
                                "WorldSize: 1",
                                "MasterPort: 29500",
                                "TimeoutSeconds: 120" })
  {
    EXPECT_NE(printed.str().find(setting), std::string::npos) << setting << "\n" << printed.str();
  }
  auto abort = itk::CStyleCommand::New();
  abort->SetCallback([](itk::Object * caller, const itk::EventObject &, void *) {
    static_cast<itk::ProcessObject *>(caller)->AbortGenerateDataOn();
  });
  filter->AddObserver(itk::ProgressEvent(), abort);
  EXPECT_THROW(filter->Update(), itk::ProcessAborted);
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, PreconditionsThrow)
{
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-preconditions");
  const auto patches = Patches();
  EXPECT_THROW(FilterType::New()->Update(), itk::ExceptionObject); // no patches
  auto filter = TinyFilter(folder, patches);
  filter->SetOutputFileName("");
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  filter = TinyFilter(folder, patches);
  filter->SetImageSize(32);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject); // patches of another size
  filter = TinyFilter(folder, patches);
  filter->SetBaseChannels(12);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject); // not a multiple of 8
  filter = TinyFilter(folder, patches);
  filter->SetPredictionType("sample_noise");
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  filter = TinyFilter(folder, patches);
  filter->ResumeOn();
  filter->SetCheckpointFileName((folder / "absent.checkpoint").string());
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  filter = TinyFilter(folder, patches);
  filter->SetLossLogFileName((folder / "no-such-folder" / "loss.tsv").string());
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  filter = TinyFilter(folder, patches);
  itk::DataParallelSettings outsideTheRun;
  outsideTheRun.Rank = 2;
  outsideTheRun.WorldSize = 2;
  filter->SetDataParallel(outsideTheRun);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  std::filesystem::remove_all(folder);
}

TEST(DiffusionPretrainFilter, DataParallelRanksTrainTheModelOfOneProcessAndOnlyRankZeroWrites)
{
  // One process with batch 4 against two ranks (threads of this process, each with batch 2 of the
  // same global batch 4): after 20 steps the weights, their EMA and AdamW's moments agree to 1e-5.
  const auto folder = itk::DiffusionTest::ScratchFolder("pretrain-filter-data-parallel");
  const auto patches = Patches();
  const auto configure = [&](const std::string & name) {
    auto filter = TinyFilter(folder, patches);
    filter->SetNumberOfSteps(20);
    filter->SetCheckpointFileName((folder / (name + ".checkpoint")).string());
    filter->SetCheckpointInterval(10);
    filter->SetOutputFileName((folder / (name + ".safetensors")).string());
    filter->SetLossLogFileName((folder / (name + ".tsv")).string());
    return filter;
  };
  auto single = configure("single");
  single->Update();

  const unsigned int               port = itk::testing::FreePort();
  std::vector<FilterType::Pointer> ranks{ configure("rank0"), configure("rank1") };
  std::vector<std::string>         errors(2);
  std::vector<std::thread>         threads;
  for (unsigned int rank = 0; rank < 2; ++rank)
  {
    itk::DataParallelSettings settings;
    settings.Rank = rank;
    settings.WorldSize = 2;
    settings.MasterPort = port;
    settings.TimeoutSeconds = 60.0;
    ranks[rank]->SetDataParallel(settings);
    threads.emplace_back([&, rank] {
      try
      {
        ranks[rank]->Update();
      }
      catch (const itk::ExceptionObject & e)
      {
        errors[rank] = e.GetDescription();
      }
    });
  }
  for (auto & thread : threads)
  {
    thread.join();
  }
  ASSERT_EQ(errors, std::vector<std::string>(2)) << errors[0] << "\n" << errors[1];
  for (const char * written : { "rank0.safetensors", "rank0.checkpoint", "rank0.tsv" })
  {
    EXPECT_TRUE(std::filesystem::exists(folder / written)) << written;
  }
  for (const char * notWritten : { "rank1.safetensors", "rank1.checkpoint", "rank1.tsv" })
  {
    EXPECT_FALSE(std::filesystem::exists(folder / notWritten)) << notWritten << ": only rank 0 writes";
  }
  EXPECT_EQ(ranks[1]->GetStepsTrained(), 20u);
  EXPECT_NEAR(ranks[1]->GetFinalLoss(), ranks[0]->GetFinalLoss(), 1e-12) << "every rank reports the global loss";
  EXPECT_NEAR(ranks[0]->GetFinalLoss(), single->GetFinalLoss(), 1e-5);

  const auto one = itk::torchcore::ReadSafeTensors((folder / "single.checkpoint").string());
  const auto two = itk::torchcore::ReadSafeTensors((folder / "rank0.checkpoint").string());
  ASSERT_EQ(one.tensors.size(), two.tensors.size());
  EXPECT_EQ(one.metadata.at("step"), "20");
  EXPECT_EQ(two.metadata.at("step"), "20");
  std::map<std::string, double> largest; // per kind of state: model., ema., adam.
  for (const auto & [name, tensor] : one.tensors)
  {
    const auto other = two.Find(name);
    ASSERT_TRUE(other.defined()) << name;
    if (name == "rng.state")
    {
      EXPECT_TRUE(torch::equal(tensor, other)) << "both runs drew the same random numbers";
      continue;
    }
    const auto kind = name.substr(0, name.find('.'));
    largest[kind] = std::max(largest[kind], (tensor - other).abs().max().item<double>());
  }
  EXPECT_EQ(largest.size(), 3u);
  for (const auto & [kind, difference] : largest)
  {
    std::cout << kind << ": largest difference " << difference << std::endl;
    EXPECT_LE(difference, 1e-5) << kind;
  }
  // Rank 1's output is rank 0's model, without a file: they sample the same images.
  itk::DiffusionModel::SampleRequest request;
  request.NumberOfSteps = 2;
  request.Seed = 4;
  const auto noProgress = [](std::int64_t, std::int64_t) {};
  EXPECT_EQ(ranks[1]->GetOutput()->Sample(request, noProgress), ranks[0]->GetOutput()->Sample(request, noProgress));
  std::filesystem::remove_all(folder);
}
