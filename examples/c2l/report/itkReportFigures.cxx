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

#include "itkReportFigures.h"

#include "itkAtomicFileWriting.h"

#include <vtkAxis.h>
#include <vtkBrush.h>
#include <vtkChartLegend.h>
#include <vtkChartXY.h>
#include <vtkContext2D.h>
#include <vtkContextItem.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkDoubleArray.h>
#include <vtkImageData.h>
#include <vtkMarkerUtilities.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPNGReader.h>
#include <vtkPNGWriter.h>
#include <vtkPen.h>
#include <vtkPlotLine.h>
#include <vtkPlotPoints.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace itk::report
{

std::array<double, 2>
PlotFrame::ToPixel(double x, double y) const
{
  const double column = columnAtXMin + (x - dataXMin) / (dataXMax - dataXMin) * (columnAtXMax - columnAtXMin);
  const double row = rowAtYMin + (y - dataYMin) / (dataYMax - dataYMin) * (rowAtYMax - rowAtYMin);
  return { column, row };
}

namespace
{
constexpr int           kTitleFontSize = 20;
constexpr int           kLabelFontSize = 16;
constexpr int           kTickFontSize = 13;
constexpr unsigned char kText[3] = { 20, 20, 20 };

// A scene item that paints with a callback: the figures whose layout VTK's charts do not offer
// (spatial panels, colour bar, labelled images, point labels) draw with vtkContext2D directly.
class PainterItem : public vtkContextItem
{
public:
  static PainterItem *
  New();
  vtkTypeMacro(PainterItem, vtkContextItem);

  std::function<void(vtkContext2D *)> Painter;

  bool
  Paint(vtkContext2D * painter) override
  {
    if (Painter)
    {
      Painter(painter);
    }
    return true;
  }
};
vtkStandardNewMacro(PainterItem);

void
RequireDisplay(const std::string & png)
{
  if (!DisplayAvailable())
  {
    const char * display = std::getenv("DISPLAY");
    throw ReportError("Cannot render " + png + ": no X display (DISPLAY=\"" + (display != nullptr ? display : "") +
                      "\" is unset, refuses connections or lacks GLX). "
                      "Run the program under `xvfb-run -a`, or write the figures with FigureSpec and render "
                      "them with RunUnderVirtualDisplay");
  }
}

void
RequireSize(const std::string & png, int width, int height)
{
  if (width < 64 || height < 64 || width > 8192 || height > 8192)
  {
    throw ReportError("Cannot render " + png + ": the size " + std::to_string(width) + " x " + std::to_string(height) +
                      " is outside 64 to 8192 pixels per side");
  }
}

void
RequireSameSize(const std::string & png, const char * what, std::size_t size, std::size_t expected)
{
  if (size != expected)
  {
    throw ReportError("Cannot render " + png + ": " + what + " has " + std::to_string(size) + " entries, expected " +
                      std::to_string(expected));
  }
}

void
WriteImageAtomically(vtkImageData * image, const std::string & png)
{
  // Checked here rather than left to vtkPNGWriter, which (VTK 9.1) leaks its libpng structures when
  // it cannot open the file.
  const auto folder = std::filesystem::path(png).parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder))
  {
    throw ReportError("Cannot write " + png + ": its folder does not exist");
  }
  const std::string    temporary = atomic_file::TemporaryNameFor(png);
  vtkNew<vtkPNGWriter> writer;
  writer->SetFileName(temporary.c_str());
  writer->SetInputData(image);
  writer->Write();
  if (writer->GetErrorCode() != 0 || access(temporary.c_str(), F_OK) != 0)
  {
    std::remove(temporary.c_str());
    throw ReportError("Cannot write " + png + ": check that its folder exists and is writable");
  }
  try
  {
    atomic_file::Commit(temporary, png, "the figure");
  }
  catch (const atomic_file::WriteError & e)
  {
    throw ReportError(e.what());
  }
}

// A white off-screen canvas of a given size in pixels; scene units are pixels, origin bottom left.
class Canvas
{
public:
  Canvas(const std::string & png, int width, int height)
    : m_Png(png)
    , m_Height(height)
  {
    RequireSize(png, width, height);
    RequireDisplay(png);
    m_View->GetRenderer()->SetBackground(1.0, 1.0, 1.0);
    vtkRenderWindow * window = m_View->GetRenderWindow();
    window->SetOffScreenRendering(1);
    window->SetSize(width, height);
    // Spot colours are data: no blending of neighbouring samples over them.
    window->SetMultiSamples(0);
  }

  vtkContextScene *
  Scene()
  {
    return m_View->GetScene();
  }

  void
  Render()
  {
    m_View->GetRenderWindow()->Render();
  }

  // Scene y (up) to image row (down).
  double
  Row(double sceneY) const
  {
    return m_Height - sceneY;
  }

  void
  Save()
  {
    vtkRenderWindow * window = m_View->GetRenderWindow();
    window->Render();
    vtkNew<vtkWindowToImageFilter> grab;
    grab->SetInput(window);
    grab->SetInputBufferTypeToRGB();
    grab->ReadFrontBufferOff();
    grab->Update();
    WriteImageAtomically(grab->GetOutput(), m_Png);
  }

private:
  std::string            m_Png;
  int                    m_Height;
  vtkNew<vtkContextView> m_View;
};

void
SetTextStyle(vtkTextProperty * text, int fontSize, bool bold)
{
  text->SetFontFamilyToArial();
  text->SetFontSize(fontSize);
  text->SetBold(bold);
  text->SetColor(kText[0] / 255.0, kText[1] / 255.0, kText[2] / 255.0);
}

void
DrawText(vtkContext2D * painter, double x, double y, const std::string & text, int fontSize, bool bold, int horizontal,
         int vertical)
{
  vtkTextProperty * property = painter->GetTextProp();
  SetTextStyle(property, fontSize, bold);
  property->SetJustification(horizontal);
  property->SetVerticalJustification(vertical);
  painter->DrawString(static_cast<float>(x), static_cast<float>(y), text);
}

std::string
FormatTick(double value, double step)
{
  // As many decimals as the step needs, and no "-0".
  const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
  if (std::abs(value) < step * 1e-6)
  {
    value = 0.0;
  }
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

// About count ticks at 1, 2 or 5 times a power of ten inside [low, high].
std::vector<double>
NiceTicks(double low, double high, int count, double & step)
{
  const double rough = (high - low) / std::max(count, 1);
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  const double fraction = rough / power;
  step = (fraction < 1.5 ? 1.0 : fraction < 3.5 ? 2.0 : fraction < 7.5 ? 5.0 : 10.0) * power;
  std::vector<double> ticks;
  for (double tick = std::ceil(low / step - 1e-9) * step; tick <= high + step * 1e-9; tick += step)
  {
    ticks.push_back(tick);
  }
  return ticks;
}

std::array<double, 2>
FiniteRange(const std::vector<double> & values)
{
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const double value : values)
  {
    if (std::isfinite(value))
    {
      low = std::min(low, value);
      high = std::max(high, value);
    }
  }
  return { low, high };
}

// A padded range that is never empty.
std::array<double, 2>
PaddedRange(double low, double high, double fraction)
{
  if (!(low <= high))
  {
    return { 0.0, 1.0 };
  }
  const double span = high - low;
  const double pad = span > 0.0 ? span * fraction : std::max(std::abs(low) * 0.1, 0.5);
  return { low - pad, high + pad };
}

// The median distance from a spot to its nearest neighbour (on up to 2000 spots), 0 for one spot.
double
MedianNearestNeighbourDistance(const std::vector<double> & x, const std::vector<double> & y)
{
  const std::size_t count = x.size();
  if (count < 2)
  {
    return 0.0;
  }
  const std::size_t   stride = std::max<std::size_t>(1, count / 2000);
  std::vector<double> nearest;
  for (std::size_t i = 0; i < count; i += stride)
  {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < count; ++j)
    {
      const double distance = std::hypot(x[i] - x[j], y[i] - y[j]);
      if (j != i && distance > 0.0)
      {
        best = std::min(best, distance);
      }
    }
    if (std::isfinite(best))
    {
      nearest.push_back(best);
    }
  }
  if (nearest.empty())
  {
    return 0.0;
  }
  std::nth_element(nearest.begin(), nearest.begin() + nearest.size() / 2, nearest.end());
  return nearest[nearest.size() / 2];
}

vtkSmartPointer<vtkTable>
MakeTable(const std::vector<double> & x, const std::vector<double> & y)
{
  auto                   table = vtkSmartPointer<vtkTable>::New();
  vtkNew<vtkDoubleArray> xColumn;
  xColumn->SetName("x");
  vtkNew<vtkDoubleArray> yColumn;
  yColumn->SetName("y");
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    if (std::isfinite(x[i]) && std::isfinite(y[i]))
    {
      xColumn->InsertNextValue(x[i]);
      yColumn->InsertNextValue(y[i]);
    }
  }
  table->AddColumn(xColumn);
  table->AddColumn(yColumn);
  return table;
}

void
StyleChart(vtkChartXY * chart, const std::string & title, const std::string & xLabel, const std::string & yLabel)
{
  chart->SetTitle(title);
  SetTextStyle(chart->GetTitleProperties(), kTitleFontSize, true);
  const std::pair<int, const std::string *> axes[] = { { vtkAxis::BOTTOM, &xLabel }, { vtkAxis::LEFT, &yLabel } };
  for (const auto & [location, label] : axes)
  {
    vtkAxis * axis = chart->GetAxis(location);
    axis->SetTitle(*label);
    SetTextStyle(axis->GetTitleProperties(), kLabelFontSize, true);
    SetTextStyle(axis->GetLabelProperties(), kTickFontSize, false);
    axis->GetPen()->SetColor(80, 80, 80);
    axis->GetGridPen()->SetColor(225, 225, 225);
  }
  SetTextStyle(chart->GetLegend()->GetLabelProperties(), kTickFontSize, false);
  chart->GetLegend()->GetBrush()->SetColor(255, 255, 255, 230);
}

// The legend right of the plot area, where it cannot hide data.
void
ShowLegendOutside(vtkChartXY * chart)
{
  chart->SetShowLegend(true);
  vtkChartLegend * legend = chart->GetLegend();
  legend->SetInline(false);
  legend->SetHorizontalAlignment(vtkChartLegend::RIGHT);
  legend->SetVerticalAlignment(vtkChartLegend::TOP);
}

void
FixAxisRange(vtkChartXY * chart, int location, std::array<double, 2> range)
{
  vtkAxis * axis = chart->GetAxis(location);
  axis->SetBehavior(vtkAxis::FIXED);
  axis->SetRange(range[0], range[1]);
}

PlotFrame
FrameOfChart(vtkChartXY * chart, const Canvas & canvas)
{
  vtkAxis * bottom = chart->GetAxis(vtkAxis::BOTTOM);
  vtkAxis * left = chart->GetAxis(vtkAxis::LEFT);
  PlotFrame frame;
  frame.dataXMin = bottom->GetMinimum();
  frame.dataXMax = bottom->GetMaximum();
  frame.dataYMin = left->GetMinimum();
  frame.dataYMax = left->GetMaximum();
  frame.columnAtXMin = bottom->GetPoint1()[0];
  frame.columnAtXMax = bottom->GetPoint2()[0];
  frame.rowAtYMin = canvas.Row(left->GetPoint1()[1]);
  frame.rowAtYMax = canvas.Row(left->GetPoint2()[1]);
  return frame;
}

vtkPlotPoints *
AddPoints(vtkChartXY * chart, vtkTable * table, ColorRGB color, unsigned char alpha, float markerSize,
          const std::string & label)
{
  auto * plot = vtkPlotPoints::SafeDownCast(chart->AddPlot(vtkChart::POINTS));
  plot->SetInputData(table, 0, 1);
  plot->SetColor(color[0], color[1], color[2], alpha);
  plot->SetMarkerStyle(vtkPlotPoints::CIRCLE);
  plot->SetMarkerSize(markerSize);
  plot->SetLabel(label);
  return plot;
}

vtkSmartPointer<vtkImageData>
ToVtkImage(const RGBImage & image)
{
  auto vtkImage = vtkSmartPointer<vtkImageData>::New();
  vtkImage->SetDimensions(image.width, image.height, 1);
  vtkImage->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  auto *            destination = static_cast<unsigned char *>(vtkImage->GetScalarPointer());
  const std::size_t rowBytes = static_cast<std::size_t>(image.width) * 3;
  // VTK's rows run bottom to top.
  for (int row = 0; row < image.height; ++row)
  {
    std::copy_n(image.rgb.data() + row * rowBytes, rowBytes, destination + (image.height - 1 - row) * rowBytes);
  }
  return vtkImage;
}
} // namespace

FigureGeometry
RenderSpatialMap(const std::string & png, const std::string & title, const std::vector<double> & x,
                 const std::vector<double> & y, const std::vector<std::vector<double>> & panels,
                 const std::vector<std::string> & panelTitles, int width, int height)
{
  RequireSameSize(png, "y", y.size(), x.size());
  if (panels.empty() || x.empty())
  {
    throw ReportError("Cannot render " + png + ": a spatial map needs at least one panel and one spot");
  }
  for (const auto & panel : panels)
  {
    RequireSameSize(png, "a panel", panel.size(), x.size());
  }
  if (!panelTitles.empty())
  {
    RequireSameSize(png, "panelTitles", panelTitles.size(), panels.size());
  }
  Canvas canvas(png, width, height);

  // Layout in scene pixels (y up): title band, panel titles, panels side by side, colour bar.
  const double margin = 16.0;
  const double titleBand = title.empty() ? margin : 48.0;
  const double panelTitleBand = 30.0;
  const double colorBarBand = 120.0;
  const int    panelCount = static_cast<int>(panels.size());
  const double panelWidth = (width - colorBarBand - margin * (panelCount + 1)) / panelCount;
  const double panelTop = height - titleBand - panelTitleBand;
  const double panelHeight = panelTop - margin;
  if (panelWidth < 16.0 || panelHeight < 16.0)
  {
    throw ReportError("Cannot render " + png + ": " + std::to_string(width) + " x " + std::to_string(height) +
                      " pixels leave no room for " + std::to_string(panelCount) + " panels; make the figure larger");
  }

  // Equal scales on both axes; the data box is padded by a spot radius so border spots stay whole.
  const double spacing = MedianNearestNeighbourDistance(x, y);
  const auto   xRange = FiniteRange(x);
  const auto   yRange = FiniteRange(y);
  if (!(xRange[0] <= xRange[1]) || !(yRange[0] <= yRange[1]))
  {
    throw ReportError("Cannot render " + png + ": no spot has finite coordinates");
  }
  const double span = std::max({ xRange[1] - xRange[0], yRange[1] - yRange[0], 1e-12 });
  const double pad = spacing > 0.0 ? 0.5 * spacing : 0.05 * span;
  const double xLow = xRange[0] - pad;
  const double yLow = yRange[0] - pad;
  const double dataWidth = xRange[1] - xRange[0] + 2.0 * pad;
  const double dataHeight = yRange[1] - yRange[0] + 2.0 * pad;
  const double scale = std::min(panelWidth / dataWidth, panelHeight / dataHeight);
  const double spotDiameter = std::clamp(spacing > 0.0 ? spacing * scale : 12.0, 2.0, 60.0);
  const double contentLeftInset = 0.5 * (panelWidth - dataWidth * scale);
  const double contentTopInset = 0.5 * (panelHeight - dataHeight * scale);

  std::vector<double> allValues;
  for (const auto & panel : panels)
  {
    allValues.insert(allValues.end(), panel.begin(), panel.end());
  }
  auto valueRange = FiniteRange(allValues);
  if (!(valueRange[0] <= valueRange[1]))
  {
    valueRange = { 0.0, 1.0 };
  }
  else if (valueRange[0] == valueRange[1])
  {
    valueRange = { valueRange[0] - 0.5, valueRange[0] + 0.5 };
  }
  const auto unitOf = [valueRange](double value) { return (value - valueRange[0]) / (valueRange[1] - valueRange[0]); };

  FigureGeometry                     geometry{ width, height, {} };
  std::vector<std::array<double, 2>> panelOrigins; // scene (left, top) of each panel's data box
  for (int p = 0; p < panelCount; ++p)
  {
    const double left = margin + p * (panelWidth + margin) + contentLeftInset;
    const double top = panelTop - contentTopInset;
    panelOrigins.push_back({ left, top });
    PlotFrame frame;
    frame.dataXMin = xLow;
    frame.dataXMax = xLow + dataWidth;
    frame.dataYMin = yLow;
    frame.dataYMax = yLow + dataHeight;
    frame.columnAtXMin = left;
    frame.columnAtXMax = left + dataWidth * scale;
    frame.rowAtYMin = canvas.Row(top);
    frame.rowAtYMax = canvas.Row(top - dataHeight * scale);
    geometry.frames.push_back(frame);
  }

  vtkNew<PainterItem> item;
  item->Painter = [&](vtkContext2D * painter) {
    DrawText(painter,
             0.5 * (width - colorBarBand),
             height - 0.5 * titleBand,
             title,
             kTitleFontSize,
             true,
             VTK_TEXT_CENTERED,
             VTK_TEXT_CENTERED);
    for (int p = 0; p < panelCount; ++p)
    {
      const double boxLeft = margin + p * (panelWidth + margin);
      // A light frame shows the panel's extent.
      painter->GetPen()->SetColor(200, 200, 200);
      painter->GetPen()->SetWidth(1.0f);
      painter->GetBrush()->SetColor(255, 255, 255, 0);
      painter->DrawRect(boxLeft, margin, panelWidth, panelHeight);
      if (!panelTitles.empty())
      {
        DrawText(painter,
                 boxLeft + 0.5 * panelWidth,
                 panelTop + 0.5 * panelTitleBand,
                 panelTitles[p],
                 kLabelFontSize,
                 true,
                 VTK_TEXT_CENTERED,
                 VTK_TEXT_CENTERED);
      }
      std::vector<float>         points;
      std::vector<unsigned char> colors;
      for (std::size_t i = 0; i < x.size(); ++i)
      {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
        {
          continue;
        }
        const double value = panels[p][i];
        const auto   color = std::isfinite(value) ? Viridis(unitOf(value)) : ColorRGB{ 190, 190, 190 };
        points.push_back(static_cast<float>(panelOrigins[p][0] + (x[i] - xLow) * scale));
        points.push_back(static_cast<float>(panelOrigins[p][1] - (y[i] - yLow) * scale));
        colors.insert(colors.end(), color.begin(), color.end());
      }
      painter->GetPen()->SetWidth(static_cast<float>(spotDiameter));
      painter->DrawMarkers(
        VTK_MARKER_CIRCLE, false, points.data(), static_cast<int>(points.size() / 2), colors.data(), 3);
    }

    // The colour bar, bottom (low) to top (high), with ticks at round values.
    const double  barLeft = width - colorBarBand + 16.0;
    const double  barWidth = 22.0;
    const double  barBottom = margin + 0.1 * panelHeight;
    const double  barHeight = 0.8 * panelHeight;
    constexpr int steps = 256;
    painter->GetPen()->SetLineType(vtkPen::NO_PEN);
    for (int s = 0; s < steps; ++s)
    {
      const auto color = Viridis((s + 0.5) / steps);
      painter->GetBrush()->SetColor(color[0], color[1], color[2], 255);
      painter->DrawRect(barLeft, barBottom + barHeight * s / steps, barWidth, barHeight / steps + 0.5);
    }
    painter->GetPen()->SetLineType(vtkPen::SOLID_LINE);
    painter->GetPen()->SetColor(80, 80, 80);
    painter->GetPen()->SetWidth(1.0f);
    painter->GetBrush()->SetColor(255, 255, 255, 0);
    painter->DrawRect(barLeft, barBottom, barWidth, barHeight);
    double     step = 1.0;
    const auto ticks = NiceTicks(valueRange[0], valueRange[1], 5, step);
    for (const double tick : ticks)
    {
      const double tickY = barBottom + barHeight * unitOf(tick);
      painter->DrawLine(barLeft + barWidth, tickY, barLeft + barWidth + 5.0, tickY);
      DrawText(painter,
               barLeft + barWidth + 8.0,
               tickY,
               FormatTick(tick, step),
               kTickFontSize,
               false,
               VTK_TEXT_LEFT,
               VTK_TEXT_CENTERED);
    }
  };
  canvas.Scene()->AddItem(item);
  canvas.Save();
  return geometry;
}

FigureGeometry
RenderScatter(const std::string & png, const std::string & title, const std::string & xLabel,
              const std::string & yLabel, const std::vector<double> & x, const std::vector<double> & y, bool diagonal,
              const std::vector<std::string> & pointLabels, int width, int height)
{
  RequireSameSize(png, "y", y.size(), x.size());
  if (!pointLabels.empty())
  {
    RequireSameSize(png, "pointLabels", pointLabels.size(), x.size());
  }
  Canvas             canvas(png, width, height);
  vtkNew<vtkChartXY> chart;
  canvas.Scene()->AddItem(chart);
  StyleChart(chart, title, xLabel, yLabel);

  // One range for both axes, so that the diagonal is at 45 degrees and the comparison is fair.
  const auto xRange = FiniteRange(x);
  const auto yRange = FiniteRange(y);
  const auto range = PaddedRange(std::min(xRange[0], yRange[0]), std::max(xRange[1], yRange[1]), 0.05);
  FixAxisRange(chart, vtkAxis::BOTTOM, range);
  FixAxisRange(chart, vtkAxis::LEFT, range);

  if (diagonal)
  {
    auto * line = vtkPlotLine::SafeDownCast(chart->AddPlot(vtkChart::LINE));
    line->SetInputData(MakeTable({ range[0], range[1] }, { range[0], range[1] }), 0, 1);
    line->SetColor(130, 130, 130, 255);
    line->SetWidth(2.0f);
    line->SetMarkerStyle(vtkPlotPoints::NONE);
    line->SetLabel("y = x");
  }
  std::vector<double>      plainX;
  std::vector<double>      plainY;
  std::vector<double>      labelledX;
  std::vector<double>      labelledY;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    if (!pointLabels.empty() && !pointLabels[i].empty())
    {
      labelledX.push_back(x[i]);
      labelledY.push_back(y[i]);
      labels.push_back(pointLabels[i]);
    }
    else
    {
      plainX.push_back(x[i]);
      plainY.push_back(y[i]);
    }
  }
  AddPoints(chart, MakeTable(plainX, plainY), CategoricalColor(0), 170, 7.0f, "points");
  if (!labels.empty())
  {
    AddPoints(chart, MakeTable(labelledX, labelledY), CategoricalColor(3), 255, 9.0f, "labelled");
  }

  // Labels beside their points, placed from the axes as laid out in this very paint.
  vtkNew<PainterItem> annotations;
  annotations->Painter = [&](vtkContext2D * painter) {
    const PlotFrame frame = FrameOfChart(chart, canvas);
    if (diagonal)
    {
      // Below and right of the line, which rises away from the text.
      const double along = range[0] + 0.88 * (range[1] - range[0]);
      const auto   pixel = frame.ToPixel(along, along);
      DrawText(painter,
               pixel[0] + 8.0,
               canvas.Row(pixel[1]) - 4.0,
               "y = x",
               kTickFontSize,
               false,
               VTK_TEXT_LEFT,
               VTK_TEXT_TOP);
    }
    for (std::size_t i = 0; i < labels.size(); ++i)
    {
      const auto pixel = frame.ToPixel(labelledX[i], labelledY[i]);
      DrawText(painter,
               pixel[0] + 7.0,
               canvas.Row(pixel[1]) + 5.0,
               labels[i],
               kTickFontSize,
               false,
               VTK_TEXT_LEFT,
               VTK_TEXT_BOTTOM);
    }
  };
  canvas.Scene()->AddItem(annotations);
  canvas.Save();
  return { width, height, { FrameOfChart(chart, canvas) } };
}

FigureGeometry
RenderLineChart(const std::string & png, const std::string & title, const std::string & xLabel,
                const std::string & yLabel, const std::vector<Series> & series, int width, int height)
{
  if (series.empty())
  {
    throw ReportError("Cannot render " + png + ": a line chart needs at least one series");
  }
  std::vector<double> allX;
  std::vector<double> allY;
  for (const auto & curve : series)
  {
    RequireSameSize(png, ("series \"" + curve.label + "\" y").c_str(), curve.y.size(), curve.x.size());
    allX.insert(allX.end(), curve.x.begin(), curve.x.end());
    allY.insert(allY.end(), curve.y.begin(), curve.y.end());
  }
  Canvas             canvas(png, width, height);
  vtkNew<vtkChartXY> chart;
  canvas.Scene()->AddItem(chart);
  StyleChart(chart, title, xLabel, yLabel);
  const auto xRange = FiniteRange(allX);
  const auto yRange = FiniteRange(allY);
  FixAxisRange(chart, vtkAxis::BOTTOM, PaddedRange(xRange[0], xRange[1], 0.05));
  FixAxisRange(chart, vtkAxis::LEFT, PaddedRange(yRange[0], yRange[1], 0.08));
  for (std::size_t s = 0; s < series.size(); ++s)
  {
    const auto color = CategoricalColor(static_cast<int>(s));
    auto *     line = vtkPlotLine::SafeDownCast(chart->AddPlot(vtkChart::LINE));
    line->SetInputData(MakeTable(series[s].x, series[s].y), 0, 1);
    line->SetColor(color[0], color[1], color[2], 255);
    line->SetWidth(2.5f);
    line->SetMarkerStyle(vtkPlotPoints::CIRCLE);
    line->SetMarkerSize(9.0f);
    line->SetLabel(series[s].label);
  }
  ShowLegendOutside(chart);
  canvas.Save();
  return { width, height, { FrameOfChart(chart, canvas) } };
}

FigureGeometry
RenderEmbedding(const std::string & png, const std::string & title, const std::vector<double> & x,
                const std::vector<double> & y, const std::vector<int> & group,
                const std::vector<std::string> & groupNames, int width, int height)
{
  RequireSameSize(png, "y", y.size(), x.size());
  RequireSameSize(png, "group", group.size(), x.size());
  for (const int g : group)
  {
    if (g < 0 || g >= static_cast<int>(groupNames.size()))
    {
      throw ReportError("Cannot render " + png + ": group " + std::to_string(g) + " has no name (" +
                        std::to_string(groupNames.size()) + " group names)");
    }
  }
  Canvas             canvas(png, width, height);
  vtkNew<vtkChartXY> chart;
  canvas.Scene()->AddItem(chart);
  StyleChart(chart, title, "component 1", "component 2");
  const auto xRange = FiniteRange(x);
  const auto yRange = FiniteRange(y);
  FixAxisRange(chart, vtkAxis::BOTTOM, PaddedRange(xRange[0], xRange[1], 0.05));
  FixAxisRange(chart, vtkAxis::LEFT, PaddedRange(yRange[0], yRange[1], 0.05));
  for (std::size_t g = 0; g < groupNames.size(); ++g)
  {
    std::vector<double> groupX;
    std::vector<double> groupY;
    for (std::size_t i = 0; i < x.size(); ++i)
    {
      if (group[i] == static_cast<int>(g))
      {
        groupX.push_back(x[i]);
        groupY.push_back(y[i]);
      }
    }
    AddPoints(chart, MakeTable(groupX, groupY), CategoricalColor(static_cast<int>(g)), 190, 7.0f, groupNames[g]);
  }
  ShowLegendOutside(chart);
  canvas.Save();
  return { width, height, { FrameOfChart(chart, canvas) } };
}

FigureGeometry
RenderLabelledImage(const std::string & png, const std::string & title, const RGBImage & image,
                    const std::vector<std::string> & rowLabels, const std::vector<double> & rowCenters)
{
  RequireSameSize(png, "rowCenters", rowCenters.size(), rowLabels.size());
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<std::size_t>(image.width) * image.height * 3)
  {
    throw ReportError("Cannot render " + png + ": the image is empty or its pixel data do not match its size");
  }
  std::size_t longestLabel = 0;
  for (const auto & label : rowLabels)
  {
    longestLabel = std::max(longestLabel, label.size());
  }
  // Arial averages about 0.6 em per character.
  const double margin = 16.0;
  const double labelBand = rowLabels.empty() ? margin : 2.0 * margin + 0.6 * kLabelFontSize * longestLabel;
  const double titleBand = title.empty() ? margin : 48.0;
  const int    width = std::max(static_cast<int>(std::ceil(labelBand + image.width + margin)), 64);
  const int    height = std::max(static_cast<int>(std::ceil(titleBand + image.height + margin)), 64);
  Canvas       canvas(png, width, height);
  const auto   vtkImage = ToVtkImage(image);
  const double imageTop = height - titleBand;

  vtkNew<PainterItem> item;
  item->Painter = [&](vtkContext2D * painter) {
    DrawText(painter,
             0.5 * width,
             height - 0.5 * titleBand,
             title,
             kTitleFontSize,
             true,
             VTK_TEXT_CENTERED,
             VTK_TEXT_CENTERED);
    painter->DrawImage(static_cast<float>(labelBand), static_cast<float>(imageTop - image.height), vtkImage);
    for (std::size_t r = 0; r < rowLabels.size(); ++r)
    {
      DrawText(painter,
               labelBand - margin,
               imageTop - rowCenters[r],
               rowLabels[r],
               kLabelFontSize,
               false,
               VTK_TEXT_RIGHT,
               VTK_TEXT_CENTERED);
    }
  };
  canvas.Scene()->AddItem(item);
  canvas.Save();
  PlotFrame frame;
  frame.dataXMin = 0.0;
  frame.dataXMax = image.width;
  frame.dataYMin = 0.0;
  frame.dataYMax = image.height;
  frame.columnAtXMin = labelBand;
  frame.columnAtXMax = labelBand + image.width;
  frame.rowAtYMin = titleBand;
  frame.rowAtYMax = titleBand + image.height;
  return { width, height, { frame } };
}

void
WriteRGBImagePNG(const std::string & png, int width, int height, const std::vector<unsigned char> & rgb)
{
  if (width <= 0 || height <= 0 || rgb.size() != static_cast<std::size_t>(width) * height * 3)
  {
    throw ReportError("Cannot write " + png + ": " + std::to_string(rgb.size()) + " bytes do not make a " +
                      std::to_string(width) + " x " + std::to_string(height) + " RGB image");
  }
  WriteImageAtomically(ToVtkImage(RGBImage{ width, height, rgb }), png);
}

RGBImage
ReadRGBImagePNG(const std::string & png)
{
  vtkNew<vtkPNGReader> reader;
  if (access(png.c_str(), R_OK) != 0 || reader->CanReadFile(png.c_str()) == 0)
  {
    throw ReportError("Cannot read " + png + ": it is missing or not a PNG");
  }
  reader->SetFileName(png.c_str());
  reader->Update();
  vtkImageData * image = reader->GetOutput();
  int            dimensions[3];
  image->GetDimensions(dimensions);
  const int components = image->GetNumberOfScalarComponents();
  if (image->GetScalarType() != VTK_UNSIGNED_CHAR || components < 1 || components > 4)
  {
    throw ReportError("Cannot read " + png + ": only 8-bit grey, grey-alpha, RGB and RGBA PNGs are supported");
  }
  RGBImage result{ dimensions[0], dimensions[1], {} };
  result.rgb.resize(static_cast<std::size_t>(result.width) * result.height * 3);
  const auto * source = static_cast<const unsigned char *>(image->GetScalarPointer());
  for (int row = 0; row < result.height; ++row)
  {
    const unsigned char * sourceRow =
      source + static_cast<std::size_t>(result.height - 1 - row) * result.width * components;
    unsigned char * destinationRow = result.rgb.data() + static_cast<std::size_t>(row) * result.width * 3;
    for (int column = 0; column < result.width; ++column)
    {
      for (int channel = 0; channel < 3; ++channel)
      {
        destinationRow[column * 3 + channel] = sourceRow[column * components + (components < 3 ? 0 : channel)];
      }
    }
  }
  return result;
}

PatchGridLayout
PatchGrid(const std::vector<std::vector<RGBImage>> & rows, int gap, int rowsPerGroup)
{
  if (rows.empty() || gap < 0 || rowsPerGroup < 1)
  {
    throw ReportError("PatchGrid needs at least one row, a gap >= 0 and rowsPerGroup >= 1");
  }
  const RGBImage * first = nullptr;
  std::size_t      columns = 0;
  for (const auto & row : rows)
  {
    columns = std::max(columns, row.size());
    if (first == nullptr && !row.empty())
    {
      first = &row.front();
    }
  }
  if (first == nullptr || first->width <= 0 || first->height <= 0)
  {
    throw ReportError("PatchGrid needs at least one non-empty patch");
  }
  const int patchWidth = first->width;
  const int patchHeight = first->height;
  for (const auto & row : rows)
  {
    for (const auto & patch : row)
    {
      if (patch.width != patchWidth || patch.height != patchHeight ||
          patch.rgb.size() != static_cast<std::size_t>(patchWidth) * patchHeight * 3)
      {
        throw ReportError("PatchGrid: every patch must be " + std::to_string(patchWidth) + " x " +
                          std::to_string(patchHeight) + " RGB like the first; one is " + std::to_string(patch.width) +
                          " x " + std::to_string(patch.height) + " with " + std::to_string(patch.rgb.size()) +
                          " bytes");
      }
    }
  }
  const int       rowCount = static_cast<int>(rows.size());
  const int       groupGaps = (rowCount - 1) / rowsPerGroup;
  PatchGridLayout layout;
  layout.image.width = static_cast<int>(columns) * patchWidth + (static_cast<int>(columns) + 1) * gap;
  layout.image.height = rowCount * patchHeight + (rowCount + 1) * gap + groupGaps * 2 * gap;
  layout.image.rgb.assign(static_cast<std::size_t>(layout.image.width) * layout.image.height * 3, 255);
  int top = gap;
  for (int r = 0; r < rowCount; ++r)
  {
    if (r > 0 && r % rowsPerGroup == 0)
    {
      top += 2 * gap;
    }
    layout.rowCenters.push_back(top + 0.5 * patchHeight);
    for (std::size_t c = 0; c < rows[r].size(); ++c)
    {
      const int left = gap + static_cast<int>(c) * (patchWidth + gap);
      for (int line = 0; line < patchHeight; ++line)
      {
        std::copy_n(rows[r][c].rgb.data() + static_cast<std::size_t>(line) * patchWidth * 3,
                    patchWidth * 3,
                    layout.image.rgb.data() + (static_cast<std::size_t>(top + line) * layout.image.width + left) * 3);
      }
    }
    top += patchHeight + gap;
  }
  return layout;
}

} // namespace itk::report
