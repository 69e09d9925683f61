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
#ifndef c2lPipelineReport_h
#define c2lPipelineReport_h

// The pipeline's report: report.md and report.html in the output folder, with the tables of the
// evaluation, each stage's wall time and share, and figures rendered with VTK off-screen (under a
// virtual X display, xvfb-run, where the machine has none).

#include "itkPipelineSettings.h"

#include <CLI/CLI.hpp>

#include <string>

namespace c2l
{

/** Writes \p folder/report.md and report.html from evaluation/evaluation.json; returns report.md's path. */
std::string
WritePipelineReport(const itk::PipelineSettings & config, const std::string & folder);

/** Renders a figure spec file here when there is a display, else in `c2l render-figures` under
 * xvfb-run. Returns "" on success, else why no figure was drawn (a report says so and goes on). */
std::string
RenderFigureSpec(const std::string & specFile);

/** Renders the figures of a spec file (c2l render-figures, the step run under xvfb-run). */
void
AddRenderFiguresCommand(CLI::App & app);

} // namespace c2l

#endif
