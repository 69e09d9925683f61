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

// DiffusionSampleFilter: its patches are the engine's samples in ITK's axis order, the same seed
// gives the same stack, progress and abort, the model cache, and every precondition.

#include "itkDiffusionSampleFilter.h"

#include "itkDiffusionModelFile.h"
#include "itkDiffusionSampler.h"
#include "itkDiffusionTestUtilities.h"

#include "itkCommand.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

#include <cstdlib>
#include <fstream>

#include <sys/stat.h>

namespace
{
using FilterType = itk::DiffusionSampleFilter<>;
using ImageType = FilterType::OutputImageType;

/** A tiny untrained model file (16x16 RGB), written once per test process. */
class DiffusionSampleFilterModel : public ::testing::Test
{
protected:
  static void
  SetUpTestSuite()
  {
    torch::set_num_threads(1);
    s_Folder = itk::DiffusionTest::ScratchFolder("sample-filter").string();
    torch::manual_seed(4);
    itk::diffusion::UNet2D unet(itk::DiffusionTest::TinyConfig());
    itk::diffusion::SaveDiffusionModel(
      s_Folder + "/tiny.safetensors", unet, itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}));
  }
  static void
  TearDownTestSuite()
  {
    std::filesystem::remove_all(s_Folder);
  }

  static FilterType::Pointer
  MakeFilter()
  {
    auto filter = FilterType::New();
    filter->SetModelFileName(s_Folder + "/tiny.safetensors");
    filter->SetNumberOfSamples(3);
    filter->SetBatchSize(2);
    filter->SetNumberOfSteps(4);
    filter->SetSeed(21);
    filter->SetNumberOfTorchThreads(1);
    return filter;
  }

  static std::string s_Folder;
};
std::string DiffusionSampleFilterModel::s_Folder;

/** Counts progress events and aborts the filter at the given one (0 = never). */
class ProgressCounter : public itk::Command
{
public:
  using Self = ProgressCounter;
  using Superclass = itk::Command;
  using Pointer = itk::SmartPointer<Self>;
  itkNewMacro(ProgressCounter);
  void
  Execute(itk::Object * caller, const itk::EventObject & event) override
  {
    Execute(static_cast<const itk::Object *>(caller), event);
    if (abortAt > 0 && count == abortAt)
    {
      static_cast<itk::ProcessObject *>(caller)->AbortGenerateDataOn();
    }
  }
  void
  Execute(const itk::Object *, const itk::EventObject & event) override
  {
    if (itk::ProgressEvent().CheckEvent(&event))
    {
      ++count;
    }
  }
  int count = 0;
  int abortAt = 0;
};
} // namespace

TEST_F(DiffusionSampleFilterModel, PatchesAreTheEngineSamplesInItkAxisOrder)
{
  auto filter = MakeFilter();
  filter->Update();
  const ImageType * output = filter->GetOutput();
  const auto        size = output->GetLargestPossibleRegion().GetSize();
  EXPECT_EQ(size[0], 16u);
  EXPECT_EQ(size[1], 16u);
  EXPECT_EQ(size[2], 3u);

  auto                           model = itk::diffusion::LoadDiffusionModel(s_Folder + "/tiny.safetensors");
  itk::diffusion::SamplerOptions options;
  options.steps = 4;
  options.seed = 21;
  options.batchSize = 3;
  const auto samples = itk::diffusion::DiffusionSampler(model.unet, model.schedule).Sample(3, options);
  int        mismatches = 0;
  for (std::int64_t k = 0; k < 3; ++k)
  {
    for (std::int64_t y = 0; y < 16; ++y)
    {
      for (std::int64_t x = 0; x < 16; ++x)
      {
        const auto pixel = output->GetPixel({ { x, y, k } });
        for (int c = 0; c < 3; ++c)
        {
          const double expected = std::round((samples[k][c][y][x].item<double>() + 1.0) * 127.5);
          // Batch sizes differ (2 against 3): rounding may differ by one level.
          mismatches += std::abs(std::min(255.0, std::max(0.0, expected)) - pixel[c]) > 1.0;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  // The image is not symmetric, so a transposed copy would not have passed.
  EXPECT_GT((samples[0] - samples[0].transpose(1, 2)).abs().max().item<double>(), 0.05);
}

TEST_F(DiffusionSampleFilterModel, SamplerByNameReachesTheEngine)
{
  // The filter's Sampler picks the engine's solver: each multistep solver's stack is its samples,
  // which differ from DDIM's.
  auto       model = itk::diffusion::LoadDiffusionModel(s_Folder + "/tiny.safetensors");
  const auto engineSamples = [&](const std::string & method) {
    itk::diffusion::SamplerOptions options;
    options.method = method;
    options.steps = 4;
    options.seed = 21;
    options.batchSize = 3;
    return ((itk::diffusion::DiffusionSampler(model.unet, model.schedule).Sample(3, options) + 1.0) * 127.5)
      .round()
      .clamp(0.0, 255.0);
  };
  const auto ddim = engineSamples("ddim");
  for (const std::string method : { "dpmsolver++", "unipc" })
  {
    auto filter = MakeFilter();
    filter->SetSampler(method);
    filter->SetBatchSize(3);
    filter->Update();
    const auto expected = engineSamples(method);
    // The ITK stack as [sample, channel, row, column].
    const auto stack = torch::from_blob(filter->GetOutput()->GetBufferPointer(), { 3, 16, 16, 3 }, torch::kUInt8)
                         .permute({ 0, 3, 1, 2 })
                         .to(torch::kFloat64);
    EXPECT_LE((stack - expected).abs().max().item<double>(), 1.0) << method;
    EXPECT_GT((stack - ddim).abs().max().item<double>(), 2.0) << method;
  }
}

TEST_F(DiffusionSampleFilterModel, SameSeedSameStack)
{
  auto first = MakeFilter();
  first->Update();
  auto second = MakeFilter();
  second->SetBatchSize(3);
  second->Update();
  auto other = MakeFilter();
  other->SetSeed(22);
  other->Update();
  const auto   count = first->GetOutput()->GetBufferedRegion().GetNumberOfPixels();
  const auto * a = first->GetOutput()->GetBufferPointer();
  const auto * b = second->GetOutput()->GetBufferPointer();
  const auto * c = other->GetOutput()->GetBufferPointer();
  int          differentFromSame = 0;
  int          differentFromOther = 0;
  for (itk::SizeValueType i = 0; i < count; ++i)
  {
    for (int k = 0; k < 3; ++k)
    {
      differentFromSame += std::abs(int(a[i][k]) - int(b[i][k])) > 1;
      differentFromOther += a[i][k] != c[i][k];
    }
  }
  EXPECT_EQ(differentFromSame, 0);
  EXPECT_GT(differentFromOther, static_cast<int>(count));
}

TEST_F(DiffusionSampleFilterModel, ReportsProgressAndAborts)
{
  auto filter = MakeFilter();
  auto counter = ProgressCounter::New();
  filter->AddObserver(itk::ProgressEvent(), counter);
  filter->Update();
  // Two batches of four steps, plus the start and end reports.
  EXPECT_GE(counter->count, 8);

  auto aborted = MakeFilter();
  auto stopper = ProgressCounter::New();
  stopper->abortAt = 3;
  aborted->AddObserver(itk::ProgressEvent(), stopper);
  EXPECT_THROW(aborted->Update(), itk::ProcessAborted);
  EXPECT_LT(stopper->count, 8);
}

TEST_F(DiffusionSampleFilterModel, UsesAGivenModel)
{
  auto model = itk::DiffusionModel::New();
  EXPECT_FALSE(model->IsLoaded());
  model->Load(s_Folder + "/tiny.safetensors");
  EXPECT_EQ(model->GetImageSize(), 16u);
  EXPECT_EQ(model->GetNumberOfChannels(), 3u);
  EXPECT_EQ(model->GetNumberOfTrainTimesteps(), 1000u);
  auto filter = MakeFilter();
  filter->SetModelFileName("");
  filter->SetModel(model);
  filter->Update();
  auto byName = MakeFilter();
  byName->Update();
  EXPECT_EQ(
    std::memcmp(filter->GetOutput()->GetBufferPointer(), byName->GetOutput()->GetBufferPointer(), 3 * 16 * 16 * 3), 0);
  model->Save(s_Folder + "/resaved.safetensors");
  EXPECT_NO_THROW(itk::DiffusionModel::New()->Load(s_Folder + "/resaved.safetensors"));
}

TEST_F(DiffusionSampleFilterModel, RefusesBadSettingsAndFiles)
{
  const auto expectRefused = [](FilterType * filter, const std::string & words) {
    try
    {
      filter->Update();
      ADD_FAILURE() << "no exception; expected one mentioning " << words;
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(words), std::string::npos) << e.GetDescription();
    }
  };
  auto filter = FilterType::New();
  expectRefused(filter, "No model");
  filter = MakeFilter();
  filter->SetModelFileName(s_Folder + "/absent.safetensors");
  expectRefused(filter, "cannot be read");
  filter = MakeFilter();
  filter->SetNumberOfSamples(0);
  expectRefused(filter, "must be positive");
  filter = MakeFilter();
  filter->SetBatchSize(0);
  expectRefused(filter, "must be positive");
  filter = MakeFilter();
  filter->SetNumberOfSteps(0);
  expectRefused(filter, "must be positive");
  filter = MakeFilter();
  filter->SetNumberOfSteps(5000);
  expectRefused(filter, "steps must be in [1, 1000]");
  filter = MakeFilter();
  filter->SetGuidanceScale(3.0);
  expectRefused(filter, "needs a conditioning");
  filter = MakeFilter();
  filter->SetDevice("tpu");
  expectRefused(filter, "Unknown device");
  filter = MakeFilter();
  filter->SetSampler("euler");
  expectRefused(filter, "Unknown sampler");
  if (!torch::cuda::is_available())
  {
    filter = MakeFilter();
    filter->SetDevice("cuda:0");
    expectRefused(filter, "CUDA is not available");
  }
  auto empty = itk::DiffusionModel::New();
  filter = MakeFilter();
  filter->SetModel(empty);
  expectRefused(filter, "empty");

  // A truncated model file and a one-channel model.
  std::ifstream in(s_Folder + "/tiny.safetensors", std::ios::binary);
  std::string   bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(s_Folder + "/truncated.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  filter = MakeFilter();
  filter->SetModelFileName(s_Folder + "/truncated.safetensors");
  expectRefused(filter, "truncated");
  auto gray = itk::DiffusionTest::TinyConfig();
  gray.inChannels = 1;
  gray.outChannels = 1;
  itk::diffusion::SaveDiffusionModel(s_Folder + "/gray.safetensors",
                                     itk::diffusion::UNet2D(gray),
                                     itk::diffusion::NoiseSchedule(itk::diffusion::SchedulerConfig{}));
  filter = MakeFilter();
  filter->SetModelFileName(s_Folder + "/gray.safetensors");
  expectRefused(filter, "needs 3");
  EXPECT_THROW(itk::DiffusionModel::New()->Save(s_Folder + "/nothing.safetensors"), itk::ExceptionObject);
}

namespace
{
/** The diffusers-shaped folders of unet_reference.py (as diffusers v0.21 writes them), once per process. */
class DiffusersFolderModel : public ::testing::Test
{
protected:
  static void
  SetUpTestSuite()
  {
    torch::set_num_threads(1);
    s_Folder = itk::DiffusionTest::ScratchFolder("sample-filter-diffusers").string();
    const std::string command =
      std::string(DIFFUSION_PYTHON) + " " + DIFFUSION_REFERENCE_SCRIPT + " " + s_Folder + " > /dev/null";
    s_Status = std::system(command.c_str());
  }
  static void
  TearDownTestSuite()
  {
    std::filesystem::remove_all(s_Folder);
  }
  void
  SetUp() override
  {
    ASSERT_EQ(s_Status, 0) << "the fixture script failed: is python3-torch installed?";
  }

  /** Three samples of the model at \p path, DDIM with 4 steps, seed 5. */
  static std::vector<unsigned char>
  Samples(const std::string & path)
  {
    auto filter = FilterType::New();
    filter->SetModelFileName(path);
    filter->SetNumberOfSamples(3);
    filter->SetBatchSize(2);
    filter->SetNumberOfSteps(4);
    filter->SetSeed(5);
    filter->SetNumberOfTorchThreads(1);
    filter->Update();
    const auto * begin = reinterpret_cast<const unsigned char *>(filter->GetOutput()->GetBufferPointer());
    return { begin, begin + filter->GetOutput()->GetBufferedRegion().GetNumberOfPixels() * 3 };
  }

  static std::string s_Folder;
  static int         s_Status;
};
std::string DiffusersFolderModel::s_Folder;
int         DiffusersFolderModel::s_Status = -1;
} // namespace

TEST_F(DiffusersFolderModel, DiffusionModelLoadsModelAndPipelineFolders)
{
  // The public entry point that once read a folder as a local model file.
  auto model = itk::DiffusionModel::New();
  ASSERT_NO_THROW(model->Load(s_Folder + "/default_model"));
  EXPECT_FALSE(model->IsConditional());
  EXPECT_EQ(model->GetImageSize(), 16u);
  EXPECT_EQ(model->GetNumberOfTrainTimesteps(), 1000u);
  auto pipeline = itk::DiffusionModel::New();
  ASSERT_NO_THROW(pipeline->Load(s_Folder + "/scale_shift_pipeline/"));
  EXPECT_EQ(pipeline->GetImageSize(), 32u);
  EXPECT_EQ(pipeline->GetNumberOfTrainTimesteps(), 500u);
}

TEST_F(DiffusersFolderModel, SampleFilterTakesAFolderAsItsModelFile)
{
  // The model folder holds the weights of default.safetensors without a scheduler: both sample alike.
  const auto fromFolder = Samples(s_Folder + "/default_model");
  EXPECT_EQ(fromFolder, Samples(s_Folder + "/default.safetensors"));
  EXPECT_EQ(Samples(s_Folder + "/default_pipeline").size(), 3u * 16 * 16 * 3);
}

TEST_F(DiffusersFolderModel, PathsThatAreNeitherModelFilesNorModelFoldersAreRefused)
{
  const auto expectRefused = [](const std::string & path, const std::string & words) {
    try
    {
      itk::DiffusionModel::New()->Load(path);
      ADD_FAILURE() << "loaded " << path;
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(words), std::string::npos) << e.GetDescription();
    }
    auto filter = FilterType::New();
    filter->SetModelFileName(path);
    EXPECT_THROW(filter->Update(), itk::ExceptionObject) << path;
  };
  const auto empty = s_Folder + "/empty";
  std::filesystem::create_directories(empty);
  expectRefused(empty, "neither a diffusers model folder");
  const auto fifo = s_Folder + "/pipe.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expectRefused(fifo, "is a FIFO");
  expectRefused("/dev/null", "is a device");
  // A folder whose config.json is a folder.
  const auto odd = s_Folder + "/odd";
  std::filesystem::create_directories(odd + "/config.json");
  std::filesystem::copy_file(s_Folder + "/default_model/diffusion_pytorch_model.safetensors",
                             odd + "/diffusion_pytorch_model.safetensors");
  expectRefused(odd, "is a directory");
}
