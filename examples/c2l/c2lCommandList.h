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
#ifndef c2lCommandList_h
#define c2lCommandList_h

// Every c2l command with its one-line description, in the order c2l --help lists them. The commands
// that train or run models live in a second executable, c2l-models, beside c2l: c2l hands them over
// (exec) before it parses anything, so that the others (normalize, extract, ...) and c2l --help
// start without loading LibTorch.

#include <stdexcept>
#include <string>
#include <vector>

namespace c2l
{

struct CommandDescription
{
  const char * Name;
  const char * Description;
  bool         NeedsLibTorch;
};

inline const std::vector<CommandDescription> &
Commands()
{
  static const std::vector<CommandDescription> commands{
    { "normalize", "Normalise the H&E stain appearance of an image to a target's", false },
    { "demo", "The whole pipeline with small settings on a synthetic slide it generates, and its report", true },
    { "synth-slide",
      "Generate a synthetic H&E slide with spots whose genes drive its morphology (image, Visium outs/, ground "
      "truth)",
      false },
    { "extract", "Cut a patch at every spot of a slide: the paired (patch, expression) dataset", false },
    { "inspect", "Show what a patch dataset, a slide or a folder of spots holds", false },
    { "pretrain", "Pretrain the central diffusion model on patch datasets", true },
    { "launch",
      "Start the local ranks of a data-parallel run of a c2l command (as torchrun does): c2l launch "
      "--nproc-per-node N -- pretrain ...",
      false },
    { "adapt",
      "Adapt a central diffusion model to a lab's paired spots (gene FiLM modulation of the frozen U-Net)",
      true },
    { "sample", "Generate patches from a diffusion model", true },
    { "train-regressor", "Train the gene regressor (ResNet) on real pairs, optionally with synthetic pairs", true },
    { "predict", "Predict expression at a dataset's spots with a gene regressor", true },
    { "run",
      "The whole pipeline: extraction, central model, adaptation, synthesis, regression, evaluation, report",
      true },
    { "impute",
      "S2S-ST: impute held-out spots of one section from its measured spots alone, against spatial baselines",
      true },
    { "study-fractions",
      "The pipeline at several sampling fractions (the paper's Fig. 7): real only against co-trained regressors",
      true },
    { "render-figures", "Render a report's figure spec (JSON) with VTK; needs a display", true },
  };
  return commands;
}

/** The description of the command \p name (every command registers itself with it). */
inline std::string
DescriptionOf(const std::string & name)
{
  for (const auto & command : Commands())
  {
    if (name == command.Name)
    {
      return command.Description;
    }
  }
  throw std::logic_error("c2l has no command \"" + name + "\"");
}

} // namespace c2l

#endif
