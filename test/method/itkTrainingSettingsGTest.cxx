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

// The settings of the three training steps: one type each, whose defaults every user of the step
// shares (filter, step settings, pipeline settings), whose check names the setting at fault, and
// whose JSON carries every field.

#include "itkDiffusionPretrainFilter.h"
#include "itkGeneConditionedAdaptFilter.h"
#include "itkGeneRegressorTrainFilter.h"
#include "itkMethodStepSettings.h"
#include "itkPipelineSettings.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

namespace
{
/** Every change must show in the JSON (so operator==, which compares it, sees every field), and the
 * JSON has one key per change listed, i.e. per field. */
template <typename TSettings>
void
ExpectEveryFieldInTheJSON(const std::vector<std::function<void(TSettings &)>> & changes)
{
  const TSettings defaults;
  EXPECT_EQ(nlohmann::json::parse(defaults.ToJSON()).size(), changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i)
  {
    TSettings changed = defaults;
    changes[i](changed);
    EXPECT_NE(changed.ToJSON(), defaults.ToJSON()) << "change " << i;
    EXPECT_TRUE(changed != defaults) << "change " << i;
  }
}

/** Each bad value is refused with a message that names what is wrong. */
template <typename TSettings>
void
ExpectRefused(const std::vector<std::pair<std::function<void(TSettings &)>, std::string>> & cases)
{
  EXPECT_EQ(TSettings().Problem(), "");
  for (const auto & [change, named] : cases)
  {
    TSettings bad;
    change(bad);
    EXPECT_NE(bad.Problem().find(named), std::string::npos) << "expected \"" << named << "\" in: " << bad.Problem();
  }
}
} // namespace

TEST(TrainingSettings, DefaultsAreThePapersAndSharedByEveryUser)
{
  // The paper's regressor: ResNet-50, 1,000 AdamW steps of 32 at 1e-4, 5 % warm-up, cosine, MAE.
  const itk::RegressorTrainingSettings regressor;
  EXPECT_EQ(regressor.Depth, 50u);
  EXPECT_EQ(regressor.NumberOfSteps, 1000u);
  EXPECT_EQ(regressor.BatchSize, 32u);
  EXPECT_EQ(regressor.LearningRate, 1e-4);
  EXPECT_EQ(regressor.WarmupFraction, 0.05);
  EXPECT_EQ(regressor.Schedule, "cosine");
  EXPECT_EQ(regressor.Loss, "mae");
  // The paper's adaptation: 10,000 steps of 32 with 8-fold accumulation, 3 % warm-up, dropout 0.1.
  const itk::AdaptationSettings adaptation;
  EXPECT_EQ(adaptation.NumberOfSteps, 10000u);
  EXPECT_EQ(adaptation.BatchSize, 32u);
  EXPECT_EQ(adaptation.GradientAccumulation, 8u);
  EXPECT_EQ(adaptation.WarmupFraction, 0.03);
  EXPECT_EQ(adaptation.ConditionDropout, 0.1);
  EXPECT_EQ(adaptation.EmaDecay, 0.999);
  EXPECT_EQ(adaptation.MaximumColourDifference, 0.0); // not the paper's: this module's check, off by default
  const itk::PretrainingSettings pretraining;
  EXPECT_EQ(pretraining.ImageSize, 0u); // the patches' size
  EXPECT_EQ(pretraining.LearningRate, 1e-4);
  EXPECT_EQ(pretraining.WarmupFraction, 0.03);

  EXPECT_EQ(itk::GeneRegressorTrainFilter::New()->GetTrainingSettings(), regressor);
  EXPECT_EQ(itk::RegressorTrainingStepSettings().Training, regressor);
  EXPECT_EQ(itk::PipelineSettings().Regressor.Training, regressor);
  EXPECT_EQ(itk::GeneConditionedAdaptFilter::New()->GetTrainingSettings(), adaptation);
  EXPECT_EQ(itk::AdaptationStepSettings().Training, adaptation);
  EXPECT_EQ(itk::PipelineSettings().Adaptation.Training, adaptation);
  EXPECT_EQ(itk::DiffusionPretrainFilter::New()->GetTrainingSettings(), pretraining);
  EXPECT_EQ(itk::PretrainingStepSettings().Training, pretraining);
  // The pipeline pretrains as c2l pretrain does: by the CPU recipe (below).
  EXPECT_EQ(itk::PipelineSettings().Pretraining.Training, itk::PretrainingSettings::CPURecipe());

  // The named recipes: the paper's is the defaults; the CPU's changes the U-Net's size, the
  // prediction type and the optimisation's length, batch and rate only (c2l pretrain starts from it).
  EXPECT_EQ(itk::PretrainingSettings::PaperRecipe(), pretraining);
  auto cpu = itk::PretrainingSettings::CPURecipe();
  EXPECT_EQ(cpu.Problem(), "");
  EXPECT_EQ(cpu.BaseChannels, 32u);
  EXPECT_EQ(cpu.NumberOfScales, 3u);
  EXPECT_EQ(cpu.LayersPerBlock, 1u);
  EXPECT_EQ(cpu.PredictionType, "v_prediction");
  EXPECT_EQ(cpu.NumberOfSteps, 2500u);
  EXPECT_EQ(cpu.BatchSize, 32u);
  EXPECT_EQ(cpu.LearningRate, 5e-4);
  EXPECT_EQ(cpu.WarmupFraction, 0.02);
  cpu.BaseChannels = pretraining.BaseChannels;
  cpu.NumberOfScales = pretraining.NumberOfScales;
  cpu.LayersPerBlock = pretraining.LayersPerBlock;
  cpu.PredictionType = pretraining.PredictionType;
  cpu.NumberOfSteps = pretraining.NumberOfSteps;
  cpu.BatchSize = pretraining.BatchSize;
  cpu.LearningRate = pretraining.LearningRate;
  cpu.WarmupFraction = pretraining.WarmupFraction;
  EXPECT_EQ(cpu, pretraining);
}

TEST(TrainingSettings, JSONCarriesEveryField)
{
  ExpectEveryFieldInTheJSON<itk::RegressorTrainingSettings>({ [](auto & s) { s.Depth = 18; },
                                                              [](auto & s) { s.BackboneFileName = "b"; },
                                                              [](auto & s) { s.NumberOfSteps = 2; },
                                                              [](auto & s) { s.BatchSize = 2; },
                                                              [](auto & s) { s.LearningRate = 2e-4; },
                                                              [](auto & s) { s.WeightDecay = 0.0; },
                                                              [](auto & s) { s.WarmupFraction = 0.0; },
                                                              [](auto & s) { s.Schedule = "constant"; },
                                                              [](auto & s) { s.Loss = "mse"; },
                                                              [](auto & s) { s.SyntheticFraction = 0.5; },
                                                              [](auto & s) { s.Augment = false; },
                                                              [](auto & s) { s.Seed = 1; },
                                                              [](auto & s) { s.CheckpointFileName = "c"; },
                                                              [](auto & s) { s.CheckpointInterval = 1; },
                                                              [](auto & s) { s.Resume = true; },
                                                              [](auto & s) { s.Device = "cuda"; } });
  ExpectEveryFieldInTheJSON<itk::AdaptationSettings>({ [](auto & s) { s.NumberOfSteps = 2; },
                                                       [](auto & s) { s.BatchSize = 2; },
                                                       [](auto & s) { s.GradientAccumulation = 2; },
                                                       [](auto & s) { s.LearningRate = 2e-4; },
                                                       [](auto & s) { s.WeightDecay = 0.0; },
                                                       [](auto & s) { s.WarmupFraction = 0.0; },
                                                       [](auto & s) { s.Schedule = "cosine"; },
                                                       [](auto & s) { s.SnrGamma = 0.0; },
                                                       [](auto & s) { s.GradientClip = 0.0; },
                                                       [](auto & s) { s.EmaDecay = 0.9; },
                                                       [](auto & s) { s.ConditionDropout = 0.2; },
                                                       [](auto & s) { s.GeneDropout = 0.2; },
                                                       [](auto & s) { s.Augment = false; },
                                                       [](auto & s) { s.MaximumColourDifference = 20.0; },
                                                       [](auto & s) { s.EmbeddingSize = 8; },
                                                       [](auto & s) { s.Blocks = { "mid_block.resnets.0" }; },
                                                       [](auto & s) { s.Seed = 1; },
                                                       [](auto & s) { s.CheckpointFileName = "c"; },
                                                       [](auto & s) { s.CheckpointInterval = 1; },
                                                       [](auto & s) { s.Resume = true; },
                                                       [](auto & s) { s.Device = "cuda:1"; } });
  ExpectEveryFieldInTheJSON<itk::PretrainingSettings>({ [](auto & s) { s.ImageSize = 64; },
                                                        [](auto & s) { s.BaseChannels = 8; },
                                                        [](auto & s) { s.NumberOfScales = 2; },
                                                        [](auto & s) { s.LayersPerBlock = 1; },
                                                        [](auto & s) { s.PredictionType = "v_prediction"; },
                                                        [](auto & s) { s.NumberOfSteps = 2; },
                                                        [](auto & s) { s.BatchSize = 2; },
                                                        [](auto & s) { s.GradientAccumulation = 2; },
                                                        [](auto & s) { s.LearningRate = 2e-4; },
                                                        [](auto & s) { s.WeightDecay = 0.0; },
                                                        [](auto & s) { s.WarmupFraction = 0.0; },
                                                        [](auto & s) { s.Schedule = "constant"; },
                                                        [](auto & s) { s.EmaDecay = 0.9; },
                                                        [](auto & s) { s.SnrGamma = 0.0; },
                                                        [](auto & s) { s.GradientClip = 0.0; },
                                                        [](auto & s) { s.Seed = 1; },
                                                        [](auto & s) { s.CheckpointFileName = "c"; },
                                                        [](auto & s) { s.CheckpointInterval = 1; },
                                                        [](auto & s) { s.Resume = true; },
                                                        [](auto & s) { s.Device = "cuda"; } });
}

TEST(TrainingSettings, ProblemNamesTheSettingAtFault)
{
  ExpectRefused<itk::RegressorTrainingSettings>({ { [](auto & s) { s.Depth = 101; }, "Depth 101" },
                                                  { [](auto & s) { s.BatchSize = 1; }, "BatchSize is 1" },
                                                  { [](auto & s) { s.LearningRate = -1.0; }, "LearningRate -1" },
                                                  { [](auto & s) { s.WarmupFraction = 2.0; }, "WarmupFraction 2" },
                                                  { [](auto & s) { s.Schedule = "linear"; }, "\"linear\"" },
                                                  { [](auto & s) { s.Loss = "huber"; }, "\"huber\"" },
                                                  { [](auto & s) { s.SyntheticFraction = 1.5; }, "1.5" },
                                                  { [](auto & s) { s.Resume = true; }, "CheckpointFileName" },
                                                  { [](auto & s) { s.Device = "tpu"; }, "\"tpu\"" },
                                                  { [](auto & s) { s.Device = "cuda:x"; }, "\"cuda:x\"" } });
  ExpectRefused<itk::AdaptationSettings>(
    { { [](auto & s) { s.NumberOfSteps = 0; }, "NumberOfSteps" },
      { [](auto & s) { s.EmbeddingSize = 0; }, "EmbeddingSize" },
      { [](auto & s) { s.WarmupFraction = 1.0; }, "WarmupFraction 1" },
      { [](auto & s) { s.EmaDecay = 1.0; }, "EmaDecay" },
      { [](auto & s) { s.ConditionDropout = 1.0; }, "ConditionDropout" },
      { [](auto & s) { s.Schedule = "step"; }, "\"step\"" },
      { [](auto & s) { s.MaximumColourDifference = 300.0; }, "MaximumColourDifference" },
      { [](auto & s) { s.Device = "gpu"; }, "\"gpu\"" } });
  ExpectRefused<itk::PretrainingSettings>({ { [](auto & s) { s.BaseChannels = 12; }, "BaseChannels" },
                                            { [](auto & s) { s.ImageSize = 60; }, "ImageSize 60" },
                                            { [](auto & s) { s.PredictionType = "sample"; }, "\"sample\"" },
                                            { [](auto & s) { s.GradientAccumulation = 0; }, "GradientAccumulation" },
                                            { [](auto & s) { s.SnrGamma = -1.0; }, "SnrGamma" } });
  EXPECT_EQ(itk::AdaptationSettings::ParseBlockList("a,,b,"), (std::vector<std::string>{ "a", "b" }));
}

TEST(TrainingSettings, FilterSettersWriteTheSharedSettings)
{
  auto filter = itk::GeneRegressorTrainFilter::New();
  auto before = filter->GetMTime();
  filter->SetLearningRate(3e-4);
  EXPECT_EQ(filter->GetTrainingSettings().LearningRate, 3e-4);
  EXPECT_GT(filter->GetMTime(), before);
  before = filter->GetMTime();
  filter->SetLearningRate(3e-4); // the same value: not modified
  EXPECT_EQ(filter->GetMTime(), before);
  itk::RegressorTrainingSettings settings;
  settings.Depth = 18;
  filter->SetTrainingSettings(settings);
  EXPECT_EQ(filter->GetDepth(), 18u);
  EXPECT_EQ(filter->GetLearningRate(), 1e-4);

  auto adapt = itk::GeneConditionedAdaptFilter::New();
  adapt->SetBlocks({ "mid_block.resnets.0" });
  EXPECT_EQ(adapt->GetTrainingSettings().Blocks, (std::vector<std::string>{ "mid_block.resnets.0" }));
  auto pretrain = itk::DiffusionPretrainFilter::New();
  pretrain->SetNumberOfScales(3);
  EXPECT_EQ(pretrain->GetTrainingSettings().NumberOfScales, 3u);
}

TEST(TrainingSettings, PipelineSettingsRefuseWhatTheStepWould)
{
  const auto folder = std::filesystem::temp_directory_path() / "st-training-settings";
  std::filesystem::create_directories(folder);
  std::ofstream((folder / "slide.tif").string()) << "x";
  std::ofstream((folder / "spots.tsv").string()) << "x";
  const auto configFor = [&](const std::string & section) {
    const auto file = folder / "pipeline.json";
    std::ofstream(file.string()) << R"({"output": "out", "slide": "slide.tif", "spots": "spots.tsv", "ratios": [1], )"
                                 << section << "}";
    return file.string();
  };
  const auto refusal = [&](const std::string & section) -> std::string {
    try
    {
      itk::PipelineSettings::Read(configFor(section));
    }
    catch (const itk::ExceptionObject & e)
    {
      return e.GetDescription();
    }
    return "accepted";
  };
  EXPECT_NE(refusal(R"("regressor": {"lr": -1})").find("LearningRate -1"), std::string::npos);
  EXPECT_NE(refusal(R"("adaptation": {"cond_dropout": 1})").find("ConditionDropout"), std::string::npos);
  EXPECT_NE(refusal(R"("pretraining": {"prediction": "x"})").find("\"x\""), std::string::npos);
  const auto read = itk::PipelineSettings::Read(configFor(R"("adaptation": {"blocks": "a,b", "lr": 2e-4})"));
  EXPECT_EQ(read.Adaptation.Training.Blocks, (std::vector<std::string>{ "a", "b" }));
  EXPECT_EQ(read.Adaptation.Training.LearningRate, 2e-4);
  EXPECT_EQ(read.Regressor.Training, itk::RegressorTrainingSettings());
  const auto colour = itk::PipelineSettings::Read(configFor(R"("adaptation": {"max_colour_difference": 35})"));
  EXPECT_EQ(colour.Adaptation.Training.MaximumColourDifference, 35.0);
  EXPECT_EQ(itk::PipelineSettings::Parse(colour.ToJSON(), folder.string()).Adaptation.Training,
            colour.Adaptation.Training);
  EXPECT_NE(refusal(R"("adaptation": {"max_colour_difference": -2})").find("MaximumColourDifference"),
            std::string::npos);

  // pretraining.recipe: the CPU recipe unless "paper" is asked for; the other keys change one setting
  // of it; written back as the settings it gave; refused when neither.
  EXPECT_EQ(read.Pretraining.Training, itk::PretrainingSettings::CPURecipe());
  const auto paper = itk::PipelineSettings::Read(configFor(R"("pretraining": {"lr": 3e-4, "recipe": "paper"})"));
  auto       expectedPaper = itk::PretrainingSettings::PaperRecipe();
  expectedPaper.LearningRate = 3e-4;
  EXPECT_EQ(paper.Pretraining.Training, expectedPaper);
  EXPECT_EQ(itk::PipelineSettings::Parse(paper.ToJSON(), folder.string()).Pretraining.Training, expectedPaper);
  EXPECT_NE(refusal(R"("pretraining": {"recipe": "gpu"})").find("pretraining.recipe is \"gpu\""), std::string::npos);

  // pretraining.init: relative to the config's folder, written back, refused when missing or when
  // central_model is given too (that one skips pretraining). Without "prediction" the pretraining
  // trains the model's own prediction type (SpatialTranscriptomicsPipeline.PretrainingContinuesTheModelItIsGiven);
  // stated, the type is kept (and refused by the pretraining if it is not the model's).
  std::ofstream((folder / "given.safetensors").string()) << "x";
  const auto init = itk::PipelineSettings::Read(configFor(R"("pretraining": {"init": "given.safetensors"})"));
  EXPECT_EQ(init.Pretraining.InitialModel, (folder / "given.safetensors").string());
  EXPECT_TRUE(init.Pretraining.PredictionTypeOfInitialModel);
  const auto reread = itk::PipelineSettings::Parse(init.ToJSON(), "/elsewhere");
  EXPECT_EQ(reread.Pretraining.InitialModel, init.Pretraining.InitialModel);
  EXPECT_TRUE(reread.Pretraining.PredictionTypeOfInitialModel);
  const auto stated =
    itk::PipelineSettings::Read(configFor(R"("pretraining": {"init": "given.safetensors", "prediction": "epsilon"})"));
  EXPECT_FALSE(stated.Pretraining.PredictionTypeOfInitialModel);
  EXPECT_EQ(stated.Pretraining.Training.PredictionType, "epsilon");
  EXPECT_FALSE(itk::PipelineSettings::Parse(stated.ToJSON(), "/elsewhere").Pretraining.PredictionTypeOfInitialModel);
  EXPECT_NE(refusal(R"("pretraining": {"init": "missing.safetensors"})").find("pretraining.init"), std::string::npos);
  EXPECT_NE(
    refusal(R"("central_model": "given.safetensors", "pretraining": {"init": "given.safetensors"})").find("keep one"),
    std::string::npos);

  // The imputation section: read, written back, and refused where it cannot work.
  EXPECT_TRUE(read.Imputation.Enabled);
  EXPECT_EQ(read.Imputation.Folds, 4u);
  const auto imputation =
    itk::PipelineSettings::Read(configFor(R"("imputation": {"steps": 50, "folds": 3, "seed": 7, "enabled": false})"));
  EXPECT_FALSE(imputation.Imputation.Enabled);
  EXPECT_EQ(imputation.Imputation.Steps, 50u);
  EXPECT_EQ(imputation.Imputation.Folds, 3u);
  EXPECT_EQ(imputation.Imputation.Seed, 7u);
  EXPECT_EQ(itk::PipelineSettings::Parse(imputation.ToJSON(), folder.string()).ToJSON(), imputation.ToJSON());
  EXPECT_NE(refusal(R"("imputation": {"folds": 1})").find("imputation.folds must be at least 2"), std::string::npos);
  EXPECT_NE(refusal(R"("imputation": {"steps": 0})").find("imputation.steps"), std::string::npos);
  EXPECT_NE(refusal(R"("imputation": {"natural_images": "nowhere"})").find("is not a folder"), std::string::npos);
  EXPECT_NE(refusal(R"("imputation": {"fold": 3})").find("Unknown key \"fold\""), std::string::npos);
  EXPECT_EQ(refusal(R"("imputation": {"enabled": false, "folds": 1})"), "accepted");
  std::filesystem::remove_all(folder);
}
