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
#ifndef itkPatchDatasetExtractor_h
#define itkPatchDatasetExtractor_h

#include "itkMethodStepSettings.h"
#include "itkProcessObject.h"
#include "itkSpotPatchDataset.h"

#include <string>

namespace itk
{

/** \class PatchDatasetExtractor
 * \brief The method's first step as a process object: a slide and its spots to the paired (patch,
 * expression) dataset, or a slide alone to unlabeled tissue tiles (a central model's corpus).
 *
 * What to read and how is in the settings (ExtractionStepSettings): the slide (OpenSlide formats or
 * any image ITK reads), the spots (Visium outs/, .h5ad, HEST folder or count tables) or a number of
 * Tiles, the patch size in micrometres and pixels, stain normalisation to a target, the genes kept,
 * and the random split (Fraction, Seed). The output is the dataset in memory; it is also written to
 * the settings' Output when that is set (an existing file only with Force; nothing a user wrote is
 * overwritten otherwise). GetSummary says what was done: the patches, the padded or skipped spots,
 * the stains. Needs no LibTorch.
 *
 * \sa SpotPatchExtractor, TissueTileExtractor, MethodStepRunner
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT PatchDatasetExtractor : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(PatchDatasetExtractor);

  using Self = PatchDatasetExtractor;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(PatchDatasetExtractor, ProcessObject);

  void
  SetSettings(const ExtractionStepSettings & settings);
  const ExtractionStepSettings &
  GetSettings() const
  {
    return m_Settings;
  }

  SpotPatchDataset *
  GetOutput();

  /** What the last Update did, one line per fact. */
  itkGetStringMacro(Summary);

protected:
  PatchDatasetExtractor();
  ~PatchDatasetExtractor() override = default;

  using Superclass::MakeOutput;
  DataObjectPointer
  MakeOutput(DataObjectPointerArraySizeType index) override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  GenerateData() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  void
  GraftOutput(SpotPatchDataset * dataset);

  ExtractionStepSettings m_Settings;
  std::string            m_Summary;
};

} // end namespace itk

#endif
