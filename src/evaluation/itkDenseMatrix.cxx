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
#include "itkDenseMatrix.h"

#include "itkMacro.h"

#include <cblas.h>

#include <cmath>

namespace itk
{

DenseMatrix::DenseMatrix(std::size_t rows, std::size_t columns, std::vector<double> values)
  : Rows(rows)
  , Columns(columns)
  , Values(std::move(values))
{
  if (Values.size() != rows * columns)
  {
    itkGenericExceptionMacro(<< "A " << rows << " x " << columns << " matrix needs " << rows * columns
                             << " values, got " << Values.size() << "; pass the values row by row");
  }
}

DenseMatrix::DenseMatrix(std::size_t rows, std::size_t columns)
  : Rows(rows)
  , Columns(columns)
  , Values(rows * columns, 0.0)
{}

DenseMatrix
DenseMatrix::FromFloat(std::size_t rows, std::size_t columns, const std::vector<float> & values)
{
  return DenseMatrix(rows, columns, std::vector<double>(values.begin(), values.end()));
}

DenseMatrix
DenseMatrix::Multiply(const DenseMatrix & a, const DenseMatrix & b, bool transposeA, bool transposeB)
{
  const std::size_t rows = transposeA ? a.Columns : a.Rows;
  const std::size_t inner = transposeA ? a.Rows : a.Columns;
  const std::size_t innerB = transposeB ? b.Columns : b.Rows;
  const std::size_t columns = transposeB ? b.Rows : b.Columns;
  if (inner != innerB)
  {
    itkGenericExceptionMacro(<< "Cannot multiply a " << rows << " x " << inner << " matrix by a " << innerB << " x "
                             << columns << " one: the inner dimensions differ");
  }
  DenseMatrix product(rows, columns);
  if (rows == 0 || columns == 0 || inner == 0)
  {
    return product;
  }
  // Row-major storage; the leading dimension of each operand is its stored row length.
  cblas_dgemm(CblasRowMajor,
              transposeA ? CblasTrans : CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans,
              static_cast<int>(rows),
              static_cast<int>(columns),
              static_cast<int>(inner),
              1.0,
              a.Values.data(),
              static_cast<int>(a.Columns),
              b.Values.data(),
              static_cast<int>(b.Columns),
              0.0,
              product.Values.data(),
              static_cast<int>(columns));
  return product;
}

void
DenseMatrix::Validate(const std::string & what) const
{
  if (Rows == 0 || Columns == 0)
  {
    itkGenericExceptionMacro(<< "The " << what << " is empty (" << Rows << " x " << Columns
                             << "); give at least one row and one column");
  }
  if (Values.size() != Rows * Columns)
  {
    itkGenericExceptionMacro(<< "The " << what << " claims " << Rows << " x " << Columns << " but holds "
                             << Values.size() << " values; set Rows, Columns and Values consistently");
  }
  for (std::size_t i = 0; i < Values.size(); ++i)
  {
    if (!std::isfinite(Values[i]))
    {
      itkGenericExceptionMacro(<< "The " << what << " holds a non-finite value (" << Values[i] << ") at row "
                               << i / Columns << ", column " << i % Columns
                               << "; remove or impute NaN and infinite values before evaluating");
    }
  }
}

} // end namespace itk
