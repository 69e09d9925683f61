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
#ifndef itkMethodStepSettings_h
#define itkMethodStepSettings_h

// The settings of each step of the method as it runs on files (a slide, datasets, model files):
// one type per step, shared by MethodStepRunner, the pipeline's settings (PipelineSettings) and the
// c2l tool. Defaults are the paper's. "force" lets a step replace an output that exists.

#include "SpatialTranscriptomicsExport.h"
#include "itkAdaptationSettings.h"
#include "itkDataParallelSettings.h"
#include "itkPretrainingSettings.h"
#include "itkRegressorTrainingSettings.h"

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{

/** \brief Patch extraction: a slide and its spots to a paired (patch, expression) dataset, or
 * unlabeled tissue tiles of a slide (MethodStepRunner::Extract).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ExtractionStepSettings
{
  std::string   Slide;
  std::string   Spots;
  double        PixelSize{ 0.0 };
  double        PatchMicrometres{ 112.0 };
  unsigned int  PatchPixels{ 224 };
  std::string   NormalizationMethod;
  std::string   Target;
  std::string   TargetParameters;
  unsigned int  Genes{ 250 };
  double        Fraction{ 0.0 };
  std::uint32_t Seed{ 0 };
  bool          SkipPartial{ false };
  /** Instead of spots: up to this many patch-sized tiles of tissue on a grid over the slide
   * (unlabeled patches, e.g. to pretrain a central model on). */
  unsigned int Tiles{ 0 };
  /** With tiles: square blocks of this many tiles a side, every third held out (0: none). */
  unsigned int HoldOutBlocks{ 0 };
  /** With holdOutBlocks: "all", "training" or "heldout". */
  std::string Part{ "all" };
  bool        Force{ false };
  std::string Output;
};


/** \brief Pretraining the central diffusion model on patch datasets (MethodStepRunner::Pretrain).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PretrainingStepSettings
{
  std::vector<std::string> Data;
  std::string              Output;
  /** A central model to continue training (DiffusionPretrainFilter::SetInitialModel); empty for a
   * fresh U-Net. */
  std::string InitialModel;
  /** How to pretrain; ImageSize 0 takes the datasets' patch size, and an empty CheckpointFileName
   * means Output + ".checkpoint". */
  PretrainingSettings Training;
  /** With an InitialModel: true (the default) trains the prediction type that model was trained
   * with, in place of Training.PredictionType; false trains Training.PredictionType, which the
   * pretraining filter refuses unless it is the model's (what c2l's --prediction and a pipeline
   * config's pretraining.prediction ask for). Without an InitialModel it has no effect. */
  bool PredictionTypeOfInitialModel{ true };
  /** This process's place in a data-parallel run (c2l pretrain: DataParallelSettings::FromEnvironment()). */
  DataParallelSettings DataParallel;
  std::string          LossLog;
  bool                 HalfPrecision{ false };
  /** Steps between snapshots of the model (DiffusionPretrainFilter::SetSnapshotInterval); 0: none. */
  unsigned int SnapshotInterval{ 0 };
  unsigned int Threads{ 0 };
  bool         Force{ false };
};


/** \brief Adapting a central model to paired spots (MethodStepRunner::Adapt).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT AdaptationStepSettings
{
  std::string Central;
  std::string Data;
  std::string Output;
  /** How to adapt (a checkpoint only where CheckpointFileName names one). */
  AdaptationSettings Training;
  unsigned int       Threads{ 0 };
  bool               EmbedCentral{ false };
  bool               Force{ false };
};


/** \brief Sampling patches from a model, or synthetic pairs from a local model and the profiles of
 * a dataset's training spots (MethodStepRunner::Sample).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT SamplingStepSettings
{
  std::string        Model;
  unsigned int       NumberOfSamples{ 16 };
  unsigned int       Steps{ 50 };
  double             Eta{ 0.0 };
  double             Guidance{ 1.0 };
  unsigned long long Seed{ 0 };
  unsigned int       Batch{ 8 };
  std::string        Sampler{ "ddim" };
  std::string        Device{ "cpu" };
  unsigned int       Threads{ 0 };
  std::string        Output;
  bool               Force{ false };
  std::string        Central;
  std::string        Expression;
  double             Ratio{ 1.0 };
  double             Perturbation{ 0.0 };
  unsigned int       GeneDropout{ 0 };
  bool               GuidanceGiven{ false };
};

/** \brief Training the gene regressor on real (+ synthetic) pairs (MethodStepRunner::TrainRegressor).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT RegressorTrainingStepSettings
{
  std::string Data;
  std::string Synthetic;
  /** Train on the first N synthetic pairs only (0: all): lower ratios from one sampling run. */
  std::size_t SyntheticPairs{ 0 };
  /** Rows of Data left out of training (a cross-validation fold held out); none by default. */
  std::vector<std::size_t> ExcludedSpots;
  std::string              Output;
  /** How to train; an empty CheckpointFileName means Output + ".checkpoint" (written only when
   * CheckpointInterval is above 0 or on Resume). */
  RegressorTrainingSettings Training;
  unsigned int              Threads{ 0 };
  bool                      Force{ false };
};

/** \brief Predicting expression at a dataset's spots (MethodStepRunner::Predict).
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT PredictionStepSettings
{
  std::string  Model;
  std::string  Data;
  std::string  Spots{ "test" };
  bool         CountScale{ false };
  unsigned int Batch{ 64 };
  std::string  Device{ "cpu" };
  unsigned int Threads{ 0 };
  std::string  Output;
  std::string  Metrics;
  bool         Force{ false };
};

} // end namespace itk

#endif
