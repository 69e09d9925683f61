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

// SpotGrid: the three lattices, the folding that keeps Visium neighbours adjacent, the gene image's
// axis order, and the errors for positions that are on no lattice.

#include "itkMatrixOperations.h"
#include "itkSpatialDataReader.h"
#include "itkSpotGrid.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <map>

namespace
{
constexpr double Pi = 3.14159265358979323846;

itk::SpatialExpressionData::Pointer
SpotsWithIds(const std::vector<std::string> & ids)
{
  auto spots = itk::SpatialExpressionData::New();
  spots->SetSpots(ids, std::vector<itk::SpatialExpressionData::PositionType>(ids.size(), { { 0.0, 0.0 } }));
  return spots;
}

/** A patch of Visium's hexagonal lattice: array_col + array_row even, 100 um pitch. */
void
VisiumPatch(int rows, int halfColumns, std::vector<int> & arrayRows, std::vector<int> & arrayColumns,
            std::vector<std::array<double, 2>> & positions, double rotation = 0.0)
{
  for (int row = 3; row < 3 + rows; ++row)
  {
    for (int column = 5; column < 5 + 2 * halfColumns; ++column)
    {
      if ((row + column) % 2 != 0)
      {
        continue;
      }
      arrayRows.push_back(row);
      arrayColumns.push_back(column);
      const double x = column * 50.0;
      const double y = row * 50.0 * std::sqrt(3.0);
      positions.push_back({ { std::cos(rotation) * x - std::sin(rotation) * y + 1000.0,
                              std::sin(rotation) * x + std::cos(rotation) * y + 2000.0 } });
    }
  }
}

/** Every pair of spots one pitch apart must be 8-neighbours on the grid. */
void
ExpectNeighboursAdjacent(const itk::SpotGrid & grid, const std::vector<std::array<double, 2>> & positions, double pitch)
{
  std::size_t pairs = 0;
  for (std::size_t a = 0; a < positions.size(); ++a)
  {
    for (std::size_t b = a + 1; b < positions.size(); ++b)
    {
      const double distance = std::hypot(positions[a][0] - positions[b][0], positions[a][1] - positions[b][1]);
      if (std::abs(distance - pitch) < 1e-6 * pitch)
      {
        ++pairs;
        EXPECT_LE(std::abs(grid.SpotIndex[a][0] - grid.SpotIndex[b][0]), 1);
        EXPECT_LE(std::abs(grid.SpotIndex[a][1] - grid.SpotIndex[b][1]), 1);
      }
    }
  }
  EXPECT_GT(pairs, positions.size()); // an interior hexagonal spot has 6 neighbours
}
} // namespace

TEST(SpotGrid, LegacyIdsGiveTheSquareArray)
{
  auto spots = SpotsWithIds({ "3x5", "4x5", "3x7", "10x6" });
  spots->SetPixelSize(0.5);
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  EXPECT_EQ(grid.Source, "spot ids");
  EXPECT_EQ(grid.Lattice, itk::SpotGrid::Layout::Square);
  EXPECT_EQ(grid.Size[0], 8u); // columns 3..10
  EXPECT_EQ(grid.Size[1], 3u); // rows 5..7
  EXPECT_EQ(grid.SpotIndex[3][0], 7);
  EXPECT_EQ(grid.SpotIndex[3][1], 1);
  EXPECT_DOUBLE_EQ(grid.Spacing[0], 200.0);
  EXPECT_EQ(grid.Offset(2), 2u * 8u + 0u);
}

TEST(SpotGrid, VisiumArrayCoordinatesFoldSoNeighboursAreAdjacent)
{
  std::vector<int>                   rows, columns;
  std::vector<std::array<double, 2>> positions;
  VisiumPatch(6, 7, rows, columns, positions);
  const auto grid = itk::SpotGrid::FromArrayCoordinates(rows, columns, true, 100.0);
  EXPECT_EQ(grid.Lattice, itk::SpotGrid::Layout::HexagonalFolded);
  EXPECT_EQ(grid.Size[0], 7u);
  EXPECT_EQ(grid.Size[1], 6u);
  ExpectNeighboursAdjacent(grid, positions, 100.0);
  // The physical positions come back exactly, up to the translation of the first spot.
  for (std::size_t spot = 0; spot < positions.size(); ++spot)
  {
    const auto p = grid.PhysicalPosition(grid.SpotIndex[spot][0], grid.SpotIndex[spot][1]);
    const auto p0 = grid.PhysicalPosition(grid.SpotIndex[0][0], grid.SpotIndex[0][1]);
    EXPECT_NEAR(p[0] - p0[0], positions[spot][0] - positions[0][0] - 0.0, 1e-9);
    EXPECT_NEAR(p[1] - p0[1], positions[spot][1] - positions[0][1], 1e-9);
  }
}

TEST(SpotGrid, FittedRotatedHexagonalLatticeMatchesArrayCoordinates)
{
  std::vector<int>                   rows, columns;
  std::vector<std::array<double, 2>> positions;
  VisiumPatch(8, 9, rows, columns, positions, 7.0 * Pi / 180.0);
  const auto fitted = itk::SpotGrid::FromPositions(positions);
  EXPECT_EQ(fitted.Lattice, itk::SpotGrid::Layout::HexagonalFolded);
  EXPECT_NEAR(fitted.Spacing[0], 100.0, 1e-6);
  EXPECT_NEAR(fitted.Spacing[1], 100.0 * std::sqrt(3.0) / 2.0, 1e-6);
  ExpectNeighboursAdjacent(fitted, positions, 100.0);
  const auto exact = itk::SpotGrid::FromArrayCoordinates(rows, columns, true, 100.0);
  EXPECT_EQ(fitted.Size, exact.Size);
  for (std::size_t spot = 0; spot < positions.size(); ++spot)
  {
    EXPECT_EQ(fitted.SpotIndex[spot], exact.SpotIndex[spot]) << "spot " << spot;
  }
}

TEST(SpotGrid, FittedRotatedSquareLatticeRecoversIndices)
{
  std::vector<std::array<double, 2>>    positions;
  std::vector<itk::SpotGrid::IndexType> truth;
  const double                          angle = -4.0 * Pi / 180.0;
  for (int row = 0; row < 9; ++row)
  {
    for (int column = 0; column < 11; ++column)
    {
      if ((row * 7 + column * 3) % 5 == 0)
      {
        continue; // holes, as in tissue
      }
      const double x = column * 290.0 + 3.0 * std::sin(row + column);
      const double y = row * 290.0 + 3.0 * std::cos(row * column);
      positions.push_back({ { std::cos(angle) * x - std::sin(angle) * y, std::sin(angle) * x + std::cos(angle) * y } });
      truth.push_back({ { column, row } });
    }
  }
  const auto grid = itk::SpotGrid::FromPositions(positions);
  EXPECT_EQ(grid.Lattice, itk::SpotGrid::Layout::Square);
  const auto shift =
    itk::SpotGrid::IndexType{ { truth[0][0] - grid.SpotIndex[0][0], truth[0][1] - grid.SpotIndex[0][1] } };
  for (std::size_t spot = 0; spot < positions.size(); ++spot)
  {
    EXPECT_EQ(grid.SpotIndex[spot][0] + shift[0], truth[spot][0]);
    EXPECT_EQ(grid.SpotIndex[spot][1] + shift[1], truth[spot][1]);
  }
}

TEST(SpotGrid, PositionsOffTheLatticeAreRefused)
{
  std::vector<std::array<double, 2>> positions;
  for (int row = 0; row < 6; ++row)
  {
    for (int column = 0; column < 6; ++column)
    {
      positions.push_back({ { column * 100.0, row * 100.0 } });
    }
  }
  positions.push_back({ { 250.0, 250.0 } }); // between four spots
  EXPECT_THROW(itk::SpotGrid::FromPositions(positions), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotGrid::FromPositions({ { { 0.0, 0.0 } }, { { 1.0, 0.0 } } }), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotGrid::FromArrayCoordinates({ 1, 1 }, { 2, 2 }, false, 100.0), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotGrid::FromArrayCoordinates({ 1, 2 }, { 2 }, false, 100.0), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotGrid::FromArrayCoordinates({ 0, 0 }, { 0, 1 }, true, 100.0), itk::ExceptionObject);
  EXPECT_THROW(itk::SpotGrid::FromArrayCoordinates({ 0 }, { 0 }, false, 0.0), itk::ExceptionObject);
}

TEST(SpotGrid, GeneImageRoundTripAndAxisOrder)
{
  auto spots = SpotsWithIds({ "1x1", "3x1", "1x2" });
  spots->SetGenes({ "A", "B" });
  itk::GenePreprocessing preprocessing;
  preprocessing.Genes = { "A", "B" };
  preprocessing.Log1p = false;
  preprocessing.TargetSum = 0.0;
  spots->SetExpression(preprocessing, { 1.f, 2.f, 3.f, 4.f, 5.f, 6.f });
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  const auto image = itk::SpotGrid::MakeGeneImage(*spots, grid);
  EXPECT_EQ(image->GetLargestPossibleRegion().GetSize()[0], 3u); // columns (x) first
  EXPECT_EQ(image->GetLargestPossibleRegion().GetSize()[1], 2u);
  EXPECT_EQ(image->GetNumberOfComponentsPerPixel(), 2u);
  // Spot "3x1" is column 2, row 0.
  EXPECT_EQ(image->GetPixel({ { 2, 0 } })[1], 4.f);
  EXPECT_EQ(image->GetPixel({ { 1, 0 } })[0], 0.f); // no spot there
  EXPECT_DOUBLE_EQ(image->GetSpacing()[0], 200.0);
  const auto spotValues = itk::SpotGrid::SpotsFromGeneImage(*image, grid);
  EXPECT_EQ(itk::MatrixOperations::ToRowMajor(spotValues), (std::vector<double>{ 1, 2, 3, 4, 5, 6 }));
  const auto mask = itk::SpotGrid::MakeGridMask(grid, { 2 });
  EXPECT_EQ(mask->GetPixel({ { 0, 1 } }), 1);
  EXPECT_EQ(mask->GetPixel({ { 0, 0 } }), 0);
  EXPECT_THROW(itk::SpotGrid::MakeGridMask(grid, { 3 }), itk::ExceptionObject);
  auto unprocessed = SpotsWithIds({ "1x1" });
  EXPECT_THROW(itk::SpotGrid::MakeGeneImage(*unprocessed, itk::SpotGrid::FromSpots(*unprocessed)),
               itk::ExceptionObject);
}

TEST(SpotGrid, StrideTwoPhases)
{
  EXPECT_EQ(itk::SpotGrid::StrideTwoPhase("upleft"), (std::array<int, 2>{ { 0, 0 } }));
  EXPECT_EQ(itk::SpotGrid::StrideTwoPhase("upright"), (std::array<int, 2>{ { 1, 0 } }));
  EXPECT_EQ(itk::SpotGrid::StrideTwoPhase("downleft"), (std::array<int, 2>{ { 0, 1 } }));
  EXPECT_EQ(itk::SpotGrid::StrideTwoPhase("downright"), (std::array<int, 2>{ { 1, 1 } }));
  EXPECT_THROW(itk::SpotGrid::StrideTwoPhase("left"), itk::ExceptionObject);
}

TEST(SpotGrid, VisiumFolderUsesItsArrayCoordinates)
{
  const std::string folder = std::string(SpatialTranscriptomics_SHARED_DATA_DIR) + "/visium-heart-subset";
  if (!std::filesystem::exists(folder))
  {
    GTEST_SKIP() << "../shared/data/visium-heart-subset is absent";
  }
  // 100 barcodes scattered over a 78 x 128 array: too sparse to fit a lattice to, but the positions
  // file gives each its array row and column.
  const auto spots = itk::SpatialDataReader::ReadVisiumOuts(folder);
  const auto grid = itk::SpotGrid::FromSpots(*spots);
  EXPECT_EQ(grid.Source, "array coordinates");
  EXPECT_EQ(grid.Lattice, itk::SpotGrid::Layout::HexagonalFolded);
  EXPECT_DOUBLE_EQ(grid.Spacing[0], 100.0);
  EXPECT_EQ(grid.SpotIndex.size(), spots->GetNumberOfSpots());
  // The grid's physical distances match the slide's within Visium's position accuracy.
  const double pixelSize = spots->GetPixelSize();
  const auto & pixels = spots->GetPixelPositions();
  for (std::size_t spot = 1; spot < 10; ++spot)
  {
    const auto   a = grid.PhysicalPosition(grid.SpotIndex[0][0], grid.SpotIndex[0][1]);
    const auto   b = grid.PhysicalPosition(grid.SpotIndex[spot][0], grid.SpotIndex[spot][1]);
    const double onGrid = std::hypot(a[0] - b[0], a[1] - b[1]);
    const double onSlide = pixelSize * std::hypot(pixels[0][0] - pixels[spot][0], pixels[0][1] - pixels[spot][1]);
    EXPECT_NEAR(onGrid, onSlide, 0.03 * onSlide + 10.0) << "spot " << spot;
  }
}
