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
#ifndef itkFigureSpec_h
#define itkFigureSpec_h

// Figures recorded as a JSON spec (see RenderFiguresFromSpec) instead of rendered at once: a
// program without an X display writes the spec and renders it in a child process under xvfb-run.

#include "itkReportFigures.h"

#include <string>
#include <vector>

namespace itk::report
{

/** \class FigureSpec
 * \brief Collects figure requests with the Render* functions' arguments and writes them as the
 * JSON spec that RenderFiguresFromSpec renders. Output paths are written as given: relative ones
 * are taken relative to the spec file's folder when rendered.
 *
 * Typical use without a display:
 * \code
 *   FigureSpec spec;
 *   spec.AddScatter("mae.png", "Gene-wise MAE", "real only", "co-trained", x, y, true);
 *   spec.Write(folder + "/figures.json");
 *   if (DisplayAvailable()) RenderFiguresFromSpec(folder + "/figures.json");
 *   else RunUnderVirtualDisplay({ selfPath, "render-figures", folder + "/figures.json" });
 * \endcode
 * where selfPath is the program's resolved path (readlink of /proc/self/exe: the literal
 * "/proc/self/exe" would name xvfb-run's shell in the child) and "render-figures" a command of
 * the program that calls RenderFiguresFromSpec.
 */
class FigureSpec
{
public:
  void
  AddSpatialMap(const std::string & png, const std::string & title, const std::vector<double> & x,
                const std::vector<double> & y, const std::vector<std::vector<double>> & panels,
                const std::vector<std::string> & panelTitles, int width, int height);
  void
  AddScatter(const std::string & png, const std::string & title, const std::string & xLabel, const std::string & yLabel,
             const std::vector<double> & x, const std::vector<double> & y, bool diagonal,
             const std::vector<std::string> & pointLabels = {}, int width = 800, int height = 700);
  void
  AddLineChart(const std::string & png, const std::string & title, const std::string & xLabel,
               const std::string & yLabel, const std::vector<Series> & series, int width = 800, int height = 600);
  void
  AddEmbedding(const std::string & png, const std::string & title, const std::vector<double> & x,
               const std::vector<double> & y, const std::vector<int> & group,
               const std::vector<std::string> & groupNames, int width = 800, int height = 700);
  /** imagePng is an existing PNG, e.g. written with WriteRGBImagePNG from a PatchGrid. */
  void
  AddLabelledImage(const std::string & png, const std::string & title, const std::string & imagePng,
                   const std::vector<std::string> & rowLabels, const std::vector<double> & rowCenters);

  /** The number of figures recorded. */
  std::size_t
  Size() const
  {
    return m_Figures.size();
  }

  /** The spec as JSON text (an array of figure objects). */
  std::string
  ToJson() const;

  /** Writes ToJson() to a file, atomically. */
  void
  Write(const std::string & specJsonFile) const;

private:
  // One serialized JSON object per figure: nlohmann-json stays out of this header.
  std::vector<std::string> m_Figures;
};

} // namespace itk::report

#endif
