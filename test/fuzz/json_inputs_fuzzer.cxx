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

// libFuzzer harness: the JSON the module reads from outside: a pipeline config
// (PipelineSettings::Parse), stain parameters (StainParameters::FromJSON), a gene preprocessing
// record (GenePreprocessing::FromJSON, from model and dataset metadata), an evaluation.json read back
// by the report and the study (PipelineEvaluationResults::Parse) and Visium scale factors
// (SpatialDataReader::ReadVisiumScaleFactors). The first byte picks the parser, the rest is the
// text. Anything invalid must be refused with itk::ExceptionObject: an nlohmann::json exception
// escaping, a crash or undefined behaviour is a finding.

#include "FuzzInputFiles.h"

#include "itkGenePreprocessing.h"
#include "itkPipelineEvaluationResults.h"
#include "itkPipelineSettings.h"
#include "itkSpatialDataReader.h"
#include "itkStainParameters.h"

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  if (size == 0)
  {
    return 0;
  }
  const std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
  try
  {
    switch (data[0] % 5)
    {
      case 0:
        itk::PipelineSettings::Parse(text, "/nonexistent-fuzz-base");
        break;
      case 1:
        itk::StainParameters::FromJSON(text);
        break;
      case 2:
        itk::GenePreprocessing::FromJSON(text);
        break;
      case 3:
        itk::PipelineEvaluationResults::Parse(text);
        break;
      default: {
        const auto file = fuzz::ScratchFolder() / "scalefactors_json.json";
        fuzz::WriteFile(file, text);
        itk::SpatialDataReader::ReadVisiumScaleFactors(file.string());
      }
    }
  }
  catch (const itk::ExceptionObject &)
  {}
  return 0;
}
