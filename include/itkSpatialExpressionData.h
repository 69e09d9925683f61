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
#ifndef itkSpatialExpressionData_h
#define itkSpatialExpressionData_h

#include "itkDataObject.h"
#include "itkGenePreprocessing.h"
#include "itkObjectFactory.h"
#include "itkSparseCountMatrix.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace itk
{

/** \class SpatialExpressionData
 * \brief A slide's spots: ids, positions, genes, raw counts, and once preprocessed the dense
 * expression with the preprocessing that made it, and the train/test split.
 *
 * Positions are in full-resolution slide pixels (x = column, y = row, the convention of Visium's
 * pxl_col_in_fullres/pxl_row_in_fullres and AnnData's obsm["spatial"]); PixelSize (micrometres
 * per pixel) turns them into physical positions, and is 0 while unknown. Readers fill a data
 * object from the files instruments and public datasets produce (see itkSpatialDataReader.h).
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SpatialExpressionData : public DataObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpatialExpressionData);

  using Self = SpatialExpressionData;
  using Superclass = DataObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using PositionType = std::array<double, 2>;

  itkNewMacro(Self);
  itkTypeMacro(SpatialExpressionData, DataObject);

  /** Copies every part of \p data (a SpatialExpressionData): how a reader hands its result to the
   * pipeline's output object. */
  void
  Graft(const DataObject * data) override;

  /** Spot ids (unique) and their pixel positions; throws on a size mismatch or a repeated id. */
  void
  SetSpots(std::vector<std::string> ids, std::vector<PositionType> pixelPositions);
  const std::vector<std::string> &
  GetSpotIds() const
  {
    return m_SpotIds;
  }
  const std::vector<PositionType> &
  GetPixelPositions() const
  {
    return m_PixelPositions;
  }
  std::size_t
  GetNumberOfSpots() const
  {
    return m_SpotIds.size();
  }

  /** Micrometres per full-resolution pixel; 0 while unknown. */
  itkSetMacro(PixelSize, double);
  itkGetConstMacro(PixelSize, double);

  /** Gene names (symbols) and ids (e.g. Ensembl; empty strings where a format has none). */
  void
  SetGenes(std::vector<std::string> names, std::vector<std::string> ids = {});
  const std::vector<std::string> &
  GetGeneNames() const
  {
    return m_GeneNames;
  }
  const std::vector<std::string> &
  GetGeneIds() const
  {
    return m_GeneIds;
  }
  std::size_t
  GetNumberOfGenes() const
  {
    return m_GeneNames.size();
  }

  /** Raw counts, spots x genes; validated against the spots and genes already set. */
  void
  SetCounts(SparseCountMatrix counts);
  const SparseCountMatrix &
  GetCounts() const
  {
    return m_Counts;
  }

  /** Fit the preprocessing on the training spots (all spots when there is no split) and apply
   * it to every spot. */
  void
  Preprocess(const GenePreprocessingSettings & settings);
  /** Apply an already fitted preprocessing (e.g. a model's) to every spot. */
  void
  ApplyPreprocessing(const GenePreprocessing & preprocessing);
  /** Set an already preprocessed matrix (spots x preprocessing.Genes), e.g. read from a dataset. */
  void
  SetExpression(const GenePreprocessing & preprocessing, std::vector<float> expression);
  bool
  HasExpression() const
  {
    return !m_Expression.empty() || (GetNumberOfSpots() == 0 && !m_Preprocessing.Genes.empty());
  }
  const GenePreprocessing &
  GetPreprocessing() const
  {
    return m_Preprocessing;
  }
  /** Spots x preprocessed genes, row-major. */
  const std::vector<float> &
  GetExpression() const
  {
    return m_Expression;
  }

  /** 1 for spots used for adaptation and training, 0 for held-out test spots. */
  void
  SetSplit(std::vector<std::uint8_t> split);
  const std::vector<std::uint8_t> &
  GetSplit() const
  {
    return m_Split;
  }
  /** A reproducible random split: round(fraction * spots) training spots (at least one of each). */
  void
  MakeRandomSplit(double fraction, std::uint32_t seed);
  /** A reproducible random split of \p spots: round(fraction * spots) of them 1 (training), the others
   * 0, at least one of each (throws otherwise). The same on every platform and standard library; what
   * MakeRandomSplit sets. */
  static std::vector<std::uint8_t>
  RandomSplit(std::size_t spots, double fraction, std::uint32_t seed);
  /** Indices of the training (\p training true) or test spots; all spots when there is no split. */
  std::vector<std::size_t>
  GetSpotIndices(bool training) const;

  /** A new data object holding the spots \p indices, in that order, with their counts,
   * expression and split. */
  Pointer
  SelectSpots(const std::vector<std::size_t> & indices) const;

  /** Free-form provenance (source format and path, scale factors, ...). */
  void
  SetMetadata(const std::string & key, const std::string & value);
  std::string
  GetMetadata(const std::string & key) const;
  const std::map<std::string, std::string> &
  GetAllMetadata() const
  {
    return m_Metadata;
  }

protected:
  SpatialExpressionData() = default;
  ~SpatialExpressionData() override = default;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  std::vector<std::string>           m_SpotIds;
  std::vector<PositionType>          m_PixelPositions;
  double                             m_PixelSize{ 0.0 };
  std::vector<std::string>           m_GeneNames;
  std::vector<std::string>           m_GeneIds;
  SparseCountMatrix                  m_Counts;
  GenePreprocessing                  m_Preprocessing;
  std::vector<float>                 m_Expression;
  std::vector<std::uint8_t>          m_Split;
  std::map<std::string, std::string> m_Metadata;
};

} // end namespace itk

#endif
