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
#include "itkSparseCountMatrix.h"

#include "itkMacro.h"

#include <algorithm>
#include <cmath>

namespace itk
{

float
SparseCountMatrix::Get(std::size_t row, std::size_t column) const
{
  const auto begin = ColumnIndex.begin() + RowStart[row];
  const auto end = ColumnIndex.begin() + RowStart[row + 1];
  const auto at = std::lower_bound(begin, end, static_cast<std::uint32_t>(column));
  return at != end && *at == column ? Values[at - ColumnIndex.begin()] : 0.0f;
}

double
SparseCountMatrix::RowSum(std::size_t row) const
{
  double sum = 0.0;
  for (auto k = RowStart[row]; k < RowStart[row + 1]; ++k)
  {
    sum += Values[k];
  }
  return sum;
}

void
SparseCountMatrix::Validate(const char * what) const
{
  if (RowStart.size() != Rows + 1 || RowStart.front() != 0 || RowStart.back() != Values.size() ||
      ColumnIndex.size() != Values.size())
  {
    itkGenericExceptionMacro(<< "The " << what << " is inconsistent: " << Rows << " rows, " << RowStart.size()
                             << " row offsets, " << ColumnIndex.size() << " column indices, " << Values.size()
                             << " values");
  }
  for (std::size_t r = 0; r < Rows; ++r)
  {
    if (RowStart[r] > RowStart[r + 1])
    {
      itkGenericExceptionMacro(<< "The " << what << " has decreasing row offsets at row " << r);
    }
    for (auto k = RowStart[r]; k < RowStart[r + 1]; ++k)
    {
      if (ColumnIndex[k] >= Columns)
      {
        itkGenericExceptionMacro(<< "The " << what << " has column index " << ColumnIndex[k] << " in row " << r
                                 << ", but only " << Columns << " columns");
      }
      if (k > RowStart[r] && ColumnIndex[k] <= ColumnIndex[k - 1])
      {
        itkGenericExceptionMacro(<< "The " << what << " has unsorted or repeated column indices in row " << r);
      }
      if (!std::isfinite(Values[k]) || Values[k] < 0.0f)
      {
        itkGenericExceptionMacro(<< "The " << what << " holds " << Values[k] << " at row " << r << ", column "
                                 << ColumnIndex[k] << "; counts must be finite and non-negative");
      }
    }
  }
}

SparseCountMatrix
SparseCountMatrix::SelectRows(const std::vector<std::size_t> & rows) const
{
  SparseCountMatrix result;
  result.Rows = rows.size();
  result.Columns = Columns;
  for (const auto r : rows)
  {
    result.ColumnIndex.insert(
      result.ColumnIndex.end(), ColumnIndex.begin() + RowStart[r], ColumnIndex.begin() + RowStart[r + 1]);
    result.Values.insert(result.Values.end(), Values.begin() + RowStart[r], Values.begin() + RowStart[r + 1]);
    result.RowStart.push_back(result.Values.size());
  }
  return result;
}

SparseCountMatrix
SparseCountMatrix::FromDense(std::size_t rows, std::size_t columns, const std::vector<float> & values)
{
  if (values.size() != rows * columns)
  {
    itkGenericExceptionMacro(<< "A dense " << rows << " x " << columns << " matrix needs " << rows * columns
                             << " values, not " << values.size());
  }
  SparseCountMatrix result;
  result.Rows = rows;
  result.Columns = columns;
  for (std::size_t r = 0; r < rows; ++r)
  {
    for (std::size_t c = 0; c < columns; ++c)
    {
      const float v = values[r * columns + c];
      if (v != 0.0f)
      {
        result.ColumnIndex.push_back(static_cast<std::uint32_t>(c));
        result.Values.push_back(v);
      }
    }
    result.RowStart.push_back(result.Values.size());
  }
  return result;
}

} // end namespace itk
