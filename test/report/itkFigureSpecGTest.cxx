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

// The JSON figure spec: what FigureSpec writes, what RenderFiguresFromSpec renders and rejects, and
// rendering in a child process under a virtual display.

#include "itkFigureSpec.h"
#include "itkReportWriter.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>

namespace
{
std::string
SpecFolder(const std::string & name)
{
  const std::string folder = std::string(REPORT_TEST_OUTPUT) + "/" + name;
  mkdir(folder.c_str(), 0755);
  return folder;
}

void
ExpectSpecError(const std::string & json, const std::string & expectedInMessage)
{
  const std::string spec = SpecFolder("spec-errors") + "/spec.json";
  itk::report::WriteTextFileAtomically(spec, json);
  try
  {
    itk::report::RenderFiguresFromSpec(spec);
    ADD_FAILURE() << "no error for " << json;
  }
  catch (const itk::report::ReportError & error)
  {
    EXPECT_NE(std::string(error.what()).find(expectedInMessage), std::string::npos) << error.what();
  }
}
} // namespace

TEST(FigureSpec, WritesTheDocumentedMembers)
{
  itk::report::FigureSpec spec;
  spec.AddScatter("mae.png", "MAE", "real", "co", { 0.1, std::nan("") }, { 0.2, 0.3 }, true, { "", "ERBB2" });
  spec.AddLineChart("ratio.png", "By ratio", "ratio", "MAE", { { "co", { 0.0, 1.0 }, { 0.3, 0.2 } } });
  EXPECT_EQ(spec.Size(), 2u);
  const auto json = nlohmann::json::parse(spec.ToJson());
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["type"], "scatter");
  EXPECT_EQ(json[0]["output"], "mae.png");
  EXPECT_EQ(json[0]["x_label"], "real");
  EXPECT_TRUE(json[0]["diagonal"].get<bool>());
  // NaN travels as null.
  EXPECT_TRUE(json[0]["x"][1].is_null());
  EXPECT_EQ(json[0]["point_labels"][1], "ERBB2");
  EXPECT_EQ(json[1]["type"], "line_chart");
  EXPECT_EQ(json[1]["series"][0]["label"], "co");
  EXPECT_DOUBLE_EQ(json[1]["series"][0]["y"][1].get<double>(), 0.2);
}

TEST(FigureSpec, RejectsMalformedSpecsNamingTheProblem)
{
  ExpectSpecError("{ not json", "not valid JSON");
  ExpectSpecError("{\"plots\": []}", "must be an array of figures");
  ExpectSpecError("[{\"type\": \"pie\", \"output\": \"a.png\"}]", "unknown type \"pie\"");
  ExpectSpecError("[{\"type\": \"scatter\", \"output\": \"a.png\", \"x\": [1]}]", "lacks the member \"y\"");
  ExpectSpecError("[{\"type\": \"scatter\", \"output\": \"a.png\", \"x\": [1], \"y\": [\"one\"]}]",
                  "\"y\" must be an array of numbers");
  ExpectSpecError("[{\"type\": \"embedding\", \"output\": \"a.png\", \"x\": [1], \"y\": [1], \"group\": [0.5], "
                  "\"group_names\": [\"a\"]}]",
                  "\"group\" must be an array of integers");
  ExpectSpecError("[3]", "figure 0 is not a JSON object");
  EXPECT_THROW(itk::report::RenderFiguresFromSpec(std::string(REPORT_TEST_OUTPUT) + "/missing-spec.json"),
               itk::report::ReportError);
}

TEST(FigureSpec, RendersEveryFigureTypeRelativeToTheSpecFolder)
{
  if (!itk::report::DisplayAvailable())
  {
    GTEST_SKIP() << "No X display with GLX: run under `xvfb-run -a` (ctest does so when xvfb-run exists)";
  }
  const std::string folder = SpecFolder("spec-all");
  const auto        grid = itk::report::PatchGrid({ { { 8, 8, std::vector<unsigned char>(8 * 8 * 3, 90) } } });
  itk::report::WriteRGBImagePNG(folder + "/grid-raw.png", grid.image.width, grid.image.height, grid.image.rgb);

  itk::report::FigureSpec spec;
  spec.AddSpatialMap("map.png",
                     "ERBB2",
                     { 0.0, 1.0 },
                     { 0.0, 1.0 },
                     { { 0.0, 1.0 }, { 1.0, std::nan("") } },
                     { "truth", "prediction" },
                     640,
                     320);
  spec.AddScatter("scatter.png", "MAE", "real", "co", { 0.1, 0.2 }, { 0.2, 0.1 }, true, {}, 400, 400);
  spec.AddLineChart("line.png", "By ratio", "ratio", "MAE", { { "co", { 0.0, 1.0 }, { 0.3, 0.2 } } }, 400, 300);
  spec.AddEmbedding("embedding.png", "PCA", { 0.0, 1.0 }, { 1.0, 0.0 }, { 0, 1 }, { "real", "synthetic" }, 400, 300);
  spec.AddLabelledImage("grid.png", "Patches", "grid-raw.png", { "cluster 0" }, grid.rowCenters);
  spec.Write(folder + "/figures.json");

  EXPECT_EQ(itk::report::RenderFiguresFromSpec(folder + "/figures.json"), 5);
  const std::pair<const char *, int> expectedWidths[] = {
    { "map.png", 640 }, { "scatter.png", 400 }, { "line.png", 400 }, { "embedding.png", 400 }
  };
  for (const auto & [name, width] : expectedWidths)
  {
    EXPECT_EQ(itk::report::ReadRGBImagePNG(folder + "/" + name).width, width) << name;
  }
  EXPECT_GT(itk::report::ReadRGBImagePNG(folder + "/grid.png").width, grid.image.width);
}

TEST(FigureSpec, RunUnderVirtualDisplayGivesTheChildADisplay)
{
  const std::string marker = SpecFolder("virtual-display") + "/display.txt";
  std::remove(marker.c_str());
  int status = -1;
  try
  {
    // The child writes the DISPLAY it was given and exits with 7.
    status = itk::report::RunUnderVirtualDisplay({ "/bin/sh", "-c", "echo \"$DISPLAY\" > '" + marker + "'; exit 7" });
  }
  catch (const itk::report::ReportError & error)
  {
    GTEST_SKIP() << error.what();
  }
  EXPECT_EQ(status, 7);
  std::ifstream stream(marker);
  std::string   display;
  std::getline(stream, display);
  EXPECT_EQ(display.rfind(":", 0), 0u) << display;
  EXPECT_THROW(itk::report::RunUnderVirtualDisplay({}), itk::report::ReportError);
}
