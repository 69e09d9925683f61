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

#include "itkFigureSpec.h"
#include "itkReadableFile.h"

#include "itkReportWriter.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace itk::report
{
namespace
{
using Json = nlohmann::json;

// JSON has no NaN: missing values travel as null and come back as NaN.
Json
Numbers(const std::vector<double> & values)
{
  Json array = Json::array();
  for (const double value : values)
  {
    array.push_back(std::isfinite(value) ? Json(value) : Json(nullptr));
  }
  return array;
}

Json
Base(const char * type, const std::string & png, const std::string & title)
{
  return Json{ { "type", type }, { "output", png }, { "title", title } };
}

// Reading one figure's members, with errors that name the figure and the member.
class FigureReader
{
public:
  FigureReader(const Json & figure, std::size_t index, std::string folder)
    : m_Figure(figure)
    , m_Folder(std::move(folder))
  {
    m_Where = "figure " + std::to_string(index);
    if (!figure.is_object())
    {
      Fail("is not a JSON object");
    }
    if (figure.contains("output") && figure["output"].is_string())
    {
      m_Where += " (" + figure["output"].get<std::string>() + ")";
    }
  }

  [[noreturn]] void
  Fail(const std::string & problem) const
  {
    throw ReportError("Figure spec: " + m_Where + " " + problem);
  }

  const Json &
  Member(const char * name) const
  {
    if (!m_Figure.contains(name))
    {
      Fail(std::string("lacks the member \"") + name + "\"");
    }
    return m_Figure[name];
  }

  std::string
  String(const char * name, bool required = true) const
  {
    if (!required && !m_Figure.contains(name))
    {
      return {};
    }
    const Json & value = Member(name);
    if (!value.is_string())
    {
      Fail(std::string("member \"") + name + "\" must be a string");
    }
    return value.get<std::string>();
  }

  std::string
  Path(const char * name) const
  {
    const std::string path = String(name);
    return path.empty() || path.front() == '/' ? path : m_Folder + path;
  }

  int
  Integer(const char * name, int fallback) const
  {
    if (!m_Figure.contains(name))
    {
      return fallback;
    }
    const Json & value = m_Figure[name];
    if (!value.is_number_integer())
    {
      Fail(std::string("member \"") + name + "\" must be an integer");
    }
    return value.get<int>();
  }

  bool
  Boolean(const char * name, bool fallback) const
  {
    if (!m_Figure.contains(name))
    {
      return fallback;
    }
    if (!m_Figure[name].is_boolean())
    {
      Fail(std::string("member \"") + name + "\" must be true or false");
    }
    return m_Figure[name].get<bool>();
  }

  std::vector<double>
  NumbersOf(const Json & value, const std::string & name) const
  {
    if (!value.is_array())
    {
      Fail("member \"" + name + "\" must be an array of numbers");
    }
    std::vector<double> numbers;
    for (const auto & entry : value)
    {
      if (entry.is_null())
      {
        numbers.push_back(std::nan(""));
      }
      else if (entry.is_number())
      {
        numbers.push_back(entry.get<double>());
      }
      else
      {
        Fail("member \"" + name + "\" must be an array of numbers (or null for a missing value)");
      }
    }
    return numbers;
  }

  std::vector<double>
  Numbers(const char * name) const
  {
    return NumbersOf(Member(name), name);
  }

  std::vector<std::string>
  Strings(const char * name, bool required = true) const
  {
    if (!required && !m_Figure.contains(name))
    {
      return {};
    }
    const Json & value = Member(name);
    if (!value.is_array())
    {
      Fail(std::string("member \"") + name + "\" must be an array of strings");
    }
    std::vector<std::string> strings;
    for (const auto & entry : value)
    {
      if (!entry.is_string())
      {
        Fail(std::string("member \"") + name + "\" must be an array of strings");
      }
      strings.push_back(entry.get<std::string>());
    }
    return strings;
  }

  std::vector<int>
  Integers(const char * name) const
  {
    const Json & value = Member(name);
    if (!value.is_array())
    {
      Fail(std::string("member \"") + name + "\" must be an array of integers");
    }
    std::vector<int> integers;
    for (const auto & entry : value)
    {
      if (!entry.is_number_integer())
      {
        Fail(std::string("member \"") + name + "\" must be an array of integers");
      }
      integers.push_back(entry.get<int>());
    }
    return integers;
  }

private:
  const Json & m_Figure;
  std::string  m_Folder;
  std::string  m_Where;
};

void
RenderFigure(const FigureReader & figure)
{
  const std::string type = figure.String("type");
  const std::string png = figure.Path("output");
  const std::string title = figure.String("title", false);
  if (type == "spatial_map")
  {
    const Json &                     panelsJson = figure.Member("panels");
    std::vector<std::vector<double>> panels;
    if (!panelsJson.is_array())
    {
      figure.Fail("member \"panels\" must be an array of arrays of numbers");
    }
    for (const auto & panel : panelsJson)
    {
      panels.push_back(figure.NumbersOf(panel, "panels"));
    }
    RenderSpatialMap(png,
                     title,
                     figure.Numbers("x"),
                     figure.Numbers("y"),
                     panels,
                     figure.Strings("panel_titles", false),
                     figure.Integer("width", 1200),
                     figure.Integer("height", 450));
  }
  else if (type == "scatter")
  {
    RenderScatter(png,
                  title,
                  figure.String("x_label", false),
                  figure.String("y_label", false),
                  figure.Numbers("x"),
                  figure.Numbers("y"),
                  figure.Boolean("diagonal", false),
                  figure.Strings("point_labels", false),
                  figure.Integer("width", 800),
                  figure.Integer("height", 700));
  }
  else if (type == "line_chart")
  {
    const Json & seriesJson = figure.Member("series");
    if (!seriesJson.is_array())
    {
      figure.Fail("member \"series\" must be an array of {\"label\", \"x\", \"y\"} objects");
    }
    std::vector<Series> series;
    for (const auto & curve : seriesJson)
    {
      if (!curve.is_object() || !curve.contains("x") || !curve.contains("y"))
      {
        figure.Fail("member \"series\" must be an array of {\"label\", \"x\", \"y\"} objects");
      }
      Series entry;
      entry.label = curve.contains("label") && curve["label"].is_string() ? curve["label"].get<std::string>() : "";
      entry.x = figure.NumbersOf(curve["x"], "series.x");
      entry.y = figure.NumbersOf(curve["y"], "series.y");
      series.push_back(std::move(entry));
    }
    RenderLineChart(png,
                    title,
                    figure.String("x_label", false),
                    figure.String("y_label", false),
                    series,
                    figure.Integer("width", 800),
                    figure.Integer("height", 600));
  }
  else if (type == "embedding")
  {
    RenderEmbedding(png,
                    title,
                    figure.Numbers("x"),
                    figure.Numbers("y"),
                    figure.Integers("group"),
                    figure.Strings("group_names"),
                    figure.Integer("width", 800),
                    figure.Integer("height", 700));
  }
  else if (type == "labelled_image")
  {
    RenderLabelledImage(
      png, title, ReadRGBImagePNG(figure.Path("image")), figure.Strings("row_labels"), figure.Numbers("row_centers"));
  }
  else
  {
    figure.Fail("has the unknown type \"" + type +
                "\"; the types are spatial_map, scatter, line_chart, embedding and labelled_image");
  }
}
} // namespace

void
FigureSpec::AddSpatialMap(const std::string & png, const std::string & title, const std::vector<double> & x,
                          const std::vector<double> & y, const std::vector<std::vector<double>> & panels,
                          const std::vector<std::string> & panelTitles, int width, int height)
{
  Json figure = Base("spatial_map", png, title);
  figure["x"] = Numbers(x);
  figure["y"] = Numbers(y);
  figure["panels"] = Json::array();
  for (const auto & panel : panels)
  {
    figure["panels"].push_back(Numbers(panel));
  }
  figure["panel_titles"] = panelTitles;
  figure["width"] = width;
  figure["height"] = height;
  m_Figures.push_back(figure.dump());
}

void
FigureSpec::AddScatter(const std::string & png, const std::string & title, const std::string & xLabel,
                       const std::string & yLabel, const std::vector<double> & x, const std::vector<double> & y,
                       bool diagonal, const std::vector<std::string> & pointLabels, int width, int height)
{
  Json figure = Base("scatter", png, title);
  figure["x_label"] = xLabel;
  figure["y_label"] = yLabel;
  figure["x"] = Numbers(x);
  figure["y"] = Numbers(y);
  figure["diagonal"] = diagonal;
  if (!pointLabels.empty())
  {
    figure["point_labels"] = pointLabels;
  }
  figure["width"] = width;
  figure["height"] = height;
  m_Figures.push_back(figure.dump());
}

void
FigureSpec::AddLineChart(const std::string & png, const std::string & title, const std::string & xLabel,
                         const std::string & yLabel, const std::vector<Series> & series, int width, int height)
{
  Json figure = Base("line_chart", png, title);
  figure["x_label"] = xLabel;
  figure["y_label"] = yLabel;
  figure["series"] = Json::array();
  for (const auto & curve : series)
  {
    figure["series"].push_back(Json{ { "label", curve.label }, { "x", Numbers(curve.x) }, { "y", Numbers(curve.y) } });
  }
  figure["width"] = width;
  figure["height"] = height;
  m_Figures.push_back(figure.dump());
}

void
FigureSpec::AddEmbedding(const std::string & png, const std::string & title, const std::vector<double> & x,
                         const std::vector<double> & y, const std::vector<int> & group,
                         const std::vector<std::string> & groupNames, int width, int height)
{
  Json figure = Base("embedding", png, title);
  figure["x"] = Numbers(x);
  figure["y"] = Numbers(y);
  figure["group"] = group;
  figure["group_names"] = groupNames;
  figure["width"] = width;
  figure["height"] = height;
  m_Figures.push_back(figure.dump());
}

void
FigureSpec::AddLabelledImage(const std::string & png, const std::string & title, const std::string & imagePng,
                             const std::vector<std::string> & rowLabels, const std::vector<double> & rowCenters)
{
  Json figure = Base("labelled_image", png, title);
  figure["image"] = imagePng;
  figure["row_labels"] = rowLabels;
  figure["row_centers"] = Numbers(rowCenters);
  m_Figures.push_back(figure.dump());
}

std::string
FigureSpec::ToJson() const
{
  std::string text = "[";
  for (std::size_t i = 0; i < m_Figures.size(); ++i)
  {
    text += (i == 0 ? "\n" : ",\n") + m_Figures[i];
  }
  return text + "\n]\n";
}

void
FigureSpec::Write(const std::string & specJsonFile) const
{
  WriteTextFileAtomically(specJsonFile, ToJson());
}

int
RenderFiguresFromSpec(const std::string & specJsonFile)
{
  const std::string problem = ReadableFileProblem(specJsonFile);
  if (!problem.empty())
  {
    throw ReportError("Cannot open the figure spec " + specJsonFile + ": " + problem);
  }
  std::ifstream stream(specJsonFile);
  Json          spec;
  try
  {
    spec = Json::parse(stream);
  }
  catch (const Json::exception & error)
  {
    throw ReportError("The figure spec " + specJsonFile + " is not valid JSON: " + error.what());
  }
  const Json & figures = spec.is_object() && spec.contains("figures") ? spec["figures"] : spec;
  if (!figures.is_array())
  {
    throw ReportError("The figure spec " + specJsonFile +
                      " must be an array of figures or an object with a \"figures\" array");
  }
  const std::size_t slash = specJsonFile.find_last_of('/');
  const std::string folder = slash == std::string::npos ? std::string() : specJsonFile.substr(0, slash + 1);
  int               rendered = 0;
  for (std::size_t i = 0; i < figures.size(); ++i)
  {
    RenderFigure(FigureReader(figures[i], i, folder));
    ++rendered;
  }
  return rendered;
}

} // namespace itk::report
