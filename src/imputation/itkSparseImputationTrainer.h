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
#ifndef itkSparseImputationTrainer_h
#define itkSparseImputationTrainer_h

#include "itkSparseImputationNetwork.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace itk
{
namespace imputation
{

/** How one section is imputed: the network's size and its single-shot training. */
struct SparseImputationOptions
{
  SparseImputationNetworkOptions network;
  std::int64_t                   steps{ 400 };
  std::int64_t                   batchSize{ 16 };
  /** Side of the square training crops; 0: 16, or the training domain's smaller side if less, grown
   * in steps of 4 (up to that side) while no crop holds 4 measured positions. */
  std::int64_t cropSize{ 0 };

  double learningRate{ 1e-3 };
  /** Natural-image crops per step and the weight of their L1 term (co-learning; unused without
   * images). */
  std::int64_t naturalBatchSize{ 8 };
  double       naturalImageWeight{ 1.0 };
  /** Train one network per gene (the paper) instead of one shared over genes. */
  bool          modelPerGene{ false };
  std::uint64_t seed{ 0 };
  std::string   device{ "cpu" };
  /** Random decimation at this rate for every mask; 0: stride-2 decimation of a phase mask's
   * sub-lattice, random decimation at the measured share of the positions to impute otherwise. */
  double subsamplingRate{ 0.0 };
};

/** A section on its grid: planar values (genes x rows x columns), the measured positions, and the
 * positions to impute (may be empty: the whole grid). Values are read only where measured. */
struct GridSection
{
  std::int64_t              genes{ 0 };
  std::int64_t              rows{ 0 };
  std::int64_t              columns{ 0 };
  std::vector<float>        values;
  std::vector<std::uint8_t> measured;
  std::vector<std::uint8_t> target;
};

/** A grayscale image in [0, 1], row-major, for co-learning. */
struct NaturalImage
{
  std::int64_t       rows{ 0 };
  std::int64_t       columns{ 0 };
  std::vector<float> values;
};

/** Called after every step with (step, total steps, loss); return false to stop. */
using ImputationProgress = std::function<bool(std::int64_t, std::int64_t, double)>;

struct ImputationResult
{
  /** Planar imputed values on the input's scale; measured positions hold the input exactly. */
  std::vector<float> values;
  /** Mean training loss over the last tenth of the steps (of the last gene's network when one
   * network is trained per gene). */
  double finalLoss{ 0.0 };
  /** True when the measured positions formed one stride-2 phase (training on the phase's own
   * sub-lattice), false for the random-mask mode. */
  bool latticeMode{ false };
  bool aborted{ false };
};

/** Train S2S-ST's network on \p section alone (sparser-to-sparse: measured positions subsampled
 * again are the input, the other measured positions the target) and impute every grid position.
 * Throws std::invalid_argument on input that cannot be imputed (sizes, no measured position, a
 * gene zero at every measured position, a non-finite measured value, a grid smaller than a crop). */
ImputationResult
TrainAndImpute(const GridSection & section, const std::vector<NaturalImage> & naturalImages,
               const SparseImputationOptions & options, const ImputationProgress & progress = {});

} // namespace imputation
} // namespace itk

#endif
