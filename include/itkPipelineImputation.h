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
#ifndef itkPipelineImputation_h
#define itkPipelineImputation_h

#include "itkMatrixOperations.h"
#include "itkPipelineSettings.h"
#include "itkSpatialExpressionData.h"
#include "itkSpotGrid.h"

#include <string>
#include <vector>

namespace itk
{

/** \class PipelineImputation
 * \brief The pipeline's spatial predictors of a dataset's test spots, from the training spots'
 * expression alone (no image): S2S-ST (SparseToSparseImputationFilter) and Gaussian-kernel smoothing
 * (SpatialImputationBaselines), and S2S-ST's held-out predictions of the training spots that
 * PerGeneCombination needs to weigh it against an image regressor.
 *
 * The spots' grid is SpotGrid::FromSpots (legacy ST ids, Visium array coordinates, or a lattice
 * fitted to the positions). S2S-ST is trained once on every training spot (its prediction of the test
 * spots) and once per fold of the training spots on the other folds (its prediction of that fold);
 * the test spots' values are never read.
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT PipelineImputation
{
  /** How the grid was found (SpotGrid::Source) and its columns x rows. */
  std::string Grid;
  /** Every spot x gene, preprocessed scale: S2S-ST trained on the training spots (their measured
   * values unchanged). */
  Array2D<double> Imputed;
  /** Every spot x gene: Gaussian-kernel smoothing of the training spots. */
  Array2D<double> Smoothed;
  /** Its bandwidth, chosen by leave-one-out on the training spots (the grid's unit: micrometres). */
  double SmoothingBandwidth{ 0.0 };
  /** The fold of each training spot (in SpatialExpressionData::GetSpotIndices(true) order). */
  std::vector<unsigned int> Folds;
  /** Training spots x genes: each training spot imputed by S2S-ST trained on the other folds. */
  Array2D<double> CrossFitted;
  /** Wall time of the whole imputation (every S2S-ST training and the smoothing). */
  double Seconds{ 0.0 };

  /** SpotGrid::FromSpots, or itk::ExceptionObject saying that the imputation needs a grid and how to
   * turn it off. The pipeline asks before its first training, so that a dataset without a grid
   * stops it at once rather than at its evaluation. */
  static SpotGrid
  FindGrid(const SpatialExpressionData & spots);

  /** The folds of the training spots of \p spots for \p settings (PerGeneCombination::AssignFolds). */
  static std::vector<unsigned int>
  TrainingFolds(const SpatialExpressionData & spots, const PipelineImputationSettings & settings);

  /** Imputes the test spots of \p spots (preprocessed expression with a training/test split) and
   * cross-fits the training spots. \p device and \p threads as the other steps take them (threads 0
   * leaves LibTorch's setting). Throws itk::ExceptionObject when no grid fits the spots, or a fold
   * leaves S2S-ST nothing to train on. */
  static PipelineImputation
  Run(const PipelineImputationSettings & settings, const SpatialExpressionData & spots, const std::string & device,
      unsigned int threads);
};

} // end namespace itk

#endif
