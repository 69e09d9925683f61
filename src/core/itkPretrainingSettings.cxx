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
#include "itkPretrainingSettings.h"

#include "itkTrainingSettingsChecks.h"

#include <nlohmann/json.hpp>

namespace itk
{

PretrainingSettings
PretrainingSettings::PaperRecipe()
{
  return PretrainingSettings();
}

PretrainingSettings
PretrainingSettings::CPURecipe()
{
  PretrainingSettings recipe;
  recipe.BaseChannels = 32;
  recipe.NumberOfScales = 3;
  recipe.LayersPerBlock = 1;
  recipe.PredictionType = "v_prediction";
  recipe.NumberOfSteps = 2500;
  recipe.BatchSize = 32;
  recipe.LearningRate = 5e-4;
  recipe.WarmupFraction = 0.02;
  return recipe;
}

std::string
PretrainingSettings::Problem() const
{
  if (BaseChannels < 8 || BaseChannels % 8 != 0 || NumberOfScales < 1 || NumberOfScales > 8 || LayersPerBlock < 1)
  {
    return "BaseChannels must be a positive multiple of 8, NumberOfScales in 1..8 and LayersPerBlock positive";
  }
  const unsigned int factor = 1u << (NumberOfScales - 1);
  if (ImageSize % factor != 0)
  {
    return "ImageSize " + std::to_string(ImageSize) + " is not a multiple of " + std::to_string(factor) +
           " (2^(NumberOfScales - 1)); extract patches of such a size or use fewer scales";
  }
  if (PredictionType != "epsilon" && PredictionType != "v_prediction")
  {
    return "the prediction type \"" + PredictionType + "\" is not epsilon or v_prediction";
  }
  if (NumberOfSteps < 1 || BatchSize < 1 || GradientAccumulation < 1)
  {
    return "NumberOfSteps, BatchSize and GradientAccumulation must be positive";
  }
  if (auto problem = OptimizerProblem(LearningRate, WeightDecay, WarmupFraction, false, Schedule); !problem.empty())
  {
    return problem;
  }
  if (auto problem = DiffusionTrainingProblem(SnrGamma, GradientClip, EmaDecay); !problem.empty())
  {
    return problem;
  }
  return CheckpointAndDeviceProblem(CheckpointFileName, Resume, Device);
}

std::string
PretrainingSettings::ToJSON() const
{
  return nlohmann::json{
    { "image_size", ImageSize },
    { "base_channels", BaseChannels },
    { "scales", NumberOfScales },
    { "layers_per_block", LayersPerBlock },
    { "prediction", PredictionType },
    { "steps", NumberOfSteps },
    { "batch_size", BatchSize },
    { "gradient_accumulation", GradientAccumulation },
    { "learning_rate", LearningRate },
    { "weight_decay", WeightDecay },
    { "warmup_fraction", WarmupFraction },
    { "schedule", Schedule },
    { "ema_decay", EmaDecay },
    { "snr_gamma", SnrGamma },
    { "gradient_clip", GradientClip },
    { "seed", Seed },
    { "checkpoint_file", CheckpointFileName },
    { "checkpoint_interval", CheckpointInterval },
    { "resume", Resume },
    { "device", Device }
  }.dump();
}

void
PretrainingSettings::Print(std::ostream & os, const std::string & indent) const
{
  os << indent << "ImageSize: " << ImageSize << '\n';
  os << indent << "BaseChannels: " << BaseChannels << '\n';
  os << indent << "NumberOfScales: " << NumberOfScales << '\n';
  os << indent << "LayersPerBlock: " << LayersPerBlock << '\n';
  os << indent << "PredictionType: " << PredictionType << '\n';
  os << indent << "NumberOfSteps: " << NumberOfSteps << '\n';
  os << indent << "BatchSize: " << BatchSize << '\n';
  os << indent << "GradientAccumulation: " << GradientAccumulation << '\n';
  os << indent << "LearningRate: " << LearningRate << '\n';
  os << indent << "WeightDecay: " << WeightDecay << '\n';
  os << indent << "WarmupFraction: " << WarmupFraction << '\n';
  os << indent << "Schedule: " << Schedule << '\n';
  os << indent << "EmaDecay: " << EmaDecay << '\n';
  os << indent << "SnrGamma: " << SnrGamma << '\n';
  os << indent << "GradientClip: " << GradientClip << '\n';
  os << indent << "Seed: " << Seed << '\n';
  os << indent << "CheckpointFileName: " << CheckpointFileName << '\n';
  os << indent << "CheckpointInterval: " << CheckpointInterval << '\n';
  os << indent << "Resume: " << Resume << '\n';
  os << indent << "Device: " << Device << '\n';
}

bool
PretrainingSettings::operator==(const PretrainingSettings & other) const
{
  return ToJSON() == other.ToJSON();
}

} // end namespace itk
