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

// The report figures, read back from their PNG files: size, white background, the colour map's
// colour at each spot's projected position, the y = x line, series and group colours, labelled
// images; and the pieces that need no display (colour maps, PNG round trip, patch grids).

#include "itkReportFigures.h"

#include <gtest/gtest.h>

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace
{
using itk::report::ColorRGB;
using itk::report::RGBImage;

#define REQUIRE_DISPLAY()                                                                                              \
  if (!itk::report::DisplayAvailable())                                                                                \
  {                                                                                                                    \
    GTEST_SKIP() << "No X display with GLX: run under `xvfb-run -a` (ctest does so when xvfb-run exists)";             \
  }

std::string
OutputPath(const std::string & name)
{
  return std::string(REPORT_TEST_OUTPUT) + "/" + name;
}

ColorRGB
PixelAt(const RGBImage & image, double column, double row)
{
  const int    c = static_cast<int>(std::floor(column));
  const int    r = static_cast<int>(std::floor(row));
  const auto * pixel = image.rgb.data() + (static_cast<std::size_t>(r) * image.width + c) * 3;
  return { pixel[0], pixel[1], pixel[2] };
}

int
ColorDistance(const ColorRGB & a, const ColorRGB & b)
{
  int distance = 0;
  for (int channel = 0; channel < 3; ++channel)
  {
    distance = std::max(distance, std::abs(int(a[channel]) - int(b[channel])));
  }
  return distance;
}

// Whether a pixel within radius of (column, row) has the colour, within tolerance.
bool
ColorNear(const RGBImage & image, double column, double row, const ColorRGB & color, int tolerance, int radius)
{
  for (int dr = -radius; dr <= radius; ++dr)
  {
    for (int dc = -radius; dc <= radius; ++dc)
    {
      const double c = column + dc;
      const double r = row + dr;
      if (c >= 0 && r >= 0 && c < image.width && r < image.height &&
          ColorDistance(PixelAt(image, c, r), color) <= tolerance)
      {
        return true;
      }
    }
  }
  return false;
}

std::size_t
NonWhitePixels(const RGBImage & image)
{
  std::size_t count = 0;
  for (std::size_t i = 0; i < image.rgb.size(); i += 3)
  {
    count += (image.rgb[i] < 250 || image.rgb[i + 1] < 250 || image.rgb[i + 2] < 250) ? 1 : 0;
  }
  return count;
}

// A colour drawn with opacity alpha over white.
ColorRGB
OverWhite(const ColorRGB & color, int alpha)
{
  ColorRGB blended{};
  for (int channel = 0; channel < 3; ++channel)
  {
    blended[channel] = static_cast<unsigned char>(std::lround(255.0 + (color[channel] - 255.0) * alpha / 255.0));
  }
  return blended;
}

// Sets or clears DISPLAY for one scope.
class DisplayOverride
{
public:
  explicit DisplayOverride(const char * value)
  {
    if (const char * current = std::getenv("DISPLAY"))
    {
      m_Saved = current;
      m_HadValue = true;
    }
    if (value == nullptr)
    {
      unsetenv("DISPLAY");
    }
    else
    {
      setenv("DISPLAY", value, 1);
    }
  }
  ~DisplayOverride()
  {
    if (m_HadValue)
    {
      setenv("DISPLAY", m_Saved.c_str(), 1);
    }
    else
    {
      unsetenv("DISPLAY");
    }
  }

private:
  std::string m_Saved;
  bool        m_HadValue = false;
};

RGBImage
SolidPatch(int width, int height, ColorRGB color)
{
  RGBImage patch{ width, height, {} };
  for (int i = 0; i < width * height; ++i)
  {
    patch.rgb.insert(patch.rgb.end(), color.begin(), color.end());
  }
  return patch;
}
} // namespace

TEST(ReportFigures, ViridisMatchesMatplotlib)
{
  // matplotlib.cm.viridis at 0, 128/255 and 1, times 255.
  EXPECT_LE(ColorDistance(itk::report::Viridis(0.0), { 68, 1, 84 }), 1);
  EXPECT_LE(ColorDistance(itk::report::Viridis(128.0 / 255.0), { 33, 145, 140 }), 1);
  EXPECT_LE(ColorDistance(itk::report::Viridis(1.0), { 253, 231, 37 }), 1);
  // Clamped outside [0, 1]; NaN is the low end.
  EXPECT_EQ(itk::report::Viridis(-3.0), itk::report::Viridis(0.0));
  EXPECT_EQ(itk::report::Viridis(7.0), itk::report::Viridis(1.0));
  EXPECT_EQ(itk::report::Viridis(std::nan("")), itk::report::Viridis(0.0));
  // Lightness grows monotonically (a perceptual map): the green channel rises from end to end.
  for (int i = 1; i <= 100; ++i)
  {
    EXPECT_GE(itk::report::Viridis(i / 100.0)[1], itk::report::Viridis((i - 1) / 100.0)[1]);
  }
}

TEST(ReportFigures, CategoricalColorsAreDistinctAndCycle)
{
  for (int i = 0; i < 8; ++i)
  {
    for (int j = i + 1; j < 8; ++j)
    {
      EXPECT_GT(ColorDistance(itk::report::CategoricalColor(i), itk::report::CategoricalColor(j)), 30) << i << " " << j;
    }
  }
  EXPECT_EQ(itk::report::CategoricalColor(8), itk::report::CategoricalColor(0));
  EXPECT_EQ(itk::report::CategoricalColor(-1), itk::report::CategoricalColor(7));
}

TEST(ReportFigures, WriteRGBImagePNGKeepsRowsTopToBottom)
{
  // Top row red, bottom row blue, 3 x 2.
  const std::vector<unsigned char> rgb{ 255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255 };
  const std::string                png = OutputPath("rows.png");
  itk::report::WriteRGBImagePNG(png, 3, 2, rgb);

  // VTK's reader is the reference: its images start at the bottom row.
  vtkNew<vtkPNGReader> reader;
  reader->SetFileName(png.c_str());
  reader->Update();
  vtkImageData * image = reader->GetOutput();
  int            dimensions[3];
  image->GetDimensions(dimensions);
  ASSERT_EQ(dimensions[0], 3);
  ASSERT_EQ(dimensions[1], 2);
  ASSERT_EQ(image->GetNumberOfScalarComponents(), 3);
  const auto * bottom = static_cast<unsigned char *>(image->GetScalarPointer(0, 0, 0));
  const auto * top = static_cast<unsigned char *>(image->GetScalarPointer(0, 1, 0));
  EXPECT_EQ(ColorRGB({ bottom[0], bottom[1], bottom[2] }), ColorRGB({ 0, 0, 255 }));
  EXPECT_EQ(ColorRGB({ top[0], top[1], top[2] }), ColorRGB({ 255, 0, 0 }));

  const RGBImage readBack = itk::report::ReadRGBImagePNG(png);
  EXPECT_EQ(readBack.width, 3);
  EXPECT_EQ(readBack.height, 2);
  EXPECT_EQ(readBack.rgb, rgb);
}

TEST(ReportFigures, PngInputErrorsThrow)
{
  EXPECT_THROW(itk::report::WriteRGBImagePNG(OutputPath("bad.png"), 2, 2, { 1, 2, 3 }), itk::report::ReportError);
  EXPECT_THROW(itk::report::WriteRGBImagePNG(OutputPath("no-such-folder/a.png"), 1, 1, { 1, 2, 3 }),
               itk::report::ReportError);
  EXPECT_THROW(itk::report::ReadRGBImagePNG(OutputPath("missing.png")), itk::report::ReportError);
}

TEST(ReportFigures, PatchGridPlacesPatchesWithGapsAndGroupGaps)
{
  const ColorRGB red{ 255, 0, 0 };
  const ColorRGB blue{ 0, 0, 255 };
  // Two groups of (real row, synthetic row); the last row is short.
  const auto layout = itk::report::PatchGrid({ { SolidPatch(4, 3, red), SolidPatch(4, 3, red) },
                                               { SolidPatch(4, 3, blue), SolidPatch(4, 3, blue) },
                                               { SolidPatch(4, 3, red), SolidPatch(4, 3, red) },
                                               { SolidPatch(4, 3, blue) } },
                                             2,
                                             2);
  // Width: 2 patches + 3 gaps; height: 4 rows + 5 gaps + one group gap of 2 extra gaps.
  EXPECT_EQ(layout.image.width, 2 * 4 + 3 * 2);
  EXPECT_EQ(layout.image.height, 4 * 3 + 5 * 2 + 2 * 2);
  ASSERT_EQ(layout.rowCenters.size(), 4u);
  EXPECT_DOUBLE_EQ(layout.rowCenters[0], 2 + 1.5);
  EXPECT_DOUBLE_EQ(layout.rowCenters[1], 2 + 3 + 2 + 1.5);
  EXPECT_DOUBLE_EQ(layout.rowCenters[2], 2 + 3 + 2 + 3 + 2 + 4 + 1.5);
  // Patch pixels, gaps white, the missing last patch white.
  EXPECT_EQ(PixelAt(layout.image, 2, 2), red);
  EXPECT_EQ(PixelAt(layout.image, 8 + 3, 2 + 2), red);
  EXPECT_EQ(PixelAt(layout.image, 7, 3), ColorRGB({ 255, 255, 255 }));
  EXPECT_EQ(PixelAt(layout.image, 2, layout.rowCenters[1]), blue);
  EXPECT_EQ(PixelAt(layout.image, 2, layout.rowCenters[2]), red);
  EXPECT_EQ(PixelAt(layout.image, 2, layout.rowCenters[2] - 3), ColorRGB({ 255, 255, 255 }));
  EXPECT_EQ(PixelAt(layout.image, 10, layout.rowCenters[3]), ColorRGB({ 255, 255, 255 }));

  EXPECT_THROW(itk::report::PatchGrid({}), itk::report::ReportError);
  EXPECT_THROW(itk::report::PatchGrid({ { SolidPatch(4, 3, red), SolidPatch(3, 3, red) } }), itk::report::ReportError);
}

TEST(ReportFigures, DisplayAvailableIsFalseWithoutAReachableServer)
{
  {
    const DisplayOverride unset(nullptr);
    EXPECT_FALSE(itk::report::DisplayAvailable());
  }
  {
    const DisplayOverride unreachable(":4711");
    EXPECT_FALSE(itk::report::DisplayAvailable());
  }
}

TEST(ReportFigures, RenderingWithoutDisplayThrowsInsteadOfAborting)
{
  const DisplayOverride unset(nullptr);
  EXPECT_THROW(itk::report::RenderScatter(OutputPath("nodisplay.png"), "t", "x", "y", { 1.0 }, { 1.0 }, true),
               itk::report::ReportError);
}

TEST(ReportFigures, BadFigureInputThrows)
{
  EXPECT_THROW(
    itk::report::RenderSpatialMap(OutputPath("bad.png"), "t", { 0.0, 1.0 }, { 0.0 }, { { 1.0, 2.0 } }, {}, 400, 300),
    itk::report::ReportError);
  EXPECT_THROW(
    itk::report::RenderSpatialMap(OutputPath("bad.png"), "t", { 0.0 }, { 0.0 }, { { 1.0, 2.0 } }, {}, 400, 300),
    itk::report::ReportError);
  EXPECT_THROW(itk::report::RenderScatter(OutputPath("bad.png"), "t", "x", "y", { 1.0, 2.0 }, { 1.0 }, false),
               itk::report::ReportError);
  EXPECT_THROW(itk::report::RenderLineChart(OutputPath("bad.png"), "t", "x", "y", {}), itk::report::ReportError);
  EXPECT_THROW(itk::report::RenderEmbedding(OutputPath("bad.png"), "t", { 0.0 }, { 0.0 }, { 2 }, { "a", "b" }),
               itk::report::ReportError);
}

TEST(ReportFigures, SpatialMapColorsEachSpotByTheSharedScaleWithYDown)
{
  REQUIRE_DISPLAY();
  const std::string png = OutputPath("spatial.png");
  // Spot 0: minimum, spot 1: maximum, spot 2: the middle of the range, spot 3: missing (NaN).
  const std::vector<double> x{ 0.0, 10.0, 0.0, 10.0 };
  const std::vector<double> y{ 0.0, 0.0, 10.0, 10.0 };
  const std::vector<double> truth{ 1.0, 3.0, 2.0, std::nan("") };
  const std::vector<double> prediction{ 3.0, 1.0, 2.0, 2.0 };
  const auto                geometry =
    itk::report::RenderSpatialMap(png, "ERBB2", x, y, { truth, prediction }, { "truth", "prediction" }, 900, 420);
  const RGBImage image = itk::report::ReadRGBImagePNG(png);
  ASSERT_EQ(image.width, 900);
  ASSERT_EQ(image.height, 420);
  ASSERT_EQ(geometry.frames.size(), 2u);
  EXPECT_EQ(PixelAt(image, 2, 2), ColorRGB({ 255, 255, 255 }));

  const ColorRGB low = itk::report::Viridis(0.0);
  const ColorRGB high = itk::report::Viridis(1.0);
  const ColorRGB middle = itk::report::Viridis(0.5);
  const ColorRGB grey{ 190, 190, 190 };
  const auto     expectSpot = [&](int panel, int spot, const ColorRGB & color) {
    const auto pixel = geometry.frames[panel].ToPixel(x[spot], y[spot]);
    EXPECT_LE(ColorDistance(PixelAt(image, pixel[0], pixel[1]), color), 2)
      << "panel " << panel << " spot " << spot << " at " << pixel[0] << ", " << pixel[1];
  };
  expectSpot(0, 0, low);
  expectSpot(0, 1, high);
  expectSpot(0, 2, middle);
  expectSpot(0, 3, grey);
  // The second panel shares the first one's scale.
  expectSpot(1, 0, high);
  expectSpot(1, 1, low);
  expectSpot(1, 3, middle);
  // y grows downwards, x rightwards, panels left to right.
  const auto top = geometry.frames[0].ToPixel(0.0, 0.0);
  const auto bottom = geometry.frames[0].ToPixel(0.0, 10.0);
  const auto right = geometry.frames[0].ToPixel(10.0, 0.0);
  EXPECT_LT(top[1], bottom[1]);
  EXPECT_LT(top[0], right[0]);
  EXPECT_LT(geometry.frames[0].ToPixel(10.0, 0.0)[0], geometry.frames[1].ToPixel(0.0, 0.0)[0]);
  // Equal scales: the square of spots stays square.
  EXPECT_NEAR(right[0] - top[0], bottom[1] - top[1], 1.0);
}

TEST(ReportFigures, ScatterDrawsTheDiagonalAndThePoints)
{
  REQUIRE_DISPLAY();
  const std::string         png = OutputPath("scatter.png");
  const std::vector<double> x{ 0.1, 0.5, 0.2 };
  const std::vector<double> y{ 0.4, 0.15, 0.5 };
  const auto                geometry = itk::report::RenderScatter(
    png, "Gene-wise MAE", "real only", "co-trained", x, y, true, { "", "ERBB2", "" }, 600, 500);
  const RGBImage image = itk::report::ReadRGBImagePNG(png);
  ASSERT_EQ(image.width, 600);
  ASSERT_EQ(image.height, 500);
  const auto & frame = geometry.frames.at(0);
  // Equal axis ranges, covering every point.
  EXPECT_DOUBLE_EQ(frame.dataXMin, frame.dataYMin);
  EXPECT_DOUBLE_EQ(frame.dataXMax, frame.dataYMax);
  EXPECT_LE(frame.dataXMin, 0.1);
  EXPECT_GE(frame.dataXMax, 0.5);
  // The y = x line, grey, along its length.
  for (double t = 0.1; t <= 0.9; t += 0.1)
  {
    const double v = frame.dataXMin + t * (frame.dataXMax - frame.dataXMin);
    const auto   pixel = frame.ToPixel(v, v);
    EXPECT_TRUE(ColorNear(image, pixel[0], pixel[1], { 130, 130, 130 }, 25, 2)) << "diagonal at " << v;
  }
  // Plain points in translucent blue, the labelled one in vermillion.
  for (const int i : { 0, 2 })
  {
    const auto pixel = frame.ToPixel(x[i], y[i]);
    EXPECT_TRUE(ColorNear(image, pixel[0], pixel[1], OverWhite(itk::report::CategoricalColor(0), 170), 6, 1)) << i;
  }
  const auto labelled = frame.ToPixel(x[1], y[1]);
  EXPECT_TRUE(ColorNear(image, labelled[0], labelled[1], itk::report::CategoricalColor(3), 6, 1));
  EXPECT_GT(NonWhitePixels(image), 2000u);
}

TEST(ReportFigures, LineChartDrawsEachSeriesInItsColor)
{
  REQUIRE_DISPLAY();
  const std::string                      png = OutputPath("lines.png");
  const std::vector<itk::report::Series> series{ { "real only", { 0.0, 0.5, 1.0 }, { 0.30, 0.30, 0.30 } },
                                                 { "co-trained", { 0.0, 0.5, 1.0 }, { 0.30, 0.25, 0.22 } } };
  const auto geometry = itk::report::RenderLineChart(png, "MAE by synthetic ratio", "synthetic ratio", "MAE", series);
  const RGBImage image = itk::report::ReadRGBImagePNG(png);
  ASSERT_EQ(image.width, 800);
  ASSERT_EQ(image.height, 600);
  const auto & frame = geometry.frames.at(0);
  EXPECT_LE(frame.dataXMin, 0.0);
  EXPECT_GE(frame.dataXMax, 1.0);
  // Markers where the series differ, and the line between two markers.
  for (std::size_t s = 0; s < series.size(); ++s)
  {
    const auto color = itk::report::CategoricalColor(static_cast<int>(s));
    for (std::size_t i = 1; i < 3; ++i)
    {
      const auto pixel = frame.ToPixel(series[s].x[i], series[s].y[i]);
      EXPECT_TRUE(ColorNear(image, pixel[0], pixel[1], color, 6, 1)) << series[s].label << " point " << i;
    }
  }
  const auto between = frame.ToPixel(0.75, 0.30);
  EXPECT_TRUE(ColorNear(image, between[0], between[1], itk::report::CategoricalColor(0), 20, 2));
}

TEST(ReportFigures, EmbeddingColorsPointsByGroup)
{
  REQUIRE_DISPLAY();
  const std::string         png = OutputPath("embedding.png");
  const std::vector<double> x{ -1.0, -0.8, 1.0, 0.9 };
  const std::vector<double> y{ 0.0, 0.6, -0.5, 0.4 };
  const std::vector<int>    group{ 0, 0, 1, 1 };
  const auto     geometry = itk::report::RenderEmbedding(png, "Patch embedding", x, y, group, { "real", "synthetic" });
  const RGBImage image = itk::report::ReadRGBImagePNG(png);
  const auto &   frame = geometry.frames.at(0);
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    const auto pixel = frame.ToPixel(x[i], y[i]);
    EXPECT_TRUE(ColorNear(image, pixel[0], pixel[1], OverWhite(itk::report::CategoricalColor(group[i]), 190), 6, 1))
      << "point " << i;
  }
}

TEST(ReportFigures, LabelledImageShowsTheImageUprightBesideItsLabels)
{
  REQUIRE_DISPLAY();
  // 40 x 30: the top 10 rows green, below them red on the left and blue on the right.
  RGBImage image{ 40, 30, {} };
  for (int row = 0; row < 30; ++row)
  {
    for (int column = 0; column < 40; ++column)
    {
      const ColorRGB color = row < 10      ? ColorRGB{ 0, 200, 0 }
                             : column < 20 ? ColorRGB{ 255, 0, 0 }
                                           : ColorRGB{ 0, 0, 255 };
      image.rgb.insert(image.rgb.end(), color.begin(), color.end());
    }
  }
  const std::string png = OutputPath("labelled.png");
  const auto        geometry = itk::report::RenderLabelledImage(png, "Patches", image, { "cluster 0 real" }, { 15.0 });
  const RGBImage    figure = itk::report::ReadRGBImagePNG(png);
  EXPECT_EQ(figure.width, geometry.width);
  EXPECT_EQ(figure.height, geometry.height);
  const auto & frame = geometry.frames.at(0);
  const auto   at = [&](double column, double row) {
    const auto pixel = frame.ToPixel(column, row);
    return PixelAt(figure, pixel[0], pixel[1]);
  };
  EXPECT_LE(ColorDistance(at(20.5, 5.5), { 0, 200, 0 }), 2);
  EXPECT_LE(ColorDistance(at(10.5, 20.5), { 255, 0, 0 }), 2);
  EXPECT_LE(ColorDistance(at(30.5, 20.5), { 0, 0, 255 }), 2);
  // The label is drawn (dark text) left of the image.
  std::size_t dark = 0;
  for (int row = 0; row < figure.height; ++row)
  {
    for (int column = 0; column < static_cast<int>(frame.columnAtXMin); ++column)
    {
      dark += PixelAt(figure, column, row)[0] < 100 ? 1 : 0;
    }
  }
  EXPECT_GT(dark, 30u);
}
