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

// c2l: the command line of ITKSpatialTranscriptomics (central-to-local gene-conditioned diffusion
// for spatial transcriptomics). One executable, one subcommand per step.

#include "c2lCommands.h"
#include "c2lFractionStudy.h"
#include "c2lPipelineReport.h"

#include "itkLibTorchThreads.h"
#include "itkMacro.h"
#include "itkProcessMemory.h"

#include <algorithm>
#include <iostream>
#include <set>
#include <string>

namespace
{
/** Errors print as one line: the message says what is wrong and what to do. ITK's
 * "ITK ERROR: ClassName(0x...): " prefix says nothing to a user of the command line. */
int
ReportError(std::string message)
{
  const std::string prefix = "ITK ERROR: ";
  if (message.rfind(prefix, 0) == 0)
  {
    message.erase(0, prefix.size());
    const auto pointer = message.find("(0x");
    const auto end = message.find("): ");
    if (pointer != std::string::npos && end != std::string::npos && pointer < end)
    {
      message.erase(0, end + 3);
    }
  }
  std::replace(message.begin(), message.end(), '\n', ' ');
  while (!message.empty() && message.back() == ' ')
  {
    message.pop_back();
  }
  std::cerr << "c2l: error: " << message << std::endl;
  return 1;
}

/** The commands that train or run models keep freed memory for reuse: each step's activations are
 * not unmapped and faulted in again (include/itkProcessMemory.h says why and at what price). The
 * others (normalize, extract, ...) stream images region by region and keep glibc's default, so that
 * their resident memory follows the region in hand. c2l has no options before its command. */
bool
TrainsOrRunsModels(int argc, char * argv[])
{
  static const std::set<std::string> commands{ "pretrain", "adapt", "sample",          "train-regressor", "predict",
                                               "run",      "demo",  "study-fractions", "impute" };
  return argc > 1 && commands.count(argv[1]) > 0;
}
} // namespace

int
main(int argc, char * argv[])
{
  if (TrainsOrRunsModels(argc, argv))
  {
    itk::RetainFreedMemoryForReuse();
    itk::LibTorchThreads::UseAllCores(); // a command's --threads N still sets N
  }
  CLI::App app{ "c2l: gene-conditioned diffusion for spatial transcriptomics, as ITK filters" };
  app.require_subcommand(1);
  c2l::AddNormalizeCommand(app);
  c2l::AddDemoCommand(app);
  c2l::AddSynthSlideCommand(app);
  c2l::AddExtractCommand(app);
  c2l::AddInspectCommand(app);
  c2l::AddPretrainCommand(app);
  c2l::AddAdaptCommand(app);
  c2l::AddSampleCommand(app);
  c2l::AddRegressorCommands(app);
  c2l::AddRunCommand(app);
  c2l::AddImputeCommand(app);
  c2l::AddStudyFractionsCommand(app);
  c2l::AddRenderFiguresCommand(app);
  try
  {
    app.parse(argc, argv);
  }
  catch (const CLI::CallForHelp & e)
  {
    return app.exit(e);
  }
  catch (const CLI::CallForAllHelp & e)
  {
    return app.exit(e);
  }
  catch (const CLI::ParseError & e)
  {
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-')
    {
      std::string commands;
      for (const auto * command : app.get_subcommands({}))
      {
        commands += (commands.empty() ? "" : ", ") + command->get_name();
      }
      return ReportError("Unknown command \"" + std::string(argv[1]) + "\"; use one of: " + commands);
    }
    return ReportError(e.what() + std::string(" (see c2l --help)"));
  }
  catch (const itk::ExceptionObject & e)
  {
    return ReportError(e.GetDescription());
  }
  catch (const std::exception & e)
  {
    return ReportError(e.what());
  }
  return 0;
}
