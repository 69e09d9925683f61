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
#ifndef c2lFractionStudy_h
#define c2lFractionStudy_h

// c2l study-fractions: the paper's sampling-fraction study (its Fig. 7). The whole pipeline runs once
// per fraction of the spots sampled for adaptation and training, each in its own folder, and the
// study's report sets the real-only regressor against the co-trained ones, fraction by fraction.

#include "itkPipelineSettings.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace c2l
{

struct FractionStudyOptions
{
  /** The pipeline settings; its output folder becomes the study's folder. */
  std::string Config;
  /** Shares of the spots used for adaptation and training (the paper's 5, 10, 25 and 50 %). */
  std::vector<double> Fractions{ 0.05, 0.1, 0.25, 0.5 };
  bool                Force{ false };
};

/** "fraction-5", "fraction-12.5": the folder of one fraction's pipeline run inside the study. */
std::string
FractionFolderName(double fraction);

/** Runs the pipeline at each fraction into <output>/fraction-P/ (each resumes as `c2l run` does; a
 * central model is pretrained once, by the first run, and given to the others: it sees unlabeled
 * tiles only, whatever the fraction), then writes <output>/study.json with the test-spot metrics of
 * every run and report.md / report.html. A folder holding other results is refused unless \p force.
 * Returns report.md's path. */
std::string
RunFractionStudy(const FractionStudyOptions & options);

void
AddStudyFractionsCommand(CLI::App & app);

} // namespace c2l

#endif
