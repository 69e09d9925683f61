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
#ifndef itkReportFigures_h
#define itkReportFigures_h

// The figures of the evaluation report, rendered with VTK into PNG files: spatial maps of gene
// expression, scatter and line charts of errors, 2-D embeddings, and grids of histology patches.
//
// Rendering needs an X display (Debian's VTK draws through GLX). On a headless machine either call
// the Render* functions inside `xvfb-run -a`, or write the figures as a JSON spec (FigureSpec) and
// render them in a child process with RunUnderVirtualDisplay(), whose program calls
// RenderFiguresFromSpec(). Writing PNGs of pixel data (WriteRGBImagePNG) needs no display.
//
// No VTK type appears here: VTK is a private dependency of SpatialTranscriptomicsReport.

#include "itkColorMaps.h"

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace itk::report
{

/** Bad figure input, a spec that cannot be read, no display, or a file that cannot be written; the
 * message says what is wrong and what to do. */
class ReportError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** One named curve of a line chart. */
struct Series
{
  std::string         label;
  std::vector<double> x;
  std::vector<double> y;
};

/** An 8-bit RGB image, rows top to bottom, pixels interleaved (r, g, b). */
struct RGBImage
{
  int                        width = 0;
  int                        height = 0;
  std::vector<unsigned char> rgb;
};

/** Where one plot's data coordinates land in the written PNG, for callers that annotate a figure
 * and for tests: pixel columns from the left, pixel rows from the top (continuous; the pixel is
 * the floor). */
struct PlotFrame
{
  double dataXMin = 0.0;
  double dataXMax = 1.0;
  double dataYMin = 0.0;
  double dataYMax = 1.0;
  /** Columns of dataXMin and dataXMax. */
  double columnAtXMin = 0.0;
  double columnAtXMax = 1.0;
  /** Rows of dataYMin and dataYMax (row of dataYMin is the smaller one when y points down). */
  double rowAtYMin = 1.0;
  double rowAtYMax = 0.0;

  /** The (column, row) of a data point. */
  std::array<double, 2>
  ToPixel(double x, double y) const;
};

/** The size of a written figure and the frame of each of its plots (panels, left to right). */
struct FigureGeometry
{
  int                    width = 0;
  int                    height = 0;
  std::vector<PlotFrame> frames;
};

/** Whether the Render* functions can run here: DISPLAY names an X server that accepts a connection.
 * VTK aborts the process without one, so call this first (it never aborts). */
bool
DisplayAvailable();

/** Side-by-side panels of spots drawn as filled circles at their slide positions (y grows
 * downwards, as in the image), coloured by one shared viridis scale over all panels' finite values
 * (NaN spots are grey), with a colour bar, panel titles and a title. panels[p][i] is spot i's value
 * in panel p; the spot diameter follows the median nearest-neighbour spacing. */
FigureGeometry
RenderSpatialMap(const std::string & png, const std::string & title, const std::vector<double> & x,
                 const std::vector<double> & y, const std::vector<std::vector<double>> & panels,
                 const std::vector<std::string> & panelTitles, int width, int height);

/** A scatter plot with equal axis ranges (the y = x line when diagonal is true), e.g. gene-wise
 * error of two models. pointLabels is empty or one entry per point: the points with a non-empty
 * label are highlighted and labelled. */
FigureGeometry
RenderScatter(const std::string & png, const std::string & title, const std::string & xLabel,
              const std::string & yLabel, const std::vector<double> & x, const std::vector<double> & y, bool diagonal,
              const std::vector<std::string> & pointLabels = {}, int width = 800, int height = 700);

/** Lines with point markers, one colour and legend entry per series (e.g. error by synthetic
 * ratio). */
FigureGeometry
RenderLineChart(const std::string & png, const std::string & title, const std::string & xLabel,
                const std::string & yLabel, const std::vector<Series> & series, int width = 800, int height = 600);

/** A 2-D embedding (PCA, UMAP, ...) of points coloured by group, group[i] in [0, groupNames.size()),
 * with a legend of the group names. */
FigureGeometry
RenderEmbedding(const std::string & png, const std::string & title, const std::vector<double> & x,
                const std::vector<double> & y, const std::vector<int> & group,
                const std::vector<std::string> & groupNames, int width = 800, int height = 700);

/** An image (e.g. a PatchGrid) under a title, with a text label left of each row: rowCenters[i] is
 * the pixel row (from the top of the image) where rowLabels[i] is centred. The frame maps image
 * pixel (column, row) coordinates, with y down, to the figure. */
FigureGeometry
RenderLabelledImage(const std::string & png, const std::string & title, const RGBImage & image,
                    const std::vector<std::string> & rowLabels, const std::vector<double> & rowCenters);

/** Writes pixel data as an RGB PNG, atomically (temporary file and rename). Needs no display. */
void
WriteRGBImagePNG(const std::string & png, int width, int height, const std::vector<unsigned char> & rgb);

/** Reads an 8-bit PNG as RGB (grey is replicated, alpha is dropped). Needs no display. */
RGBImage
ReadRGBImagePNG(const std::string & png);

/** A grid of patches and where its rows are. */
struct PatchGridLayout
{
  RGBImage image;
  /** Pixel row of the middle of each row of patches. */
  std::vector<double> rowCenters;
};

/** Patches in rows (e.g. per expression cluster a row of real patches, then a row of synthetic
 * ones), left-aligned on a white background, gap pixels apart, with a triple gap after every
 * rowsPerGroup rows. All patches have the size of the first. */
PatchGridLayout
PatchGrid(const std::vector<std::vector<RGBImage>> & rows, int gap = 4, int rowsPerGroup = 1);

/** Renders every figure of a JSON spec file and returns how many were written. The spec is an
 * array of figures, or an object whose "figures" member is that array. Relative paths are relative
 * to the spec file's folder. Every figure has "type", "output" (the PNG path) and "title", and
 * optional "width" and "height" (pixels); by type:
 *
 *   "spatial_map":    "x", "y" (numbers per spot), "panels" (array of arrays: a value per spot),
 *                     "panel_titles" (strings; default width 1200, height 450)
 *   "scatter":        "x_label", "y_label", "x", "y", "diagonal" (bool, default false),
 *                     "point_labels" (optional: "" or a label per point)
 *   "line_chart":     "x_label", "y_label", "series": [{"label", "x", "y"}]
 *   "embedding":      "x", "y", "group" (integers), "group_names" (strings)
 *   "labelled_image": "image" (a PNG path, e.g. from WriteRGBImagePNG(PatchGrid(...))),
 *                     "row_labels" (strings), "row_centers" (pixel rows)
 *
 * Example: [{"type": "scatter", "output": "mae.png", "title": "Gene-wise MAE",
 *            "x_label": "real only", "y_label": "co-trained", "x": [0.1, 0.2], "y": [0.1, 0.15],
 *            "diagonal": true}]
 *
 * Throws ReportError, naming the figure and the member, when the spec is malformed, and when no
 * display is available. */
int
RenderFiguresFromSpec(const std::string & specJsonFile);

/** Runs command (program and arguments; the program is looked up in PATH) under `xvfb-run -a`, so
 * that a program calling RenderFiguresFromSpec gets a virtual X display, and returns its exit
 * status. Pass the program as a real path (not "/proc/self/exe", which the child would resolve to
 * xvfb-run's shell). Throws ReportError when xvfb-run is not installed (Debian package xvfb). */
int
RunUnderVirtualDisplay(const std::vector<std::string> & command);

} // namespace itk::report

#endif
