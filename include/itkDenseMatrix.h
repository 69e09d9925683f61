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
#ifndef itkDenseMatrix_h
#define itkDenseMatrix_h

#include "SpatialTranscriptomicsExport.h"
#include "itkMacro.h" // itk::ExceptionObject, which the evaluation functions throw

#include <cstddef>
#include <string>
#include <vector>

namespace itk
{

/** \brief A dense row-major matrix of doubles: how the evaluation functions take expression
 * (spots x genes) and feature (samples x features) tables.
 *
 * Deliberately a plain value type (not itk::Matrix, whose size is a template argument, nor
 * vnl_matrix) so that tables of any size pass through the wrapping and from
 * GenePreprocessing::Apply's float buffers without ceremony.
 *
 * \ingroup SpatialTranscriptomics
 */
struct SpatialTranscriptomics_EXPORT DenseMatrix
{
  std::size_t         Rows{ 0 };
  std::size_t         Columns{ 0 };
  std::vector<double> Values; ///< Rows * Columns, row-major

  DenseMatrix() = default;
  /** Throws itk::ExceptionObject when \p values does not hold rows * columns entries. */
  DenseMatrix(std::size_t rows, std::size_t columns, std::vector<double> values);
  /** rows x columns zeros. */
  DenseMatrix(std::size_t rows, std::size_t columns);

  /** From a row-major float buffer such as GenePreprocessing::Apply returns. */
  static DenseMatrix
  FromFloat(std::size_t rows, std::size_t columns, const std::vector<float> & values);

  double
  operator()(std::size_t row, std::size_t column) const
  {
    return Values[row * Columns + column];
  }
  double &
  operator()(std::size_t row, std::size_t column)
  {
    return Values[row * Columns + column];
  }

  /** The product op(A) op(B), where op transposes when asked, through BLAS's dgemm (the BLAS
   * Debian selects: OpenBLAS when installed). Throws itk::ExceptionObject when the inner
   * dimensions differ. */
  static DenseMatrix
  Multiply(const DenseMatrix & a, const DenseMatrix & b, bool transposeA = false, bool transposeB = false);

  /** Throws itk::ExceptionObject, naming \p what, when the matrix has no entries, its size
   * disagrees with Rows * Columns, or an entry is NaN or infinite. */
  void
  Validate(const std::string & what) const;
};

} // end namespace itk

#endif // itkDenseMatrix_h
