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
#include "c2lPipeline.h"

#include "c2lPipelineReport.h"
#include "c2lProgressBar.h"

#include "itkSpatialTranscriptomicsPipeline.h"

#include <filesystem>
#include <iostream>

namespace c2l
{

std::string
RunPipeline(const itk::PipelineSettings & settings, bool force)
{
  auto pipeline = itk::SpatialTranscriptomicsPipeline::New();
  pipeline->SetSettings(settings);
  pipeline->SetForce(force);
  const auto * observed = pipeline.GetPointer();
  pipeline->AddObserver(itk::IterationEvent(),
                        [observed](const itk::EventObject &) { std::cout << observed->GetMessage() << std::endl; });
  auto progress = ProgressBar::New();
  progress->Watch(pipeline->GetStepRunner(), "");
  pipeline->Update();
  return WriteRunReport(settings, pipeline->GetNumberOfStagesRun());
}

std::string
WriteRunReport(const itk::PipelineSettings & settings, unsigned int stagesRun)
{
  const std::string report = (std::filesystem::path(settings.Output) / "report.md").string();
  if (stagesRun > 0 || !std::filesystem::exists(report))
  {
    std::cout << "[report]" << std::endl;
    return WritePipelineReport(settings, settings.Output);
  }
  std::cout << "[report] every stage was kept: " << report << " is up to date" << std::endl;
  return report;
}

} // namespace c2l
