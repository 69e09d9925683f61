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
#ifndef c2lStepRunner_h
#define c2lStepRunner_h

// The commands of c2l-models run the library's steps through MethodStepRunner.

#include "c2lProgressBar.h"

#include "itkMethodStepRunner.h"

namespace c2l
{

/** The library's step runner, its progress drawn as a bar on a terminal. */
inline itk::MethodStepRunner::Pointer
StepRunnerWithProgressBar()
{
  auto runner = itk::MethodStepRunner::New();
  auto progress = ProgressBar::New();
  progress->Watch(runner, "");
  return runner;
}

} // namespace c2l

#endif
