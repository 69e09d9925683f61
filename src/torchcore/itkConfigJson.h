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

#include "itkTorchErrors.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>

namespace itk
{
namespace torchcore
{
/** Python's json module writes infinities and NaN as bare Infinity, -Infinity and NaN (diffusers'
 * DPMSolverMultistepScheduler config has "lambda_min_clipped": -Infinity), which JSON does not allow:
 * this turns each such token outside a string into a string of the same text, which
 * ReadConfigNumber reads back as the number. */
inline std::string
QuoteNonFiniteNumbers(const std::string & text)
{
  std::string result;
  result.reserve(text.size());
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i)
  {
    const char c = text[i];
    if (inString)
    {
      result += c;
      if (c == '\\' && i + 1 < text.size())
      {
        result += text[++i];
      }
      else if (c == '"')
      {
        inString = false;
      }
      continue;
    }
    if (c == '"')
    {
      inString = true;
      result += c;
      continue;
    }
    bool replaced = false;
    for (const char * token : { "-Infinity", "Infinity", "NaN" })
    {
      const std::string word(token);
      if (text.compare(i, word.size(), word) == 0)
      {
        result += '"' + word + '"';
        i += word.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced)
    {
      result += c;
    }
  }
  return result;
}

/** Parses a diffusers-style config.json text that must be a JSON object; ConfigurationError naming
 * \a what ("U-Net config", "scheduler config") otherwise. Internal: the two config readers share it. */
inline nlohmann::json
ParseConfigObject(const std::string & text, const std::string & what)
{
  nlohmann::json json;
  try
  {
    json = nlohmann::json::parse(QuoteNonFiniteNumbers(text));
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
/** Reads an optional number that Python may have written as Infinity, -Infinity or NaN (see
 * QuoteNonFiniteNumbers); a missing or null key gives \a fallback. */
inline double
ReadConfigNumber(const nlohmann::json & json, const char * key, double fallback, const std::string & what)
{
  if (!json.contains(key) || json[key].is_null())
  {
    return fallback;
  }
  const auto & value = json[key];
  if (value.is_number())
  {
    return value.get<double>();
  }
  if (value == "Infinity")
  {
    return std::numeric_limits<double>::infinity();
  }
  if (value == "-Infinity")
  {
    return -std::numeric_limits<double>::infinity();
  }
  if (value == "NaN")
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  throw ConfigurationError(what + " field \"" + key + "\" is not a number: " + value.dump());
}
} // namespace torchcore
} // namespace itk

#endif
