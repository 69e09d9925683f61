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
#ifndef itkSpotGrid_h
#define itkSpotGrid_h

#include "itkArray2D.h"
#include "itkImage.h"
#include "itkSpatialExpressionData.h"
#include "itkVectorImage.h"

#include <array>
#include <string>
#include <vector>

namespace itk
{

/** A section's expression on its grid: one component per gene, 0 where there is no spot. */
using GeneImageType = VectorImage<float, 2>;
/** 1 at grid positions of interest (spots, measured spots, ...), 0 elsewhere. */
using GridMaskType = Image<unsigned char, 2>;

/** \class SpotGrid
 * \brief Where each spot of a section sits on its instrument's lattice, so that a section's
 * expression becomes an image whose neighbouring pixels are neighbouring spots.
 *
 * Three lattices: legacy Spatial Transcriptomics (a square grid; array coordinates from the spot ids
 * "{x}x{y}"), Visium (a hexagonal grid, folded: array column / 2, so that the six neighbours of a
 * spot are among its eight pixel neighbours) and any other platform (spot positions binned to a
 * square or hexagonal lattice fitted to them: pitch from nearest-neighbour distances, orientation
 * from the neighbour directions). Grid index 0 is the column (x), index 1 the row (y), as in ITK.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT SpotGrid
{
  enum class Layout
  {
    Square,         ///< neighbours at (+-1, 0) and (0, +-1)
    HexagonalFolded ///< every other row shifted by half a pitch; columns halved
  };
  using IndexType = std::array<int, 2>;

  Layout Lattice{ Layout::Square };
  /** Columns and rows of the grid. */
  std::array<unsigned int, 2> Size{ { 0, 0 } };
  /** Distance between neighbouring grid positions along x and y, in micrometres when the pixel
   * size is known (else in slide pixels). */
  std::array<double, 2> Spacing{ { 1.0, 1.0 } };
  /** Each spot's (column, row), in the order of the data's spots. */
  std::vector<IndexType> SpotIndex;
  /** On a folded hexagonal grid, row r is shifted by half a pitch when (r + OddRowShift) is odd. */
  int OddRowShift{ 0 };
  /** How the grid was found ("spot ids", "array coordinates", "fitted to positions"). */
  std::string Source;

  /** The legacy ST grid when every spot id reads "{x}x{y}" with integer x and y; the Visium array
   * when the spots were read from a Visium outs/ folder (metadata "format" visium and "positions",
   * the positions file whose array_row and array_col are joined by barcode); else a lattice fitted
   * to the spot positions. Throws itk::ExceptionObject when no lattice fits (two spots on
   * one grid position, or positions off the lattice). */
  static SpotGrid
  FromSpots(const SpatialExpressionData & spots);
  /** A grid from instrument array coordinates (Visium's array_row and array_col when \p hexagonal),
   * with \p pitch between neighbouring spots (Visium: 100 um; legacy ST: 200 um). */
  static SpotGrid
  FromArrayCoordinates(const std::vector<int> & rows, const std::vector<int> & columns, bool hexagonal, double pitch);
  /** A square or hexagonal lattice fitted to \p positions (any unit; the spacing is in that unit). */
  static SpotGrid
  FromPositions(const std::vector<std::array<double, 2>> & positions);

  /** Row-major position (row * columns + column) of spot \p spot. */
  std::size_t
  Offset(std::size_t spot) const
  {
    return static_cast<std::size_t>(SpotIndex[spot][1]) * Size[0] + static_cast<std::size_t>(SpotIndex[spot][0]);
  }
  /** Where grid position (column, row) lies, in the unit of Spacing: exact on both lattices, where
   * the folded image's index times spacing is off by half a pitch on every other row. */
  std::array<double, 2>
  PhysicalPosition(unsigned int column, unsigned int row) const
  {
    if (Lattice == Layout::HexagonalFolded)
    {
      const int halfPitches = 2 * static_cast<int>(column) + ((static_cast<int>(row) + OddRowShift) & 1);
      return { { halfPitches * Spacing[0] / 2.0, row * Spacing[1] } };
    }
    return { { column * Spacing[0], row * Spacing[1] } };
  }
  std::size_t
  NumberOfPositions() const
  {
    return static_cast<std::size_t>(Size[0]) * Size[1];
  }

  /** The preprocessed expression of \p spots (HasExpression() must be true) as a gene image on
   * \p grid, spacing = the grid's spacing. Throws when the grid does not belong to these spots. */
  static GeneImageType::Pointer
  MakeGeneImage(const SpatialExpressionData & spots, const SpotGrid & grid);

  /** A mask with 1 at the grid positions of the spots \p spotIndices. */
  static GridMaskType::Pointer
  MakeGridMask(const SpotGrid & grid, const std::vector<std::size_t> & spotIndices);

  /** The values of \p image at every spot of \p grid: spots x components. */
  static Array2D<double>
  SpotsFromGeneImage(const GeneImageType & image, const SpotGrid & grid);

  /** Grid position of each named stride-2 phase: "upleft" (even column, even row), "upright" (odd
   * column, even row), "downleft", "downright". Throws for another name. */
  static std::array<int, 2>
  StrideTwoPhase(const std::string & name);
};

} // end namespace itk

#endif
