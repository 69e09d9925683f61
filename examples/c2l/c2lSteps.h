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
#ifndef c2lSteps_h
#define c2lSteps_h

// The c2l commands that make the pipeline's stages, as functions with their options: each command's
// command-line callback and c2l run (the whole pipeline) call the same code.

#include <cstdint>
#include <string>
#include <vector>

namespace c2l
{

struct ExtractOptions
{
  std::string   slide;
  std::string   spots;
  double        pixelSize{ 0.0 };
  double        patchMicrometres{ 112.0 };
  unsigned int  patchPixels{ 224 };
  std::string   normalize;
  std::string   target;
  std::string   targetParameters;
  unsigned int  genes{ 250 };
  double        fraction{ 0.0 };
  std::uint32_t seed{ 0 };
  bool          skipPartial{ false };
  /** Instead of spots: up to this many patch-sized tiles of tissue on a grid over the slide
   * (unlabeled patches, e.g. to pretrain a central model on). */
  unsigned int tiles{ 0 };
  /** With tiles: square blocks of this many tiles a side, every third held out (0: none). */
  unsigned int holdOutBlocks{ 0 };
  /** With holdOutBlocks: "all", "training" or "heldout". */
  std::string part{ "all" };
  bool        force{ false };
  std::string output;
};


struct PretrainOptions
{
  std::vector<std::string> data;
  std::string              out;
  unsigned int             imageSize{ 0 };
  unsigned int             baseChannels{ 64 };
  unsigned int             scales{ 4 };
  unsigned int             layers{ 2 };
  unsigned int             steps{ 1000 };
  unsigned int             batch{ 16 };
  unsigned int             gradAccum{ 1 };
  double                   lr{ 1e-4 };
  double                   warmup{ 0.03 };
  double                   ema{ 0.999 };
  double                   snrGamma{ 5.0 };
  std::string              prediction{ "epsilon" };
  std::string              checkpoint;
  unsigned int             checkpointEvery{ 0 };
  std::string              lossLog;
  bool                     halfPrecision{ false };
  bool                     resume{ false };
  std::string              device{ "cpu" };
  unsigned int             threads{ 0 };
  unsigned long long       seed{ 0 };
  bool                     force{ false };
};


struct AdaptOptions
{
  std::string        central;
  std::string        data;
  std::string        out;
  unsigned int       steps{ 10000 };
  unsigned int       batch{ 32 };
  unsigned int       gradientAccumulation{ 8 };
  double             learningRate{ 1e-4 };
  double             conditionDropout{ 0.1 };
  double             geneDropout{ 0.0 };
  std::string        blocks;
  unsigned int       embeddingSize{ 64 };
  unsigned long long seed{ 0 };
  std::string        device{ "cpu" };
  unsigned int       threads{ 0 };
  std::string        checkpoint;
  unsigned int       checkpointEvery{ 0 };
  bool               resume{ false };
  bool               embedCentral{ false };
  bool               force{ false };
};


struct SampleOptions
{
  std::string        model;
  unsigned int       n{ 16 };
  unsigned int       steps{ 50 };
  double             eta{ 0.0 };
  double             guidance{ 1.0 };
  unsigned long long seed{ 0 };
  unsigned int       batch{ 8 };
  std::string        sampler{ "ddim" };
  std::string        device{ "cpu" };
  unsigned int       threads{ 0 };
  std::string        out;
  bool               force{ false };
  std::string        central;
  std::string        expression;
  double             ratio{ 1.0 };
  double             perturbation{ 0.0 };
  unsigned int       geneDropout{ 0 };
  bool               guidanceGiven{ false };
};

struct TrainRegressorOptions
{
  std::string data;
  std::string synthetic;
  /** Train on the first N synthetic pairs only (0: all): lower ratios from one sampling run. */
  std::size_t        syntheticPairs{ 0 };
  std::string        out;
  unsigned int       depth{ 50 };
  std::string        backbone;
  unsigned int       steps{ 1000 };
  unsigned int       batch{ 32 };
  double             learningRate{ 1e-4 };
  double             weightDecay{ 1e-2 };
  double             warmup{ 0.05 };
  std::string        loss{ "mae" };
  double             syntheticFraction{ -1.0 };
  bool               noAugment{ false };
  unsigned long long seed{ 0 };
  std::string        device{ "cpu" };
  unsigned int       threads{ 0 };
  std::string        checkpoint;
  unsigned int       checkpointEvery{ 0 };
  bool               resume{ false };
  bool               force{ false };
};

struct PredictOptions
{
  std::string  model;
  std::string  data;
  std::string  spots{ "test" };
  bool         countScale{ false };
  unsigned int batch{ 64 };
  std::string  device{ "cpu" };
  unsigned int threads{ 0 };
  std::string  out;
  std::string  metrics;
  bool         force{ false };
};

/** c2l extract: slide + spots -> paired (patch, expression) dataset. */
void
RunExtract(const ExtractOptions & o);
/** c2l pretrain: patch datasets -> central diffusion model. */
void
RunPretrain(const PretrainOptions & o);
/** c2l adapt: central model + paired dataset -> local model. */
void
RunAdapt(const AdaptOptions & o);
/** c2l sample: a model -> patches, or a local model + profiles -> synthetic pairs. */
void
RunSample(SampleOptions o);
/** c2l train-regressor: real (+ synthetic) pairs -> gene regressor. */
void
RunTrainRegressor(const TrainRegressorOptions & o);
/** c2l predict: regressor + dataset -> predicted expression (TSV), and metrics where truth is known. */
void
RunPredict(const PredictOptions & o);

} // namespace c2l

#endif
