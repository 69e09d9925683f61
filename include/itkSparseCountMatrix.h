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
#ifndef itkSparseCountMatrix_h
#define itkSparseCountMatrix_h

#include "SpatialTranscriptomicsExport.h"

#include <cstdint>
#include <vector>

namespace itk
{

/** \class SparseCountMatrix
 * \brief Raw counts, spots x genes, as compressed sparse rows (the layout of 10x and AnnData).
 *
 * Row r holds the non-zero counts of spot r: columns ColumnIndex[RowStart[r] .. RowStart[r+1])
 * with values Values[...]. Values are float so that files storing normalised or fractional
 * counts load too; Validate() rejects negative and non-finite ones.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SparseCountMatrix
{
public:
  std::size_t                Rows{ 0 };
  std::size_t                Columns{ 0 };
  std::vector<std::uint64_t> RowStart{ 0 };
  std::vector<std::uint32_t> ColumnIndex;
  std::vector<float>         Values;

  std::size_t
  NumberOfNonZeros() const
  {
    return Values.size();
  }

  /** The count at (row, column): 0 where none is stored. */
  float
  Get(std::size_t row, std::size_t column) const;

  /** Sum of a row (a spot's library size). */
  double
  RowSum(std::size_t row) const;

  /** Throws itk::ExceptionObject when sizes disagree, a column index is out of range, or a value is
   * negative or not finite; \p what names the data in the message. */
  void
  Validate(const char * what = "count matrix") const;

  /** The rows \p rows, in that order. */
  SparseCountMatrix
  SelectRows(const std::vector<std::size_t> & rows) const;

  /** From a dense row-major matrix, keeping the non-zeros. */
  static SparseCountMatrix
  FromDense(std::size_t rows, std::size_t columns, const std::vector<float> & values);
};

} // end namespace itk

#endif
