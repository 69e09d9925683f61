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
#ifndef itkSpatialDataReader_h
#define itkSpatialDataReader_h

#include "itkProcessObject.h"
#include "itkSpatialExpressionData.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace itk
{

/** The inputs SpatialDataReader understands. \ingroup SpatialTranscriptomics */
enum class SpatialDataFormat
{
  VisiumOuts, ///< a 10x Space Ranger outs/ folder
  AnnData,    ///< an .h5ad file
  HESTSample, ///< a HEST-1k sample folder (st/, wsis/, metadata/, patches/)
  CountTable  ///< a folder with counts/ and spots/ tables (the her2st layout), or a counts table
};

/** The format's name ("visium", "anndata", "hest", "count-table"). \ingroup SpatialTranscriptomics */
SpatialTranscriptomics_EXPORT std::ostream &
                              operator<<(std::ostream & os, SpatialDataFormat format);

/** One row of a Visium positions file. \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT VisiumSpotPosition
{
  std::string Barcode;
  bool        InTissue{ false };
  int         ArrayRow{ 0 };
  int         ArrayColumn{ 0 };
  double      PixelRow{ 0.0 };
  double      PixelColumn{ 0.0 };
};

/** \class SpatialDataReader
 * \brief Reads spots and counts from whatever the user has: a Visium outs/ folder, an .h5ad, a
 * HEST sample folder, or a folder of count and spot tables. Never modifies the input files.
 *
 * A source of the pipeline like itk::ImageFileReader: set FileName, Update, and GetOutput is the
 * SpatialExpressionData (the format found is GetFormat). Each format's reader is also a static
 * method (Read, ReadVisiumOuts, ReadAnnData, ...) for code that wants a data object in one call.
 *
 * Every reader checks what it joins: barcodes absent from the positions, missing or mismatched
 * files, negative or non-finite counts and truncated HDF5 files are itk::ExceptionObjects that
 * name the file and say what to do.
 * \ingroup SpatialTranscriptomics */
class SpatialTranscriptomics_EXPORT SpatialDataReader : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpatialDataReader);

  using Self = SpatialDataReader;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(SpatialDataReader, ProcessObject);

  /** The folder or file to read (see DetectFormat). */
  itkSetStringMacro(FileName);
  itkGetStringMacro(FileName);
  /** The sample to read from a HEST folder that holds several; empty: its only sample. */
  itkSetStringMacro(SampleId);
  itkGetStringMacro(SampleId);
  /** The format the last Update read. */
  itkGetConstMacro(Format, SpatialDataFormat);

  SpatialExpressionData *
  GetOutput();

  /** The format Read would read \p path as; throws explaining what was expected. */
  static SpatialDataFormat
  DetectFormat(const std::string & path);

  /** Reads \p path in the format DetectFormat finds. */
  static SpatialExpressionData::Pointer
  Read(const std::string & path);

  /** A Space Ranger outs/ folder: filtered_feature_bc_matrix.h5 (or the filtered_feature_bc_matrix/
   * folder of matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz), spatial/tissue_positions_list.csv
   * (v1) or spatial/tissue_positions.csv (v2), spatial/scalefactors_json.json. The pixel size
   * follows from spot_diameter_fullres, which spans a theoretical 65 um spot (neighbouring spots are
   * then 100 um apart, Visium's pitch). */
  static SpatialExpressionData::Pointer
  ReadVisiumOuts(const std::string & folder);

  /** Every spot of tissue_positions_list.csv (v1, no header) or tissue_positions.csv (v2, header). */
  static std::vector<VisiumSpotPosition>
  ReadVisiumPositions(const std::string & path);

  /** The numbers of scalefactors_json.json, by name. */
  static std::map<std::string, double>
  ReadVisiumScaleFactors(const std::string & path);

  /** A 10x feature-barcode matrix .h5 (HDF5 /matrix: barcodes, data, indices, indptr, shape,
   * features/id, features/name), as barcodes x genes; positions are left empty. */
  static SpatialExpressionData::Pointer
  Read10xMatrixH5(const std::string & path);

  /** An AnnData .h5ad: X dense or sparse (CSR/CSC, with encoding-type or the older h5sparse_format
   * attributes), obs/var indices (_index), var gene ids when present, obsm/spatial (x, y in
   * full-resolution pixels). */
  static SpatialExpressionData::Pointer
  ReadAnnData(const std::string & path);

  /** A HEST-1k sample folder: st/<id>.h5ad with the pixel size of metadata/<id>.json
   * (pixel_size_um_estimated). \p id may be empty when the folder holds one sample. */
  static SpatialExpressionData::Pointer
  ReadHESTSample(const std::string & folder, const std::string & id = std::string());

  /** A counts table (spots x genes, TSV or CSV, gzip or not; first row gene names, first column spot
   * ids) joined to a spot table with pixel coordinates. The spot table names its id column
   * spot/barcode/id, or gives array coordinates x and y, joined as "{x}x{y}" (the her2st layout);
   * pixel columns are pixel_x/pixel_y, pxl_col_in_fullres/pxl_row_in_fullres or x_pixel/y_pixel. */
  static SpatialExpressionData::Pointer
  ReadCountTable(const std::string & countsPath, const std::string & spotsPath);

protected:
  SpatialDataReader();
  ~SpatialDataReader() override = default;

  using Superclass::MakeOutput;
  DataObjectPointer
  MakeOutput(DataObjectPointerArraySizeType index) override;

  void
  GenerateData() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  std::string       m_FileName;
  std::string       m_SampleId;
  SpatialDataFormat m_Format{ SpatialDataFormat::CountTable };
};

} // end namespace itk

#endif
