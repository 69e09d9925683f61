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
#ifndef itkTrainingSettingsChecks_h
#define itkTrainingSettingsChecks_h

// What the three training steps' settings (pretraining, adaptation, regressor) check alike.

#include <sstream>
#include <string>

namespace itk
{

/** \p value as a person reads it (1e-4, not 0.000100). */
inline std::string
NumberText(double value)
{
  std::ostringstream text;
  text << value;
  return text.str();
}

/** Why a device name is not "cpu", "cuda" or "cuda:N", or "". Whether that device exists is for
 * LibTorch to say when the step runs. */
inline std::string
DeviceNameProblem(const std::string & device)
{
  if (device == "cpu" || device == "cuda")
  {
    return "";
  }
  const std::string prefix = "cuda:";
  if (device.size() > prefix.size() && device.compare(0, prefix.size(), prefix) == 0 &&
      device.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
  {
    return "";
  }
  return "the device \"" + device + "\" is not cpu, cuda or cuda:N";
}

/** AdamW's learning rate and weight decay, the warm-up fraction (below 1 unless \p warmupMayBeWhole)
 * and the schedule after it, as every training step has them. */
inline std::string
OptimizerProblem(double learningRate, double weightDecay, double warmupFraction, bool warmupMayBeWhole,
                 const std::string & schedule)
{
  if (!(learningRate > 0.0) || !(weightDecay >= 0.0))
  {
    return "the learning rate must be positive and the weight decay non-negative (LearningRate " +
           NumberText(learningRate) + ", WeightDecay " + NumberText(weightDecay) + ")";
  }
  if (!(warmupFraction >= 0.0 && (warmupMayBeWhole ? warmupFraction <= 1.0 : warmupFraction < 1.0)))
  {
    return "WarmupFraction " + NumberText(warmupFraction) + " is outside " + (warmupMayBeWhole ? "[0, 1]" : "[0, 1)");
  }
  if (schedule != "constant" && schedule != "cosine")
  {
    return "the schedule \"" + schedule + "\" is not constant or cosine";
  }
  return "";
}

/** The diffusion loss's min-SNR gamma, the gradient clip and the EMA decay (pretraining and
 * adaptation). */
inline std::string
DiffusionTrainingProblem(double snrGamma, double gradientClip, double emaDecay)
{
  if (!(snrGamma >= 0.0) || !(gradientClip >= 0.0) || !(emaDecay >= 0.0 && emaDecay < 1.0))
  {
    return "SnrGamma and GradientClip must be >= 0 (0 disables them) and EmaDecay in [0, 1)";
  }
  return "";
}

/** Resuming needs a checkpoint file name; the device must be one LibTorch names. */
inline std::string
CheckpointAndDeviceProblem(const std::string & checkpointFileName, bool resume, const std::string & device)
{
  if (resume && checkpointFileName.empty())
  {
    return "Resume is on but no checkpoint file is named; set CheckpointFileName";
  }
  return DeviceNameProblem(device);
}

} // end namespace itk

#endif
