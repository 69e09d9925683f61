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
#ifndef itkStainFieldDrawing_h
#define itkStainFieldDrawing_h

// Private to the library: drawing into a SyntheticStainField, shared by the synthetic tissue
// generators.

#include "itkSyntheticStainedTissue.h"

#include <cstddef>

namespace itk
{

/** Calls visit(dx, dy, index) for every pixel of \p field in the square of half-side \p radius
 * around (cx, cy), clipped to the field; index is the pixel's row-major index. */
template <typename TVisit>
void
ForEachPixelAround(const SyntheticStainField & field, double cx, double cy, int radius, const TVisit & visit)
{
  for (int dy = -radius; dy <= radius; ++dy)
  {
    for (int dx = -radius; dx <= radius; ++dx)
    {
      const int px = static_cast<int>(cx) + dx;
      const int py = static_cast<int>(cy) + dy;
      if (px >= 0 && py >= 0 && px < static_cast<int>(field.Width) && py < static_cast<int>(field.Height))
      {
        visit(dx, dy, static_cast<std::size_t>(py) * field.Width + px);
      }
    }
  }
}

} // end namespace itk

#endif
