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
#ifndef c2lCommands_h
#define c2lCommands_h

#include "c2lCommandList.h"

#include <CLI/CLI.hpp>

namespace c2l
{

/** Each subcommand registers its options and the callback that runs it. In c2l: */
void
AddNormalizeCommand(CLI::App & app);
void
AddSynthSlideCommand(CLI::App & app);
void
AddExtractCommand(CLI::App & app);
void
AddInspectCommand(CLI::App & app);
void
AddLaunchCommand(CLI::App & app);
/** In c2l-models (they link LibTorch): */
void
AddDemoCommand(CLI::App & app);
void
AddPretrainCommand(CLI::App & app);
void
AddSampleCommand(CLI::App & app);
void
AddAdaptCommand(CLI::App & app);
void
AddRegressorCommands(CLI::App & app);
void
AddRunCommand(CLI::App & app);
void
AddImputeCommand(CLI::App & app);

} // namespace c2l

#endif
