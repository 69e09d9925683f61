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
#ifndef itkSyntheticSlide_h
#define itkSyntheticSlide_h

#include "itkSlideReader.h"
#include "itkSpatialExpressionData.h"

#include <array>
#include <string>
#include <vector>

namespace itk
{

/** \brief Size and seed of a synthetic slide. Defaults: a Visium-like grid (100 um pitch, 55 um
 * spots) of 300 spots imaged at 0.5 um per pixel.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT SyntheticSlideSettings
{
  unsigned int  NumberOfSpots{ 300 };
  std::uint32_t Seed{ 1 };
  double        PixelSize{ 0.5 };
  double        SpotPitch{ 100.0 };
  double        SpotDiameter{ 55.0 };
  /** Genes driven by each gene program, and genes driven by none. */
  unsigned int GenesPerProgram{ 5 };
  unsigned int UnrelatedGenes{ 40 };
};

/** \brief A procedural H&E slide whose gene programs drive its morphology, with the ground truth.
 *
 * Four smooth spatial programs in [0, 1] shape the tissue: nuclear density, nuclear size,
 * stroma (eosin-rich fibres), and immune-cell density (small, dark, round nuclei). Unstained
 * lumens punch holes in it. The image is rendered by Beer-Lambert's law with a typical H&E stain
 * matrix. Counts at each spot are negative binomial (dispersion 5) around
 * base * exp(effect * (2 p - 1)) * library, p the program at the spot; GenesPerProgram genes per
 * program (half up-, half down-regulated), UnrelatedGenes genes with no morphology at all.
 * Everything is deterministic from the seed on every platform.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT SyntheticSlide
{
  SlideReader::RGBImageType::Pointer Image;
  SpatialExpressionData::Pointer     Spots;
  /** Each spot's Visium array coordinates (array_row, array_col): the column index doubled on the
   * hexagonal grid, odd rows odd, as Space Ranger numbers its spots. */
  std::vector<std::array<int, 2>> ArrayCoordinates;
  std::vector<std::string>        ProgramNames;
  /** Program values at each spot, spots x programs. */
  std::vector<std::vector<double>> ProgramAtSpot;
  /** For each gene: its program (index into ProgramNames, -1 for none), base mean and effect. */
  std::vector<int>    GeneProgram;
  std::vector<double> GeneBase;
  std::vector<double> GeneEffect;

  static SyntheticSlide
  Generate(const SyntheticSlideSettings & settings = SyntheticSlideSettings());

  /** Write \p slide into \p folder: image.tif (full resolution; states no pixel size, as many
   * microscope exports), outs/ (a Space Ranger outs/ folder: filtered_feature_bc_matrix.h5,
   * spatial/tissue_positions_list.csv, spatial/scalefactors_json.json,
   * spatial/tissue_lowres_image.png) and ground_truth.json. Throws if \p folder holds files. */
  static void
  Write(const SyntheticSlide & slide, const std::string & folder);
};

} // end namespace itk

#endif
