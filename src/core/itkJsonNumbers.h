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
#ifndef itkJsonNumbers_h
#define itkJsonNumbers_h

// Result files are JSON, where an undefined number (a correlation over a constant gene) is null:
// NaN is written as null and null is read back as NaN.

#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

namespace itk
{

inline nlohmann::json
JsonNumber(double value)
{
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

inline nlohmann::json
JsonNumbers(const std::vector<double> & values)
{
  auto array = nlohmann::json::array();
  for (const double v : values)
  {
    array.push_back(JsonNumber(v));
  }
  return array;
}

inline double
NumberOrNaN(const nlohmann::json & value)
{
  return value.is_number() ? value.get<double>() : std::nan("");
}

} // end namespace itk

#endif
