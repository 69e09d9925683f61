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
#include "itkMatrixOperations.h"

#include "itkMacro.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

namespace itk
{

namespace
{
template <typename TValue>
MatrixOperations::MatrixType
CopyRowMajor(std::size_t rows, std::size_t columns, const std::vector<TValue> & values)
{
  if (values.size() != rows * columns)
  {
    itkGenericExceptionMacro(<< "A " << rows << " x " << columns << " matrix needs " << rows * columns
                             << " values, got " << values.size() << "; pass the values row by row");
  }
  MatrixOperations::MatrixType matrix(static_cast<unsigned int>(rows), static_cast<unsigned int>(columns));
  std::copy(values.begin(), values.end(), matrix.data_block());
  return matrix;
}
} // namespace

MatrixOperations::MatrixType
MatrixOperations::FromRowMajor(std::size_t rows, std::size_t columns, const std::vector<double> & values)
{
  return CopyRowMajor(rows, columns, values);
}

MatrixOperations::MatrixType
MatrixOperations::FromRowMajor(std::size_t rows, std::size_t columns, const std::vector<float> & values)
{
  return CopyRowMajor(rows, columns, values);
}

MatrixOperations::MatrixType
MatrixOperations::Zeros(std::size_t rows, std::size_t columns)
{
  MatrixType zeros(static_cast<unsigned int>(rows), static_cast<unsigned int>(columns));
  zeros.Fill(0.0);
  return zeros;
}

MatrixOperations::MatrixType
MatrixOperations::SelectRows(const MatrixType & matrix, const std::vector<std::size_t> & rows)
{
  MatrixType result(static_cast<unsigned int>(rows.size()), matrix.cols());
  for (std::size_t r = 0; r < rows.size(); ++r)
  {
    if (rows[r] >= matrix.rows())
    {
      itkGenericExceptionMacro(<< "Row " << rows[r] << " asked of a matrix of " << matrix.rows() << " rows");
    }
    result.set_row(static_cast<unsigned int>(r), matrix[static_cast<unsigned int>(rows[r])]);
  }
  return result;
}

std::vector<double>
MatrixOperations::ToRowMajor(const MatrixType & matrix)
{
  return std::vector<double>(matrix.begin(), matrix.end());
}

MatrixOperations::MatrixType
MatrixOperations::Multiply(const MatrixType & a, const MatrixType & b, bool transposeA, bool transposeB)
{
  const std::size_t rows = transposeA ? a.cols() : a.rows();
  const std::size_t inner = transposeA ? a.rows() : a.cols();
  const std::size_t innerB = transposeB ? b.cols() : b.rows();
  const std::size_t columns = transposeB ? b.rows() : b.cols();
  if (inner != innerB)
  {
    itkGenericExceptionMacro(<< "Cannot multiply a " << rows << " x " << inner << " matrix by a " << innerB << " x "
                             << columns << " one: the inner dimensions differ");
  }
  MatrixType product = Zeros(rows, columns);
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
              a.data_block(),
              static_cast<int>(a.cols()),
              b.data_block(),
              static_cast<int>(b.cols()),
              0.0,
              product.data_block(),
              static_cast<int>(columns));
  return product;
}

void
MatrixOperations::Validate(const MatrixType & matrix, const std::string & what)
{
  if (matrix.rows() == 0 || matrix.cols() == 0)
  {
    itkGenericExceptionMacro(<< "The " << what << " is empty (" << matrix.rows() << " x " << matrix.cols()
                             << "); give at least one row and one column");
  }
  const double * values = matrix.data_block();
  for (std::size_t i = 0; i < matrix.size(); ++i)
  {
    if (!std::isfinite(values[i]))
    {
      itkGenericExceptionMacro(<< "The " << what << " holds a non-finite value (" << values[i] << ") at row "
                               << i / matrix.cols() << ", column " << i % matrix.cols()
                               << "; remove or impute NaN and infinite values before evaluating");
    }
  }
}

} // end namespace itk
