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
#ifndef c2lPipeline_h
#define c2lPipeline_h

// c2l run: slide + spots -> extraction (+ stain normalisation) -> split -> central model (given, or
// pretrained on the slide's tissue tiles) -> adaptation -> synthesis -> regression (real only, and
// co-trained at each synthetic-to-real ratio) -> evaluation -> report. Each stage's output is kept
// in the output folder and recorded in stages/, so a re-run resumes after the last finished stage.

#include "c2lPipelineConfig.h"

#include <string>
#include <vector>

namespace c2l
{

/** A stage as run (or reused from an earlier run), for the report's timing table. */
struct StageTiming
{
  std::string name;
  double      seconds{ 0.0 };
  bool        reused{ false };
};

/** Refuses \p folder when it holds the results of other settings (its \p recordName differs from
 * \p settings) or files that are not \p what ("pipeline run", "study"), unless \p force; then creates
 * it and records \p settings in \p recordName. Nothing a user wrote there is removed. */
void
PrepareResultsFolder(const std::string & folder, const std::string & recordName, const std::string & settings,
                     const std::string & what, bool force);

/** Runs every stage not yet finished with these settings. An output folder that holds results of
 * other settings (or other files) is refused unless \p force; with \p force, stages whose settings
 * are unchanged are kept and the rest are run again. Returns the path of report.md. */
std::string
RunPipeline(const PipelineConfig & config, bool force);

/** The stages' timings recorded in \p folder (in pipeline order). */
std::vector<StageTiming>
ReadStageTimings(const std::string & folder);

} // namespace c2l

#endif
