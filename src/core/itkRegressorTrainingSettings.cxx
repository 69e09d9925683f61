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
#include "itkRegressorTrainingSettings.h"

#include "itkTrainingSettingsChecks.h"

#include <nlohmann/json.hpp>

namespace itk
{

std::string
RegressorTrainingSettings::Problem() const
{
  if (Depth != 18 && Depth != 34 && Depth != 50)
  {
    return "Depth " + std::to_string(Depth) + " is not a ResNet the regressor builds; use 18, 34 or 50";
  }
  if (NumberOfSteps < 1)
  {
    return "NumberOfSteps must be positive (it is 0)";
  }
  if (BatchSize < 2)
  {
    return "BatchSize is " + std::to_string(BatchSize) + "; BatchNorm needs at least 2 patches a batch";
  }
  if (auto problem = OptimizerProblem(LearningRate, WeightDecay, WarmupFraction, true, Schedule); !problem.empty())
  {
    return problem;
  }
  if (Loss != "mae" && Loss != "mse")
  {
    return "the loss \"" + Loss + "\" is not mae or mse";
  }
  if (!(SyntheticFraction <= 1.0))
  {
    return "SyntheticFraction " + NumberText(SyntheticFraction) +
           " is above 1: it must be at most 1 (a probability), or negative for in proportion to the pairs";
  }
  return CheckpointAndDeviceProblem(CheckpointFileName, Resume, Device);
}

std::string
RegressorTrainingSettings::ToJSON() const
{
  return nlohmann::json{
    { "depth", Depth },
    { "backbone", BackboneFileName },
    { "steps", NumberOfSteps },
    { "batch_size", BatchSize },
    { "learning_rate", LearningRate },
    { "weight_decay", WeightDecay },
    { "warmup_fraction", WarmupFraction },
    { "schedule", Schedule },
    { "loss", Loss },
    { "synthetic_fraction", SyntheticFraction },
    { "augment", Augment },
    { "seed", Seed },
    { "checkpoint_file", CheckpointFileName },
    { "checkpoint_interval", CheckpointInterval },
    { "resume", Resume },
    { "device", Device }
  }.dump();
}

void
RegressorTrainingSettings::Print(std::ostream & os, const std::string & indent) const
{
  os << indent << "Depth: " << Depth << '\n';
  os << indent << "BackboneFileName: " << BackboneFileName << '\n';
  os << indent << "NumberOfSteps: " << NumberOfSteps << '\n';
  os << indent << "BatchSize: " << BatchSize << '\n';
  os << indent << "LearningRate: " << LearningRate << '\n';
  os << indent << "WeightDecay: " << WeightDecay << '\n';
  os << indent << "WarmupFraction: " << WarmupFraction << '\n';
  os << indent << "Schedule: " << Schedule << '\n';
  os << indent << "Loss: " << Loss << '\n';
  os << indent << "SyntheticFraction: " << SyntheticFraction << '\n';
  os << indent << "Augment: " << Augment << '\n';
  os << indent << "Seed: " << Seed << '\n';
  os << indent << "CheckpointFileName: " << CheckpointFileName << '\n';
  os << indent << "CheckpointInterval: " << CheckpointInterval << '\n';
  os << indent << "Resume: " << Resume << '\n';
  os << indent << "Device: " << Device << '\n';
}

bool
RegressorTrainingSettings::operator==(const RegressorTrainingSettings & other) const
{
  return ToJSON() == other.ToJSON();
}

} // end namespace itk
