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
#ifndef itkRegressorTrainer_h
#define itkRegressorTrainer_h

// Training of the gene regressor on real and synthetic (patch, expression) pairs.

#include "itkOptimization.h"
#include "itkRegressorTrainingSettings.h"
#include "itkResNet.h"

#include <ATen/core/Generator.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace itk
{
namespace regression
{

/** The batch's indices into the union of \p realCount real then \p syntheticCount synthetic
 * elements (synthetic index i is realCount + i), drawn from \p generator. With \p syntheticFraction
 * < 0 every element is uniform over the union; otherwise each is synthetic with that probability,
 * then uniform inside its pool. ConfigurationError if a pool that may be drawn from is empty. */
std::vector<std::int64_t>
DrawRegressionBatch(std::int64_t realCount, std::int64_t syntheticCount, std::int64_t batchSize,
                    double syntheticFraction, at::Generator & generator);

/** The training loss of \p output against \p target: mean |o - t| ("mae") or mean (o - t)^2 ("mse"). */
torch::Tensor
RegressionLoss(const torch::Tensor & output, const torch::Tensor & target, const std::string & loss);

/** Trains a ResNet regressor: batches drawn by DrawRegressionBatch from real and synthetic pairs,
 * dihedral augmentation, MAE or MSE loss, AdamW with warm-up then cosine or constant learning rate.
 * All randomness comes from one CPU generator seeded by the settings, saved in checkpoints with the
 * weights (BatchNorm statistics included), the AdamW moments and the step, so a run killed and
 * resumed ends with the same weights, bit for bit, as one that was not. The pools stay as given
 * (no copy): each step gathers its batch (uint8) and converts only that. */
class RegressorTrainer
{
public:
  /** \p realImages uint8 [N, H, W, 3], \p realTargets float [N, G] with G the net's outputs; the
   * synthetic pool likewise with the same H, W and G (or both undefined). ConfigurationError for
   * anything else (shapes, non-finite targets, an empty pool that would be drawn from). Moves
   * \p net to the settings' device (Depth and BackboneFileName are the caller's: it builds
   * \p net); resumes from the checkpoint if asked and it exists. */
  RegressorTrainer(ResNet net, RegressorTrainingSettings settings, torch::Tensor realImages, torch::Tensor realTargets,
                   torch::Tensor syntheticImages = {}, torch::Tensor syntheticTargets = {});

  /** One optimizer step; returns the batch's loss (before the update). */
  double
  Step();
  /** The loss of the last step, this run's or (after a resume) the checkpoint's; NaN before any step. */
  double
  LastLoss() const
  {
    return m_LastLoss;
  }
  /** Steps until NumberOfSteps, writing checkpoints as asked (and at the end), calling \p progress
   * after each step; leaves the net in eval mode. */
  void
  Run(const std::function<void(std::int64_t step, std::int64_t total, double loss)> & progress = {});

  std::int64_t
  CurrentStep() const
  {
    return m_Optimizer.StepCount();
  }
  double
  LearningRate(std::int64_t step) const;
  ResNet
  Model() const
  {
    return m_Net;
  }
  const RegressorTrainingSettings &
  Settings() const
  {
    return m_Settings;
  }

  /** Atomic checkpoint: "model.*" (parameters and BatchNorm buffers), "adam.*", "rng.state", and
   * the config, settings, pool sizes, step and last loss in the metadata. */
  void
  SaveCheckpoint(const std::string & fileName) const;
  /** Restores a checkpoint of the same ResNet config, batch size and pools; ModelFileError otherwise. */
  void
  LoadCheckpoint(const std::string & fileName);

private:
  std::vector<std::string>
  ParameterNames() const;

  ResNet                    m_Net;
  RegressorTrainingSettings m_Settings;
  torch::Device             m_Device;
  torch::Tensor             m_RealImages;
  torch::Tensor             m_RealTargets;
  torch::Tensor             m_SyntheticImages;
  torch::Tensor             m_SyntheticTargets;
  at::Generator             m_Generator;
  torchcore::AdamW          m_Optimizer;
  double                    m_LastLoss{ std::numeric_limits<double>::quiet_NaN() };
};

} // namespace regression
} // namespace itk

#endif
