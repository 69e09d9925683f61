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
#include "itkStainParameters.h"

#include "itkAtomicFile.h"
#include "itkReadableFile.h"

#include "itkMacro.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace itk
{

namespace
{
constexpr const char * FormatName = "itk-spatialtranscriptomics-stain-parameters";
constexpr int          FormatVersion = 1;

template <std::size_t N>
std::array<double, N>
ReadArray(const nlohmann::json & object, const char * key)
{
  if (!object.contains(key))
  {
    itkGenericExceptionMacro(<< "Stain parameters: the field \"" << key << "\" is missing");
  }
  const auto & value = object.at(key);
  if (!value.is_array() || value.size() != N)
  {
    itkGenericExceptionMacro(<< "Stain parameters: \"" << key << "\" must be an array of " << N << " numbers");
  }
  std::array<double, N> result{};
  for (std::size_t i = 0; i < N; ++i)
  {
    if (!value[i].is_number())
    {
      itkGenericExceptionMacro(<< "Stain parameters: \"" << key << "\"[" << i << "] is not a number");
    }
    result[i] = value[i].get<double>();
  }
  return result;
}
} // end anonymous namespace

std::string
StainParameters::MethodToString(StainNormalizationMethod method)
{
  switch (method)
  {
    case StainNormalizationMethod::Macenko:
      return "macenko";
    case StainNormalizationMethod::Vahadane:
      return "vahadane";
    case StainNormalizationMethod::Reinhard:
      return "reinhard";
    case StainNormalizationMethod::Ruifrok:
      return "ruifrok";
  }
  return "unknown";
}

StainNormalizationMethod
StainParameters::MethodFromString(const std::string & name)
{
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto method : { StainNormalizationMethod::Macenko,
                             StainNormalizationMethod::Vahadane,
                             StainNormalizationMethod::Reinhard,
                             StainNormalizationMethod::Ruifrok })
  {
    if (lower == StainParameters::MethodToString(method))
    {
      return method;
    }
  }
  itkGenericExceptionMacro(<< "Unknown stain normalisation method \"" << name
                           << "\"; use one of macenko, vahadane, reinhard, ruifrok");
}

std::ostream &
operator<<(std::ostream & os, StainNormalizationMethod method)
{
  return os << StainParameters::MethodToString(method);
}

void
StainParameters::Validate() const
{
  const auto allFinite = [](const auto & values) {
    return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
  };
  if (!UsesStainMatrix())
  {
    if (!allFinite(LabMean) || !allFinite(LabStandardDeviation))
    {
      itkGenericExceptionMacro(<< "Reinhard parameters hold a non-finite L*a*b* mean or standard deviation");
    }
    for (int c = 0; c < 3; ++c)
    {
      if (!(LabStandardDeviation[c] > 1e-6))
      {
        itkGenericExceptionMacro(<< "Reinhard parameters: the standard deviation of L*a*b* channel " << c << " is "
                                 << LabStandardDeviation[c]
                                 << "; the image has no colour variation to match (is it blank?)");
      }
    }
    return;
  }
  if (!allFinite(StainMatrix[0]) || !allFinite(StainMatrix[1]) || !allFinite(MaxConcentrations))
  {
    itkGenericExceptionMacro(<< "Stain parameters hold a non-finite stain matrix entry or concentration");
  }
  for (int s = 0; s < 2; ++s)
  {
    if (!(MaxConcentrations[s] > 0.0))
    {
      itkGenericExceptionMacro(<< "Stain parameters: the " << (s == 0 ? "hematoxylin" : "eosin")
                               << " concentration percentile is " << MaxConcentrations[s]
                               << " (must be > 0); the image shows too little of that stain to normalise it");
    }
  }
  const auto & h = StainMatrix[0];
  const auto & e = StainMatrix[1];
  const double cross[3] = { h[1] * e[2] - h[2] * e[1], h[2] * e[0] - h[0] * e[2], h[0] * e[1] - h[1] * e[0] };
  const double crossNorm = std::sqrt(cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]);
  const double hNorm = std::sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2]);
  const double eNorm = std::sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
  if (!(crossNorm > 1e-6 * hNorm * eNorm))
  {
    itkGenericExceptionMacro(<< "Stain parameters: the hematoxylin and eosin vectors are zero or parallel, so the "
                                "stains cannot be separated");
  }
}

std::string
StainParameters::ToJSON() const
{
  nlohmann::json json;
  json["format"] = FormatName;
  json["version"] = FormatVersion;
  json["method"] = StainParameters::MethodToString(Method);
  if (UsesStainMatrix())
  {
    json["stain_matrix"] = { { "hematoxylin", StainMatrix[0] }, { "eosin", StainMatrix[1] } };
    json["max_concentrations"] = MaxConcentrations;
  }
  else
  {
    json["lab_mean"] = LabMean;
    json["lab_std"] = LabStandardDeviation;
  }
  return json.dump(2) + "\n";
}

StainParameters
StainParameters::FromJSON(const std::string & text)
{
  nlohmann::json json;
  try
  {
    json = nlohmann::json::parse(text);
  }
  catch (const nlohmann::json::exception & e)
  {
    itkGenericExceptionMacro(<< "Stain parameters are not valid JSON: " << e.what());
  }
  if (!json.is_object())
  {
    itkGenericExceptionMacro(<< "Stain parameters must be a JSON object");
  }
  if (json.value("format", std::string()) != FormatName)
  {
    itkGenericExceptionMacro(
      << "Stain parameters: \"format\" must be \"" << FormatName
      << "\"; write the file with StainParameters::WriteJSONFile (c2l normalize --save-target-params)");
  }
  if (!json.contains("version") || !json["version"].is_number_integer() || json["version"].get<int>() != FormatVersion)
  {
    itkGenericExceptionMacro(<< "Stain parameters: unsupported \"version\" (this build reads version " << FormatVersion
                             << ")");
  }
  if (!json.contains("method") || !json["method"].is_string())
  {
    itkGenericExceptionMacro(<< "Stain parameters: the field \"method\" is missing");
  }
  StainParameters parameters;
  parameters.Method = StainParameters::MethodFromString(json["method"].get<std::string>());
  if (parameters.UsesStainMatrix())
  {
    if (!json.contains("stain_matrix") || !json["stain_matrix"].is_object())
    {
      itkGenericExceptionMacro(<< "Stain parameters: the object \"stain_matrix\" (hematoxylin, eosin) is missing");
    }
    parameters.StainMatrix[0] = ReadArray<3>(json["stain_matrix"], "hematoxylin");
    parameters.StainMatrix[1] = ReadArray<3>(json["stain_matrix"], "eosin");
    parameters.MaxConcentrations = ReadArray<2>(json, "max_concentrations");
  }
  else
  {
    parameters.LabMean = ReadArray<3>(json, "lab_mean");
    parameters.LabStandardDeviation = ReadArray<3>(json, "lab_std");
  }
  parameters.Validate();
  return parameters;
}

void
StainParameters::WriteJSONFile(const std::string & fileName) const
{
  AtomicFile::Write(fileName, ToJSON(), "the stain parameters");
}

StainParameters
StainParameters::ReadJSONFile(const std::string & fileName)
{
  const std::string problem = ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot open stain parameters file \"" << fileName << "\": " << problem);
  }
  std::ifstream      in(fileName, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  try
  {
    return FromJSON(text.str());
  }
  catch (const ExceptionObject & e)
  {
    itkGenericExceptionMacro(<< "In \"" << fileName << "\": " << e.GetDescription());
  }
}

bool
StainParameters::operator==(const StainParameters & other) const
{
  return Method == other.Method && StainMatrix == other.StainMatrix && MaxConcentrations == other.MaxConcentrations &&
         LabMean == other.LabMean && LabStandardDeviation == other.LabStandardDeviation;
}

std::ostream &
operator<<(std::ostream & os, const StainParameters & p)
{
  os << "StainParameters(" << p.Method;
  if (p.UsesStainMatrix())
  {
    os << ", H=[" << p.StainMatrix[0][0] << ", " << p.StainMatrix[0][1] << ", " << p.StainMatrix[0][2] << "], E=["
       << p.StainMatrix[1][0] << ", " << p.StainMatrix[1][1] << ", " << p.StainMatrix[1][2] << "], max C=["
       << p.MaxConcentrations[0] << ", " << p.MaxConcentrations[1] << "]";
  }
  else
  {
    os << ", Lab mean=[" << p.LabMean[0] << ", " << p.LabMean[1] << ", " << p.LabMean[2] << "], Lab std=["
       << p.LabStandardDeviation[0] << ", " << p.LabStandardDeviation[1] << ", " << p.LabStandardDeviation[2] << "]";
  }
  return os << ")";
}

} // end namespace itk
