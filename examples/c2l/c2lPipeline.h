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

// c2l run, c2l demo and c2l study-fractions: the library's SpatialTranscriptomicsPipeline with its
// messages printed, a progress bar, and the report written after it.

#include "itkPipelineSettings.h"

#include <string>

namespace c2l
{

/** Runs every stage not yet finished with these settings, then writes the report when a stage ran
 * or the folder has none. Returns the path of report.md. */
std::string
RunPipeline(const itk::PipelineSettings & settings, bool force);

/** The report of a finished run in settings.Output, written when \p stagesRun is above 0 or the
 * folder has none. Returns the path of report.md. */
std::string
WriteRunReport(const itk::PipelineSettings & settings, unsigned int stagesRun);

} // namespace c2l

#endif
