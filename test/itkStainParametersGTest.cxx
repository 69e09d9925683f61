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

// StainParameters: JSON round trips, and a clear exception for every kind of malformed file.

#include "itkStainParameters.h"

#include "itkMacro.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>

namespace
{

itk::StainParameters
MacenkoExample()
{
  itk::StainParameters p;
  p.Method = itk::StainNormalizationMethod::Macenko;
  p.StainMatrix = { { { { 0.6443186, 0.7166757, 0.2668986 } }, { { 0.0926711, 0.9544439, 0.2835326 } } } };
  p.MaxConcentrations = { { 1.9705, 1.0308 } };
  return p;
}

/** The description of the exception \p text raises, or "" if none. */
std::string
ParseError(const std::string & text)
{
  try
  {
    itk::StainParameters::FromJSON(text);
  }
  catch (const itk::ExceptionObject & e)
  {
    return e.GetDescription();
  }
  return "";
}

TEST(StainParameters, RoundTripsStainMatrixExactly)
{
  const auto p = MacenkoExample();
  const auto q = itk::StainParameters::FromJSON(p.ToJSON());
  EXPECT_EQ(p, q);
}

TEST(StainParameters, RoundTripsReinhardExactly)
{
  itk::StainParameters p;
  p.Method = itk::StainNormalizationMethod::Reinhard;
  p.LabMean = { { 63.1, 14.2, -9.75 } };
  p.LabStandardDeviation = { { 12.5, 6.25, 4.125 } };
  const auto q = itk::StainParameters::FromJSON(p.ToJSON());
  EXPECT_EQ(p, q);
  EXPECT_EQ(q.Method, itk::StainNormalizationMethod::Reinhard);
}

TEST(StainParameters, FileRoundTripLeavesNoTemporaryFile)
{
  const std::string path = "StainParametersGTest-roundtrip.json";
  MacenkoExample().WriteJSONFile(path);
  EXPECT_EQ(itk::StainParameters::ReadJSONFile(path), MacenkoExample());
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
  std::remove(path.c_str());
}

TEST(StainParameters, MethodNamesParseCaseInsensitively)
{
  EXPECT_EQ(itk::StainParameters::MethodFromString("Vahadane"), itk::StainNormalizationMethod::Vahadane);
  EXPECT_EQ(itk::StainParameters::MethodFromString("RUIFROK"), itk::StainNormalizationMethod::Ruifrok);
  EXPECT_THROW(itk::StainParameters::MethodFromString("macenco"), itk::ExceptionObject);
}

TEST(StainParameters, MalformedJSONSaysWhatIsWrong)
{
  const std::string good = MacenkoExample().ToJSON();
  EXPECT_NE(ParseError("{ not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(ParseError("[1, 2]").find("JSON object"), std::string::npos);
  EXPECT_NE(ParseError(R"({"method": "macenko"})").find("format"), std::string::npos);

  auto withoutField = [&](const std::string & field) {
    std::string text = good;
    const auto  at = text.find("\"" + field + "\"");
    text.replace(at, field.size() + 2, "\"renamed\"");
    return text;
  };
  EXPECT_NE(ParseError(withoutField("max_concentrations")).find("max_concentrations"), std::string::npos);
  EXPECT_NE(ParseError(withoutField("eosin")).find("eosin"), std::string::npos);
  EXPECT_NE(ParseError(withoutField("method")).find("method"), std::string::npos);

  std::string wrongVersion = good;
  wrongVersion.replace(wrongVersion.find("\"version\": 1"), 12, "\"version\": 7");
  EXPECT_NE(ParseError(wrongVersion).find("version"), std::string::npos);
}

TEST(StainParameters, RejectsValuesThatCannotNormalize)
{
  auto p = MacenkoExample();
  p.MaxConcentrations[1] = 0.0;
  EXPECT_THROW(p.Validate(), itk::ExceptionObject);
  EXPECT_NE(ParseError(p.ToJSON()).find("eosin"), std::string::npos);

  p = MacenkoExample();
  p.StainMatrix[1] = p.StainMatrix[0]; // parallel stains cannot be separated
  EXPECT_THROW(p.Validate(), itk::ExceptionObject);

  p = MacenkoExample();
  p.StainMatrix[0][2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(p.Validate(), itk::ExceptionObject);

  itk::StainParameters r;
  r.Method = itk::StainNormalizationMethod::Reinhard;
  r.LabMean = { { 50.0, 0.0, 0.0 } };
  r.LabStandardDeviation = { { 10.0, 0.0, 3.0 } };
  EXPECT_THROW(r.Validate(), itk::ExceptionObject);
}

TEST(StainParameters, MissingFileNamesThePath)
{
  try
  {
    itk::StainParameters::ReadJSONFile("/nonexistent/params.json");
    FAIL() << "no exception";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("/nonexistent/params.json"), std::string::npos);
  }
}

} // namespace
