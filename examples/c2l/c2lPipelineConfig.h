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
#ifndef c2lPipelineConfig_h
#define c2lPipelineConfig_h

// The whole pipeline's settings (c2l run --config PIPELINE.json): what to read, and each stage's
// options, with the paper's defaults where a key is left out. Unknown keys are errors, so a typo
// never silently falls back to a default.

#include "c2lSteps.h"

#include <string>
#include <vector>

namespace c2l
{

struct PipelineConfig
{
  /** Where every stage writes (stages/ holds what finished, so a re-run resumes). */
  std::string output;
  /** Inputs: the slide, its spots (Visium outs/, .h5ad, HEST folder or count tables). */
  std::string  slide;
  std::string  spots;
  double       pixelSize{ 0.0 };
  std::string  device{ "cpu" };
  unsigned int threads{ 0 };

  /** Patch extraction, preprocessing and the split (fraction = spots for adaptation and training). */
  ExtractOptions extraction;
  /** A given central model, or pretraining on the slide's unlabeled tissue tiles. */
  std::string     centralModel;
  unsigned int    tiles{ 2000 };
  PretrainOptions pretraining;
  AdaptOptions    adaptation;
  /** Synthesis at each synthetic-to-real ratio (the paper's Table 2 uses 1..10). */
  std::vector<double>   ratios{ 1, 2, 5, 10 };
  SampleOptions         synthesis;
  TrainRegressorOptions regressor;
  /** Evaluation: expression clusters for the composition measure, genes drawn as spatial maps. */
  unsigned int clusters{ 4 };
  unsigned int mapGenes{ 3 };

  /** Reads and validates a config file; relative paths are taken from the file's folder. */
  static PipelineConfig
  Read(const std::string & fileName);
  /** Parses a config; \p baseFolder resolves relative input paths. Throws itk::ExceptionObject. */
  static PipelineConfig
  Parse(const std::string & text, const std::string & baseFolder);
  /** The full config, every default written out (kept beside the results). */
  std::string
  ToJSON() const;
};

} // namespace c2l

#endif
