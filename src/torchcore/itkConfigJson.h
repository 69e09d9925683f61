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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

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

/** The integer type of a field: T itself, or the element type of a vector. */
template <typename T>
struct FieldIntegerOf
{
  using type = T;
};
template <typename I>
struct FieldIntegerOf<std::vector<I>>
{
  using type = I;
};
template <typename T>
using FieldInteger = typename FieldIntegerOf<T>::type;

/** True when \a value is a whole number that the signed integer type I holds (3 and 3.0 are; 3.5,
 * 1e40 and 2^63 are not). nlohmann's get<I> casts any number, which truncates a fraction and is
 * undefined behaviour beyond I's range. */
template <typename I>
bool
IsWholeNumberOf(const nlohmann::json & value)
{
  static_assert(std::is_integral_v<I> && std::is_signed_v<I>, "a signed integer type");
  using Limits = std::numeric_limits<I>;
  if (value.is_number_unsigned())
  {
    return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(Limits::max());
  }
  if (value.is_number_integer())
  {
    const auto number = value.get<std::int64_t>();
    return number >= static_cast<std::int64_t>(Limits::min()) && number <= static_cast<std::int64_t>(Limits::max());
  }
  if (value.is_number_float())
  {
    // -min is 2^(bits-1), exact in a double; max is not.
    const double number = value.get<double>();
    return std::isfinite(number) && std::trunc(number) == number && number >= static_cast<double>(Limits::min()) &&
           number < -static_cast<double>(Limits::min());
  }
  return false;
}

/** True unless the field type T is an integer (or a vector of integers) and \a value holds a number
 * that is not a whole number of it (other mismatches are left to get<T>, which throws). */
template <typename T>
bool
FitsIntegerType(const nlohmann::json & value)
{
  using I = FieldInteger<T>;
  if constexpr (!std::is_integral_v<I> || std::is_same_v<I, bool>)
  {
    return true;
  }
  else
  {
    const auto fits = [](const nlohmann::json & number) { return !number.is_number() || IsWholeNumberOf<I>(number); };
    return value.is_array() ? std::all_of(value.begin(), value.end(), fits) : fits(value);
  }
}

/** Reads an optional field: a missing or null key keeps the default in \a value, a field of the wrong
 * type (an integer field holding 2.5 or 1e40 included) is a ConfigurationError (diffusers files
 * written by other versions must fail loudly, not silently fall back). */
template <typename T>
void
ReadOptionalConfigField(const nlohmann::json & json, const char * key, T & value, const std::string & what)
{
  if (json.contains(key) && !json[key].is_null())
  {
    if (!FitsIntegerType<T>(json[key]))
    {
      throw ConfigurationError(what + " field \"" + key + "\" must hold whole numbers within " +
                               std::to_string(sizeof(FieldInteger<T>) * 8) + "-bit range: " + json[key].dump());
    }
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
