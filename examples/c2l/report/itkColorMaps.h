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
#ifndef itkColorMaps_h
#define itkColorMaps_h

// The colours of the report figures: viridis for quantities (perceptually uniform and readable in
// grey and by colour-blind readers) and the Okabe-Ito palette for categories.

#include <array>

namespace itk::report
{

/** An 8-bit sRGB colour. */
using ColorRGB = std::array<unsigned char, 3>;

/** Matplotlib's viridis at t in [0, 1] (clamped; NaN gives the low end), linearly interpolated
 * between the 256 entries of matplotlib's table, rounded to 8 bits. */
ColorRGB
Viridis(double t);

/** The i-th colour of the Okabe-Ito palette (blue, orange, green, vermillion, ...), cycling. */
ColorRGB
CategoricalColor(int index);

} // namespace itk::report

#endif
