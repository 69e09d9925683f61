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
#include "itkAdaptationSettings.h"

#include "itkTrainingSettingsChecks.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace itk
{

std::string
AdaptationSettings::Problem() const
{
  if (NumberOfSteps < 1 || BatchSize < 1 || GradientAccumulation < 1 || EmbeddingSize < 1)
  {
    return "NumberOfSteps, BatchSize, GradientAccumulation and EmbeddingSize must be positive";
  }
  if (auto problem = OptimizerProblem(LearningRate, WeightDecay, WarmupFraction, false, Schedule); !problem.empty())
  {
    return problem;
  }
  if (auto problem = DiffusionTrainingProblem(SnrGamma, GradientClip, EmaDecay); !problem.empty())
  {
    return problem;
  }
  if (!(ConditionDropout >= 0.0 && ConditionDropout < 1.0) || !(GeneDropout >= 0.0 && GeneDropout < 1.0))
  {
    return "ConditionDropout and GeneDropout must be in [0, 1)";
  }
  if (!(MaximumColourDifference >= 0.0 && MaximumColourDifference <= 255.0))
  {
    return "MaximumColourDifference must be in [0, 255] grey levels (0: no check)";
  }
  return CheckpointAndDeviceProblem(CheckpointFileName, Resume, Device);
}

std::string
AdaptationSettings::ToJSON() const
{
  return nlohmann::json{
    { "steps", NumberOfSteps },
    { "batch_size", BatchSize },
    { "gradient_accumulation", GradientAccumulation },
    { "learning_rate", LearningRate },
    { "weight_decay", WeightDecay },
    { "warmup_fraction", WarmupFraction },
    { "schedule", Schedule },
    { "snr_gamma", SnrGamma },
    { "gradient_clip", GradientClip },
    { "ema_decay", EmaDecay },
    { "condition_dropout", ConditionDropout },
    { "gene_dropout", GeneDropout },
    { "augment", Augment },
    { "max_colour_difference", MaximumColourDifference },
    { "embedding_size", EmbeddingSize },
    { "blocks", Blocks },
    { "seed", Seed },
    { "checkpoint_file", CheckpointFileName },
    { "checkpoint_interval", CheckpointInterval },
    { "resume", Resume },
    { "device", Device }
  }.dump();
}

std::vector<std::string>
AdaptationSettings::ParseBlockList(const std::string & commaSeparated)
{
  std::vector<std::string> blocks;
  std::istringstream       list(commaSeparated);
  for (std::string block; std::getline(list, block, ',');)
  {
    if (!block.empty())
    {
      blocks.push_back(block);
    }
  }
  return blocks;
}

void
AdaptationSettings::Print(std::ostream & os, const std::string & indent) const
{
  os << indent << "NumberOfSteps: " << NumberOfSteps << '\n';
  os << indent << "BatchSize: " << BatchSize << '\n';
  os << indent << "GradientAccumulation: " << GradientAccumulation << '\n';
  os << indent << "LearningRate: " << LearningRate << '\n';
  os << indent << "WeightDecay: " << WeightDecay << '\n';
  os << indent << "WarmupFraction: " << WarmupFraction << '\n';
  os << indent << "Schedule: " << Schedule << '\n';
  os << indent << "SnrGamma: " << SnrGamma << '\n';
  os << indent << "GradientClip: " << GradientClip << '\n';
  os << indent << "EmaDecay: " << EmaDecay << '\n';
  os << indent << "ConditionDropout: " << ConditionDropout << '\n';
  os << indent << "GeneDropout: " << GeneDropout << '\n';
  os << indent << "Augment: " << Augment << '\n';
  os << indent << "MaximumColourDifference: " << MaximumColourDifference << '\n';
  os << indent << "EmbeddingSize: " << EmbeddingSize << '\n';
  os << indent << "Blocks:";
  for (const auto & block : Blocks)
  {
    os << ' ' << block;
  }
  os << (Blocks.empty() ? " (all)" : "") << '\n';
  os << indent << "Seed: " << Seed << '\n';
  os << indent << "CheckpointFileName: " << CheckpointFileName << '\n';
  os << indent << "CheckpointInterval: " << CheckpointInterval << '\n';
  os << indent << "Resume: " << Resume << '\n';
  os << indent << "Device: " << Device << '\n';
}

bool
AdaptationSettings::operator==(const AdaptationSettings & other) const
{
  return ToJSON() == other.ToJSON();
}

} // end namespace itk
