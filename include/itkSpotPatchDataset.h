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
#ifndef itkSpotPatchDataset_h
#define itkSpotPatchDataset_h

#include "itkConditioningProfiles.h"
#include "itkSpatialExpressionData.h"
#include "itkSpotPatchExtractor.h"

namespace itk
{

/** \class SpotPatchDataset
 * \brief Paired (patch, expression) data of one slide: what pretraining, adaptation, sampling and
 * regression read and write.
 *
 * On disk it is an HDF5 file that keeps HEST-1k's patch layout, so HEST's own patch files load
 * directly: "img" (N x H x W x 3 uint8), "coords" (N x 2 int64, top-left corner in level-0 slide
 * pixels) and "barcode" (N x 1 strings). This module adds "expression" (N x G float32, the
 * preprocessed values), "genes", "split" (N uint8, 1 = training), "spot_pixel" (N x 2 float64,
 * spot centres), "counts/" (raw counts, CSR: data, indices, indptr, shape, genes) and root
 * attributes: format, version, pixel_size_um (patch pixels), patch_size_um, slide,
 * slide_pixel_size_um, preprocessing (JSON), padded_spots.
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SpotPatchDataset : public DataObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpotPatchDataset);

  using Self = SpotPatchDataset;
  using Superclass = DataObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using PatchStackType = SpotPatches::PatchStackType;

  itkNewMacro(Self);
  itkTypeMacro(SpotPatchDataset, DataObject);

  /** x, y, patch index; spacing is the pixel size in micrometres. */
  itkSetObjectMacro(Patches, PatchStackType);
  itkGetModifiableObjectMacro(Patches, PatchStackType);
  /** One spot per patch, in patch order (with expression when preprocessed). */
  itkSetObjectMacro(Spots, SpatialExpressionData);
  itkGetModifiableObjectMacro(Spots, SpatialExpressionData);

  /** Top-left corner of each patch in level-0 slide pixels (HEST's coords). */
  void
  SetCorners(std::vector<std::array<std::int64_t, 2>> corners)
  {
    m_Corners = std::move(corners);
    this->Modified();
  }
  const std::vector<std::array<std::int64_t, 2>> &
  GetCorners() const
  {
    return m_Corners;
  }

  /** Side of the patches on the tissue, in micrometres. */
  itkSetMacro(PatchSizeMicrometres, double);
  itkGetConstMacro(PatchSizeMicrometres, double);
  /** The slide the patches were cut from, and what the extraction reported. */
  itkSetStringMacro(SlideFileName);
  itkGetStringMacro(SlideFileName);
  void
  SetPaddedSpots(std::vector<std::string> ids)
  {
    m_PaddedSpots = std::move(ids);
    this->Modified();
  }
  const std::vector<std::string> &
  GetPaddedSpots() const
  {
    return m_PaddedSpots;
  }

  std::size_t
  GetNumberOfPatches() const;
  /** Micrometres per patch pixel (the patches' spacing). */
  double
  GetPixelSize() const;

  /** A dataset from extracted patches and the spots they were cut at (only the kept spots). */
  static Pointer
  FromExtraction(const SpotPatches & patches, const SpatialExpressionData & spots, const std::string & slide);

  /** Synthetic (patch, expression) pairs, what GeneRegressorTrainFilter takes as its synthetic
   * dataset: \p patches drawn by a local model (DiffusionSampleFilter, one patch per profile, in
   * order) with \p profiles' expression, in \p genePreprocessingJSON (the model's:
   * DiffusionModel::GetGenePreprocessing), at the positions of the \p source spots each profile was
   * drawn from. Spot ids are "synthetic-<k>-<source id>", every pair is a training pair, and the
   * metadata say "synthetic". Throws when the patch and profile counts or the genes disagree. */
  static Pointer
  FromSynthesis(PatchStackType * patches, const ConditioningProfiles & profiles, const SpatialExpressionData & source,
                const std::string & genePreprocessingJSON);

  /** A new dataset of the patches \p rows (in that order) with their spots, corners and the
   * dataset's settings; throws on a row out of range. */
  Pointer
  Select(const std::vector<std::size_t> & rows) const;

  /** Throws when the patches, spots and corners disagree in number, or nothing is there. */
  void
  Validate() const;

  /** Takes \p data's patches, spots and settings (shared, not copied): how a process object hands
   * over the dataset it made as its output. */
  void
  Graft(const DataObject * data) override;

  /** Writes through a temporary file and a rename: a failed write leaves no partial file. */
  void
  Write(const std::string & fileName) const;
  /** Reads a dataset written by Write, or a HEST-1k patch file (img, coords, barcode). */
  static Pointer
  Read(const std::string & fileName);

protected:
  SpotPatchDataset() = default;
  ~SpotPatchDataset() override = default;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  PatchStackType::Pointer                  m_Patches;
  SpatialExpressionData::Pointer           m_Spots;
  std::vector<std::array<std::int64_t, 2>> m_Corners;
  double                                   m_PatchSizeMicrometres{ 0.0 };
  std::string                              m_SlideFileName;
  std::vector<std::string>                 m_PaddedSpots;
};

} // end namespace itk

#endif
