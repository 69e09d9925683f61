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
#ifndef c2lResultFiles_h
#define c2lResultFiles_h

// The pipeline's result files are JSON, where an undefined number (a correlation over a constant
// gene) is null: these helpers write NaN as null and read null back as NaN, and read a file whole.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace c2l
{

/** \p value, or null when it is not finite. */
nlohmann::json
JsonNumber(double value);

/** An array of JsonNumber. */
nlohmann::json
JsonNumbers(const std::vector<double> & values);

/** A JSON number as a double; NaN for null or anything else. */
double
NumberOrNaN(const nlohmann::json & value);

/** The whole text of a file ("" when it cannot be read). */
std::string
ReadTextFile(const std::string & fileName);

} // namespace c2l

#endif
