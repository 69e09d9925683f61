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

// c2l study-fractions: the library's SamplingFractionStudy (the paper's Fig. 7: the whole pipeline
// once per fraction of the spots sampled for adaptation and training), and the study's report,
// which sets the real-only regressor against the co-trained ones, fraction by fraction.

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

/** itk::SamplingFractionStudy with the pipeline's messages printed, a progress bar, each run's
 * report once it finishes, and the study's report.md / report.html at the end (its path returned). */
std::string
RunFractionStudy(const FractionStudyOptions & options);

void
AddStudyFractionsCommand(CLI::App & app);

} // namespace c2l

#endif
