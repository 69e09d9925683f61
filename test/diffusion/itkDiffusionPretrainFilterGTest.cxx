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
#include "itkSafeTensors.h"

#include "itkCommand.h"
#include "itkImageRegionIterator.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <fstream>
#include <sstream>

namespace
{
using FilterType = itk::DiffusionPretrainFilter;
using StackType = FilterType::PatchStackType;

/** 12 patches 16 x 16 of a two-colour texture. */
StackType::Pointer
Patches()
{
  auto stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { 16, 16, 12 } }));
  stack->Allocate();
  const double spacing[3] = { 4.0, 4.0, 1.0 }; // 4 um per pixel: 64 um patches
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
                                "Device: cpu" })
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
  std::filesystem::remove_all(folder);
}
