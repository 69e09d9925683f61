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
#ifndef itkPatchCutting_h
#define itkPatchCutting_h

// What SpotPatchExtractor and TissueTileExtractor share beyond the public API: the patch cutting
// itself, with progress reports that may abort it.

#include "itkProcessObject.h"
#include "itkSpotPatchDataset.h"
#include "itkSpotPatchExtractor.h"

#include <functional>

namespace itk
{

/** Called with the fraction done (0..1); may throw ProcessAborted to stop the work. */
using ProgressCallback = std::function<void(double)>;

/** SpotPatchExtractor::Extract, reporting the fraction of patches cut to \p progress (when set). */
SpotPatches
CutSpotPatches(const SlideReader & slide, const SpatialExpressionData & spots, const PatchExtractionSettings & settings,
               const ProgressCallback & progress);

struct TissueTileSettings;

/** TissueTileExtractor::Extract, reporting the fraction done to \p progress (when set). */
SpotPatchDataset::Pointer
CutTissueTiles(const SlideReader & slide, const TissueTileSettings & settings, const std::string & slideName,
               const ProgressCallback & progress);

/** Reports fraction f as \p filter's progress start + f (end - start), and throws ProcessAborted
 * once the filter's AbortGenerateData is set: what ITK's own filters do between work units. */
ProgressCallback
ReportProgressOf(ProcessObject * filter, float start, float end);

} // end namespace itk

#endif
