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
#include "c2lResultFiles.h"
#include "itkMacro.h"
#include "itkReadableFile.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace c2l
{

nlohmann::json
JsonNumber(double value)
{
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json
JsonNumbers(const std::vector<double> & values)
{
  auto array = nlohmann::json::array();
  for (const double v : values)
  {
    array.push_back(JsonNumber(v));
  }
  return array;
}

double
NumberOrNaN(const nlohmann::json & value)
{
  return value.is_number() ? value.get<double>() : std::nan("");
}

std::string
ReadTextFile(const std::string & fileName)
{
  const std::string problem = itk::ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot read " << fileName << ": " << problem);
  }
  std::ifstream     in(fileName);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace c2l
