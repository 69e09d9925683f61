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
#ifndef itkAnnDataWriter_h
#define itkAnnDataWriter_h

#include "itkArray2D.h"
#include "itkObject.h"
#include "itkObjectFactory.h"

#include "SpatialTranscriptomicsExport.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace itk
{

/** \class AnnDataWriter
 * \brief Writes values at spots (predicted or imputed expression, any per-spot result) as an AnnData
 * .h5ad file that anndata, scanpy and squidpy open.
 *
 * X holds the values (spots x genes, float32), obs the spots (indexed by their ids) with
 * obsm["spatial"] their (x, y) positions in slide pixels (squidpy's convention), var the genes,
 * layers further spots x genes matrices (e.g. "truth"), and uns text entries (e.g. the gene
 * preprocessing as JSON). The file follows anndata's on-disk format 0.1.0 (dense arrays, string
 * indices, numeric obs columns), written whole or not at all (AtomicFile); the caller decides whether an existing file
 * may be replaced. ReadAnnData (itkSpatialDataReader.h) reads such a file back.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT AnnDataWriter : public Object
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(AnnDataWriter);

  using Self = AnnDataWriter;
  using Superclass = Object;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using PositionType = std::array<double, 2>;

  itkNewMacro(Self);
  itkTypeMacro(AnnDataWriter, Object);

  itkSetStringMacro(FileName);
  itkGetStringMacro(FileName);

  /** The spots: unique ids and their (x, y) positions in slide pixels. */
  void
  SetSpots(const std::vector<std::string> & ids, const std::vector<PositionType> & positions);
  /** The genes (unique names): the columns of X and of every layer. */
  void
  SetGenes(const std::vector<std::string> & genes);
  /** X: spots x genes. */
  void
  SetValues(const Array2D<double> & values);
  /** A layer of the same shape as X, e.g. "truth"; a second one of the same name replaces it. */
  void
  SetLayer(const std::string & name, const Array2D<double> & values);
  /** obs[name]: one number per spot (e.g. "measured", 1 or 0), a column of the spots' data frame. */
  void
  SetSpotColumn(const std::string & name, const std::vector<double> & values);
  /** uns[key] = text. */
  void
  SetText(const std::string & key, const std::string & text);

  /** Writes the file; throws itk::ExceptionObject when the parts do not fit together. */
  void
  Write();

protected:
  AnnDataWriter() = default;
  ~AnnDataWriter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  std::string                                m_FileName;
  std::vector<std::string>                   m_SpotIds;
  std::vector<PositionType>                  m_Positions;
  std::vector<std::string>                   m_Genes;
  Array2D<double>                            m_Values;
  std::map<std::string, Array2D<double>>     m_Layers;
  std::map<std::string, std::vector<double>> m_SpotColumns;
  std::map<std::string, std::string>         m_Texts;
};

} // end namespace itk

#endif
