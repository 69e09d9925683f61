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
#ifndef itkTrainStepReferenceOptions_h
#define itkTrainStepReferenceOptions_h

#include "itkDiffusionTrainer.h"
#include "itkNoiseSchedule.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace itk
{
namespace DiffusionTest
{

/** The "options" metadata of a batches file for train_step_reference.py: the C++ trainer's
 * optimizer, loss and EMA settings and the noise schedule, as the reference reads them. */
inline std::string
TrainStepReferenceOptions(const diffusion::TrainerOptions & options, const diffusion::SchedulerConfig & scheduler,
                          std::int64_t steps)
{
  return nlohmann::json{
    { "steps", steps },
    { "lr", options.learningRate },
    { "betas", { options.adamBeta1, options.adamBeta2 } },
    { "eps", options.adamEpsilon },
    { "weight_decay", options.weightDecay },
    { "clip", options.gradientClip },
    { "snr_gamma", options.snrGamma },
    { "ema_decay", options.emaDecay },
    { "prediction_type", scheduler.predictionType },
    { "num_train_timesteps", scheduler.numTrainTimesteps },
    { "beta_start", scheduler.betaStart },
    { "beta_end", scheduler.betaEnd }
  }.dump();
}

} // namespace DiffusionTest
} // namespace itk

#endif
