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
#ifndef itkPipelineSettings_h
#define itkPipelineSettings_h

#include "itkMethodStepSettings.h"

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{

/** \brief The pipeline's spatial predictors of the test spots (PipelineImputation): S2S-ST
 * (SparseToSparseImputationFilter, its CPU default size) trained on the training spots' expression
 * alone, Gaussian-kernel smoothing as the spatial reference, and the per-gene combination of S2S-ST
 * with the real-only regressor (PerGeneCombination), its weights fitted on the training spots by
 * cross-fitting over Folds folds.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PipelineImputationSettings
{
  /** Off: no imputation rows, no combination, no fold regressors. */
  bool Enabled{ true };
  /** S2S-ST's training steps (SparseToSparseImputationFilter::NumberOfSteps). */
  unsigned int Steps{ 400 };
  /** Folds of the training spots for the combination's weights, at least 2; each fold costs one
   * real-only regressor and one S2S-ST training on the other folds. */
  unsigned int Folds{ 4 };
  /** Seeds S2S-ST's networks and the fold assignment. */
  std::uint32_t Seed{ 0 };
  /** A folder of photographs for S2S-ST's natural-image co-learning (none by default). */
  std::string NaturalImages;
};

/** \brief The whole method's settings (a pipeline JSON file): what to read, and each stage's
 * settings, with the paper's defaults where a key is left out. Unknown keys are errors, so a typo
 * never silently falls back to a default. SpatialTranscriptomicsPipeline runs them.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PipelineSettings
{
  /** Where every stage writes (stages/ holds what finished, so a re-run resumes). */
  std::string Output;
  /** Inputs: the slide, its spots (Visium outs/, .h5ad, HEST folder or count tables). */
  std::string  Slide;
  std::string  Spots;
  double       PixelSize{ 0.0 };
  std::string  Device{ "cpu" };
  unsigned int Threads{ 0 };

  /** Patch extraction, preprocessing and the split (fraction = spots for adaptation and training). */
  ExtractionStepSettings Extraction;
  /** A given central model, or pretraining on the slide's unlabeled tissue tiles: from a fresh
   * U-Net, or continuing the model Pretraining.InitialModel names (the config's pretraining.init). */
  std::string             CentralModel;
  unsigned int            Tiles{ 2000 };
  PretrainingStepSettings Pretraining;
  AdaptationStepSettings  Adaptation;
  /** Synthesis at each synthetic-to-real ratio (the paper's Table 2 uses 1..10). */
  std::vector<double>           Ratios{ 1, 2, 5, 10 };
  SamplingStepSettings          Synthesis;
  RegressorTrainingStepSettings Regressor;
  /** Evaluation: expression clusters for the composition measure, genes drawn as spatial maps. */
  unsigned int Clusters{ 4 };
  unsigned int MapGenes{ 3 };
  /** S2S-ST and its combination with the real-only regressor as further predictors of the test spots. */
  PipelineImputationSettings Imputation;

  /** The paper's defaults, and the pipeline's own where a step's default differs (the split's
   * fraction 0.25; pretraining by PretrainingSettings::CPURecipe(), as `c2l pretrain`; synthesis by
   * DPM-Solver++ at 20 steps with guidance 3). */
  PipelineSettings();

  /** Throws itk::ExceptionObject naming the first setting that cannot work (a missing input file,
   * a fraction outside (0, 1), no ratio, ...). Read, Parse and the pipeline's Update call it. */
  void
  Validate() const;

  /** Reads and validates a config file; relative paths are taken from the file's folder. */
  static PipelineSettings
  Read(const std::string & fileName);
  /** Parses a config; \p baseFolder resolves relative input paths. pretraining.recipe ("cpu", the
   * default, or "paper") gives the pretraining settings the config leaves out. A config that continues a
   * central model (pretraining.init) without stating pretraining.prediction trains the model's
   * prediction type (PretrainingStepSettings::PredictionTypeOfInitialModel). Throws ExceptionObject. */
  static PipelineSettings
  Parse(const std::string & text, const std::string & baseFolder);
  /** The full config, every default written out (kept beside the results). */
  std::string
  ToJSON() const;
};

} // end namespace itk

#endif
