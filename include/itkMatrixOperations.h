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
#ifndef itkMatrixOperations_h
#define itkMatrixOperations_h

#include "SpatialTranscriptomicsExport.h"
#include "itkArray2D.h"

#include <cstddef>
#include <string>
#include <vector>

namespace itk
{

/** \class MatrixOperations
 * \brief What the module does with its one matrix type, itk::Array2D<double>: the type of every
 * table in the public API (expression: spots x genes; features: samples x features; centroids,
 * covariances, embeddings).
 *
 * Why Array2D<double>: it is ITK's own dynamic-size matrix (a vnl_matrix, row-major and contiguous,
 * so BLAS and the LibTorch engines read it without copying rows), and ITK's Python wrapping already
 * carries it, with numpy conversions (itk.array_from_vnl_matrix, itk.vnl_matrix_from_array), where a
 * module-specific type would need its own wrapping and conversions.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT MatrixOperations
{
public:
  using MatrixType = Array2D<double>;

  /** A rows x columns matrix of \p values given row by row. Throws itk::ExceptionObject when
   * \p values does not hold rows * columns entries. */
  static MatrixType
  FromRowMajor(std::size_t rows, std::size_t columns, const std::vector<double> & values);
  static MatrixType
  FromRowMajor(std::size_t rows, std::size_t columns, const std::vector<float> & values);

  /** rows x columns zeros. */
  static MatrixType
  Zeros(std::size_t rows, std::size_t columns);

  /** The rows \p rows of \p matrix, in that order (repeats allowed). Throws itk::ExceptionObject
   * when an index is not a row of the matrix. */
  static MatrixType
  SelectRows(const MatrixType & matrix, const std::vector<std::size_t> & rows);

  /** The matrix's entries row by row. */
  static std::vector<double>
  ToRowMajor(const MatrixType & matrix);

  /** The product op(A) op(B), where op transposes when asked, through BLAS's dgemm (the BLAS
   * Debian selects: OpenBLAS when installed). Throws itk::ExceptionObject when the inner
   * dimensions differ. */
  static MatrixType
  Multiply(const MatrixType & a, const MatrixType & b, bool transposeA = false, bool transposeB = false);

  /** Throws itk::ExceptionObject, naming \p what, when the matrix has no entries or an entry is
   * NaN or infinite. */
  static void
  Validate(const MatrixType & matrix, const std::string & what);
};

} // end namespace itk

#endif // itkMatrixOperations_h
