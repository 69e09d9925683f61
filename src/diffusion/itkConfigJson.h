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
#ifndef itkConfigJson_h
#define itkConfigJson_h

#include "itkDiffusionErrors.h"

#include <nlohmann/json.hpp>

#include <string>

namespace itk
{
namespace diffusion
{
/** Parses a diffusers-style config.json text that must be a JSON object; ConfigurationError naming
 * \a what ("U-Net config", "scheduler config") otherwise. Internal: the two config readers share it. */
inline nlohmann::json
ParseConfigObject(const std::string & text, const std::string & what)
{
  nlohmann::json json;
  try
  {
    json = nlohmann::json::parse(text);
  }
  catch (const nlohmann::json::exception & e)
  {
    throw ConfigurationError("The " + what + " is not valid JSON: " + e.what());
  }
  if (!json.is_object())
  {
    throw ConfigurationError("The " + what + " is not a JSON object");
  }
  return json;
}

/** Reads an optional field: a missing or null key keeps the default in \a value, a field of the wrong
 * type is a ConfigurationError (diffusers files written by other versions must fail loudly, not
 * silently fall back). */
template <typename T>
void
ReadOptionalConfigField(const nlohmann::json & json, const char * key, T & value, const std::string & what)
{
  if (json.contains(key) && !json[key].is_null())
  {
    try
    {
      value = json[key].get<T>();
    }
    catch (const nlohmann::json::exception &)
    {
      throw ConfigurationError(what + " field \"" + key + "\" has the wrong type: " + json[key].dump());
    }
  }
}
} // namespace diffusion
} // namespace itk

#endif
