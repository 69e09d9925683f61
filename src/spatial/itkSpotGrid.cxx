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
#include "itkSpotGrid.h"

#include "itkMacro.h"
#include "itkSpatialDataReader.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <map>
#include <set>

namespace itk
{
namespace
{
// Centre-to-centre distance of legacy Spatial Transcriptomics spots.
constexpr double LegacySTPitchMicrometres = 200.0;
constexpr double VisiumPitchMicrometres = 100.0;
constexpr double Pi = 3.14159265358979323846;

bool
ParseLegacyId(const std::string & id, SpotGrid::IndexType & index)
{
  const auto separator = id.find('x');
  if (separator == std::string::npos || separator == 0 || separator + 1 >= id.size())
  {
    return false;
  }
  try
  {
    std::size_t usedX = 0;
    std::size_t usedY = 0;
    const int   x = std::stoi(id.substr(0, separator), &usedX);
    const int   y = std::stoi(id.substr(separator + 1), &usedY);
    if (usedX != separator || usedY != id.size() - separator - 1)
    {
      return false;
    }
    index = { { x, y } };
    return true;
  }
  catch (const std::exception &)
  {
    return false;
  }
}

/** Shift indices so the smallest is 0, set the size, and refuse two spots on one position. On a
 * hexagonal lattice \p halfPitchColumns holds each spot's column in half pitches, whose parity
 * against the row says which rows are shifted. */
void
FinishGrid(SpotGrid & grid, const std::vector<int> & halfPitchColumns = {})
{
  if (grid.SpotIndex.empty())
  {
    itkGenericExceptionMacro(<< "A spot grid needs at least one spot");
  }
  int minimum[2] = { std::numeric_limits<int>::max(), std::numeric_limits<int>::max() };
  int maximum[2] = { std::numeric_limits<int>::min(), std::numeric_limits<int>::min() };
  for (const auto & index : grid.SpotIndex)
  {
    for (int axis = 0; axis < 2; ++axis)
    {
      minimum[axis] = std::min(minimum[axis], index[axis]);
      maximum[axis] = std::max(maximum[axis], index[axis]);
    }
  }
  for (auto & index : grid.SpotIndex)
  {
    index[0] -= minimum[0];
    index[1] -= minimum[1];
  }
  grid.Size = { { static_cast<unsigned int>(maximum[0] - minimum[0] + 1),
                  static_cast<unsigned int>(maximum[1] - minimum[1] + 1) } };
  if (grid.Lattice == SpotGrid::Layout::HexagonalFolded)
  {
    grid.OddRowShift = ((halfPitchColumns[0] - grid.SpotIndex[0][1]) % 2 + 2) % 2;
    for (std::size_t spot = 0; spot < grid.SpotIndex.size(); ++spot)
    {
      if ((((halfPitchColumns[spot] - grid.SpotIndex[spot][1]) % 2 + 2) % 2) != grid.OddRowShift)
      {
        itkGenericExceptionMacro(<< "Spot " << spot << " breaks the hexagonal lattice: on a hexagonal grid the "
                                 << "column (in half pitches) and the row of every spot have the same parity "
                                 << "difference. Check the array coordinates");
      }
    }
  }
  std::set<std::size_t> used;
  for (std::size_t spot = 0; spot < grid.SpotIndex.size(); ++spot)
  {
    if (!used.insert(grid.Offset(spot)).second)
    {
      itkGenericExceptionMacro(<< "Two spots fall on grid position (column " << grid.SpotIndex[spot][0] << ", row "
                               << grid.SpotIndex[spot][1] << ") of the " << grid.Source
                               << " grid: the spots are not on one lattice. Give array coordinates "
                                  "(SpotGrid::FromArrayCoordinates) or remove duplicated spots");
    }
  }
}

double
Median(std::vector<double> values)
{
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}
} // namespace

SpotGrid
SpotGrid::FromSpots(const SpatialExpressionData & spots)
{
  SpotGrid grid;
  grid.SpotIndex.resize(spots.GetNumberOfSpots());
  bool allParsed = spots.GetNumberOfSpots() > 0;
  for (std::size_t spot = 0; spot < spots.GetNumberOfSpots() && allParsed; ++spot)
  {
    allParsed = ParseLegacyId(spots.GetSpotIds()[spot], grid.SpotIndex[spot]);
  }
  if (allParsed)
  {
    grid.Lattice = Layout::Square;
    grid.Spacing = { { LegacySTPitchMicrometres, LegacySTPitchMicrometres } };
    grid.Source = "spot ids";
    FinishGrid(grid);
    return grid;
  }
  const std::string positionsFile = spots.GetMetadata("positions");
  if (spots.GetMetadata("format") == "visium" && !positionsFile.empty())
  {
    std::map<std::string, std::array<int, 2>> byBarcode;
    for (const auto & position : SpatialDataReader::ReadVisiumPositions(positionsFile))
    {
      byBarcode[position.Barcode] = { { position.ArrayRow, position.ArrayColumn } };
    }
    std::vector<int> rows, columns;
    for (const auto & id : spots.GetSpotIds())
    {
      const auto found = byBarcode.find(id);
      if (found == byBarcode.end())
      {
        itkGenericExceptionMacro(<< "Spot " << id << " is absent from " << positionsFile
                                 << ": the spots and the positions come from different runs");
      }
      rows.push_back(found->second[0]);
      columns.push_back(found->second[1]);
    }
    return FromArrayCoordinates(rows, columns, true, VisiumPitchMicrometres);
  }
  std::vector<std::array<double, 2>> positions = spots.GetPixelPositions();
  const double                       pixelSize = spots.GetPixelSize() > 0.0 ? spots.GetPixelSize() : 1.0;
  for (auto & position : positions)
  {
    position = { { position[0] * pixelSize, position[1] * pixelSize } };
  }
  return FromPositions(positions);
}

SpotGrid
SpotGrid::FromArrayCoordinates(const std::vector<int> & rows, const std::vector<int> & columns, bool hexagonal,
                               double pitch)
{
  if (rows.size() != columns.size())
  {
    itkGenericExceptionMacro(<< rows.size() << " array rows but " << columns.size() << " array columns");
  }
  if (!(pitch > 0.0) || !std::isfinite(pitch))
  {
    itkGenericExceptionMacro(<< "The spot pitch must be positive and finite, not " << pitch);
  }
  SpotGrid grid;
  grid.Source = "array coordinates";
  grid.SpotIndex.resize(rows.size());
  if (!hexagonal)
  {
    grid.Lattice = Layout::Square;
    grid.Spacing = { { pitch, pitch } };
    for (std::size_t spot = 0; spot < rows.size(); ++spot)
    {
      grid.SpotIndex[spot] = { { columns[spot], rows[spot] } };
    }
    FinishGrid(grid);
    return grid;
  }
  grid.Lattice = Layout::HexagonalFolded;
  grid.Spacing = { { pitch, pitch * std::sqrt(3.0) / 2.0 } };
  const int        minimumColumn = rows.empty() ? 0 : *std::min_element(columns.begin(), columns.end());
  std::vector<int> halfPitchColumns(rows.size());
  for (std::size_t spot = 0; spot < rows.size(); ++spot)
  {
    // Visium numbers columns in half pitches (array_col + array_row is even): halving makes the two
    // neighbours of a row adjacent columns, and the four of the rows above and below diagonal ones.
    halfPitchColumns[spot] = columns[spot] - minimumColumn;
    grid.SpotIndex[spot] = { { halfPitchColumns[spot] / 2, rows[spot] } };
  }
  FinishGrid(grid, halfPitchColumns);
  return grid;
}

SpotGrid
SpotGrid::FromPositions(const std::vector<std::array<double, 2>> & positions)
{
  const std::size_t count = positions.size();
  if (count < 3)
  {
    itkGenericExceptionMacro(<< "Fitting a spot lattice needs at least 3 spots, not " << count);
  }
  for (const auto & position : positions)
  {
    if (!std::isfinite(position[0]) || !std::isfinite(position[1]))
    {
      itkGenericExceptionMacro(<< "A spot position is not finite: fix the spot table before building a grid");
    }
  }
  auto distance = [&](std::size_t a, std::size_t b) {
    return std::hypot(positions[a][0] - positions[b][0], positions[a][1] - positions[b][1]);
  };
  std::vector<double> nearest(count, std::numeric_limits<double>::infinity());
  for (std::size_t a = 0; a < count; ++a)
  {
    for (std::size_t b = 0; b < count; ++b)
    {
      if (a != b)
      {
        nearest[a] = std::min(nearest[a], distance(a, b));
      }
    }
  }
  const double pitch = Median(nearest);
  if (!(pitch > 0.0))
  {
    itkGenericExceptionMacro(<< "Most spots share their position with another spot: no lattice can be fitted");
  }
  // Neighbours lie within 1.25 pitches: six on a hexagonal lattice, four on a square one (the
  // diagonal ones are 1.41 pitches away). Their directions give the lattice's orientation.
  std::vector<double> neighbourCount(count, 0.0);
  std::vector<double> angles;
  for (std::size_t a = 0; a < count; ++a)
  {
    for (std::size_t b = 0; b < count; ++b)
    {
      if (a != b && distance(a, b) < 1.25 * pitch)
      {
        neighbourCount[a] += 1.0;
        angles.push_back(std::atan2(positions[b][1] - positions[a][1], positions[b][0] - positions[a][0]));
      }
    }
  }
  const bool           hexagonal = Median(neighbourCount) >= 5.0;
  const double         period = hexagonal ? Pi / 3.0 : Pi / 2.0;
  std::complex<double> direction{ 0.0, 0.0 };
  for (const double angle : angles)
  {
    direction += std::polar(1.0, angle * 2.0 * Pi / period);
  }
  const double                       orientation = std::arg(direction) * period / (2.0 * Pi);
  const double                       cosine = std::cos(-orientation);
  const double                       sine = std::sin(-orientation);
  std::vector<std::array<double, 2>> rotated(count);
  double minimum[2] = { std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity() };
  for (std::size_t spot = 0; spot < count; ++spot)
  {
    rotated[spot] = { { cosine * positions[spot][0] - sine * positions[spot][1],
                        sine * positions[spot][0] + cosine * positions[spot][1] } };
    minimum[0] = std::min(minimum[0], rotated[spot][0]);
    minimum[1] = std::min(minimum[1], rotated[spot][1]);
  }
  SpotGrid grid;
  grid.Source = "fitted to positions";
  grid.Lattice = hexagonal ? Layout::HexagonalFolded : Layout::Square;
  const double rowPitch = hexagonal ? pitch * std::sqrt(3.0) / 2.0 : pitch;
  const double columnStep = hexagonal ? pitch / 2.0 : pitch;
  grid.Spacing = { { pitch, rowPitch } };
  grid.SpotIndex.resize(count);
  std::vector<int> halfPitchColumns(count);
  for (std::size_t spot = 0; spot < count; ++spot)
  {
    const double column = (rotated[spot][0] - minimum[0]) / columnStep;
    const double row = (rotated[spot][1] - minimum[1]) / rowPitch;
    const int    roundedColumn = static_cast<int>(std::lround(column));
    const int    roundedRow = static_cast<int>(std::lround(row));
    if (std::abs(column - roundedColumn) * columnStep > 0.3 * pitch ||
        std::abs(row - roundedRow) * rowPitch > 0.3 * pitch)
    {
      itkGenericExceptionMacro(<< "Spot " << spot << " lies " << std::abs(row - roundedRow) * rowPitch << " and "
                               << std::abs(column - roundedColumn) * columnStep << " units off the fitted "
                               << (hexagonal ? "hexagonal" : "square") << " lattice of pitch " << pitch
                               << ": the positions are not on one lattice. Give array coordinates "
                                  "(SpotGrid::FromArrayCoordinates) instead");
    }
    halfPitchColumns[spot] = roundedColumn;
    grid.SpotIndex[spot] = { { hexagonal ? roundedColumn / 2 : roundedColumn, roundedRow } };
  }
  FinishGrid(grid, halfPitchColumns);
  return grid;
}

GeneImageType::Pointer
SpotGrid::MakeGeneImage(const SpatialExpressionData & spots, const SpotGrid & grid)
{
  if (!spots.HasExpression())
  {
    itkGenericExceptionMacro(<< "The spots have no preprocessed expression: call Preprocess() before making a "
                                "gene image");
  }
  if (grid.SpotIndex.size() != spots.GetNumberOfSpots())
  {
    itkGenericExceptionMacro(<< "The grid places " << grid.SpotIndex.size() << " spots but the data hold "
                             << spots.GetNumberOfSpots() << ": build the grid from these spots");
  }
  const std::size_t         genes = spots.GetPreprocessing().Genes.size();
  auto                      image = GeneImageType::New();
  GeneImageType::RegionType region;
  region.SetSize({ { grid.Size[0], grid.Size[1] } });
  image->SetRegions(region);
  image->SetNumberOfComponentsPerPixel(static_cast<unsigned int>(genes));
  const double spacing[2] = { grid.Spacing[0], grid.Spacing[1] };
  image->SetSpacing(spacing);
  image->Allocate();
  float * buffer = image->GetBufferPointer();
  std::fill(buffer, buffer + grid.NumberOfPositions() * genes, 0.0f);
  const auto & expression = spots.GetExpression();
  for (std::size_t spot = 0; spot < grid.SpotIndex.size(); ++spot)
  {
    std::copy_n(
      expression.begin() + static_cast<std::ptrdiff_t>(spot * genes), genes, buffer + grid.Offset(spot) * genes);
  }
  return image;
}

GridMaskType::Pointer
SpotGrid::MakeGridMask(const SpotGrid & grid, const std::vector<std::size_t> & spotIndices)
{
  auto                     mask = GridMaskType::New();
  GridMaskType::RegionType region;
  region.SetSize({ { grid.Size[0], grid.Size[1] } });
  mask->SetRegions(region);
  const double spacing[2] = { grid.Spacing[0], grid.Spacing[1] };
  mask->SetSpacing(spacing);
  mask->Allocate();
  mask->FillBuffer(0);
  for (const std::size_t spot : spotIndices)
  {
    if (spot >= grid.SpotIndex.size())
    {
      itkGenericExceptionMacro(<< "Spot " << spot << " is not on the grid of " << grid.SpotIndex.size() << " spots");
    }
    mask->GetBufferPointer()[grid.Offset(spot)] = 1;
  }
  return mask;
}

Array2D<double>
SpotGrid::SpotsFromGeneImage(const GeneImageType & image, const SpotGrid & grid)
{
  const auto size = image.GetLargestPossibleRegion().GetSize();
  if (size[0] != grid.Size[0] || size[1] != grid.Size[1])
  {
    itkGenericExceptionMacro(<< "The gene image is " << size[0] << " x " << size[1] << " but the grid is "
                             << grid.Size[0] << " x " << grid.Size[1]);
  }
  const unsigned int genes = image.GetNumberOfComponentsPerPixel();
  Array2D<double>    values(static_cast<unsigned int>(grid.SpotIndex.size()), genes);
  const float *      buffer = image.GetBufferPointer();
  for (std::size_t spot = 0; spot < grid.SpotIndex.size(); ++spot)
  {
    std::copy_n(buffer + grid.Offset(spot) * genes, genes, values[static_cast<unsigned int>(spot)]);
  }
  return values;
}

std::array<int, 2>
SpotGrid::StrideTwoPhase(const std::string & name)
{
  if (name == "upleft")
  {
    return { { 0, 0 } };
  }
  if (name == "upright")
  {
    return { { 1, 0 } };
  }
  if (name == "downleft")
  {
    return { { 0, 1 } };
  }
  if (name == "downright")
  {
    return { { 1, 1 } };
  }
  itkGenericExceptionMacro(<< "Unknown stride-2 phase \"" << name << "\": use upleft, upright, downleft or downright");
}

} // end namespace itk
