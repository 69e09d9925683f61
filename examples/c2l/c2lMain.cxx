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
// for spatial transcriptomics), one subcommand per step. This file builds two executables: c2l
// (the commands that need no model, and the help) and, with C2L_MODEL_COMMANDS, c2l-models (the
// commands that train or run models, which link LibTorch). c2l hands those commands to c2l-models
// before it parses anything, so a user only ever calls c2l.

#include "c2lCommands.h"
#ifdef C2L_MODEL_COMMANDS
#  include "c2lFractionStudy.h"
#  include "c2lPipelineReport.h"

#  include "itkLibTorchThreads.h"
#  include "itkProcessMemory.h"
#endif

// Registers ITK's image IO factories in this program (with UseITK's generated registration), for
// the images the library's steps read and write: in an ITK module build, unlike the standalone
// one, the library's own sources are compiled without that registration.
#include "itkImageFileWriter.h"
#include "itkMacro.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

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

#ifdef C2L_MODEL_COMMANDS
/** The commands that train or run models keep freed memory for reuse: each step's activations are
 * not unmapped and faulted in again (include/itkProcessMemory.h says why and at what price), and
 * use all cores unless their --threads says otherwise. */
void
PrepareProcessForModels()
{
  itk::ProcessMemory::RetainFreedMemoryForReuse();
  // A launcher's OMP_NUM_THREADS (c2l launch and torchrun share a machine's cores among its ranks)
  // is LibTorch's own setting; otherwise all cores. A command's --threads N still sets N.
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
  {
    itk::LibTorchThreads::UseAllCores();
  }
}

/** c2l-models registers the commands that need LibTorch. */
void
AddCommands(CLI::App & app)
{
  c2l::AddDemoCommand(app);
  c2l::AddPretrainCommand(app);
  c2l::AddSampleCommand(app);
  c2l::AddAdaptCommand(app);
  c2l::AddRegressorCommands(app);
  c2l::AddRunCommand(app);
  c2l::AddImputeCommand(app);
  c2l::AddStudyFractionsCommand(app);
  c2l::AddRenderFiguresCommand(app);
}
#else
/** c2l registers its own commands, and the others by name only (for --help and "unknown command"):
 * they are c2l-models'. */
void
AddCommands(CLI::App & app)
{
  const std::map<std::string, void (*)(CLI::App &)> own{ { "normalize", c2l::AddNormalizeCommand },
                                                         { "synth-slide", c2l::AddSynthSlideCommand },
                                                         { "extract", c2l::AddExtractCommand },
                                                         { "inspect", c2l::AddInspectCommand },
                                                         { "launch", c2l::AddLaunchCommand } };
  for (const auto & command : c2l::Commands())
  {
    if (command.NeedsLibTorch)
    {
      app.add_subcommand(command.Name, command.Description)->allow_extras();
    }
    else
    {
      own.at(command.Name)(app);
    }
  }
}

/** Replaces this process by c2l-models (beside this executable) when \p argv names one of its
 * commands; returns only when it does not, or when c2l-models cannot be started. */
int
HandOverModelCommands(int argc, char * argv[])
{
  if (argc < 2)
  {
    return 0;
  }
  const std::string name = argv[1];
  const auto &      commands = c2l::Commands();
  const bool        models = std::any_of(commands.begin(), commands.end(), [&](const c2l::CommandDescription & c) {
    return c.NeedsLibTorch && name == c.Name;
  });
  if (!models)
  {
    return 0;
  }
  std::error_code   error;
  const auto        self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::string models_path =
    ((error ? std::filesystem::path(argv[0]) : self).parent_path() / "c2l-models").string();
  execv(models_path.c_str(), argv);
  return ReportError("Cannot start " + models_path + " (" + std::strerror(errno) +
                     "): the commands that train or run "
                     "models live there; install it beside c2l");
}
#endif
} // namespace

int
main(int argc, char * argv[])
{
#ifdef C2L_MODEL_COMMANDS
  PrepareProcessForModels();
#else
  if (const int failed = HandOverModelCommands(argc, argv))
  {
    return failed;
  }
#endif
  CLI::App app{ "c2l: gene-conditioned diffusion for spatial transcriptomics, as ITK filters", "c2l" };
  app.require_subcommand(1);
  AddCommands(app);
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
