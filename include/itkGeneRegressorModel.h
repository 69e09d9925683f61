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
#ifndef itkGeneRegressorModel_h
#define itkGeneRegressorModel_h

#include "SpatialTranscriptomicsExport.h"

#include "itkDataObject.h"
#include "itkObjectFactory.h"

#include <memory>
#include <string>
#include <vector>

namespace itk
{

/** \class GeneRegressorModel
 * \brief A patch-to-expression regressor (a ResNet with a regression head) as an ITK data object.
 *
 * One safetensors file holds the network (parameter names as torchvision's ResNet, so converted
 * torchvision weights load as its backbone), the genes it predicts and the gene preprocessing of the
 * data it was trained on (GenePreprocessing JSON), the patch size, and a summary of its training.
 * Predictions are therefore on that preprocessed scale, for those genes, whatever data it is
 * applied to. The LibTorch network stays behind an opaque pointer: this header includes no torch
 * header.
 *
 * \sa GeneRegressorTrainFilter, GeneRegressorFilter
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT GeneRegressorModel : public DataObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(GeneRegressorModel);

  using Self = GeneRegressorModel;
  using Superclass = DataObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(GeneRegressorModel, DataObject);

  /** Reads a regressor file written by Save (or GeneRegressorTrainFilter), on the CPU. */
  void
  Load(const std::string & fileName);
  /** Writes the model file (temporary file + rename). */
  void
  Save(const std::string & fileName) const;

  bool
  IsLoaded() const;
  /** The file the model was loaded from or saved to ("" if none). */
  itkGetConstReferenceMacro(Path, std::string);

  /** ResNet depth (18, 34 or 50; 0 until loaded). */
  unsigned int
  GetDepth() const;
  /** Side of the square patches it was trained on, in pixels. */
  unsigned int
  GetImageSize() const;
  /** The genes it predicts, in output order. */
  std::vector<std::string>
  GetGenes() const;
  unsigned int
  GetNumberOfGenes() const;
  /** The gene preprocessing (GenePreprocessing JSON) of its training data: predictions are on that scale. */
  std::string
  GetGenePreprocessing() const;
  /** How it was trained (JSON: settings, pairs, final loss). */
  std::string
  GetTrainingSummary() const;
  std::size_t
  GetNumberOfParameters() const;
  /** Size of the penultimate feature vector (the fidelity measures' feature space). */
  unsigned int
  GetNumberOfFeatures() const;

  /** Releases the network. */
  void
  Initialize() override;

protected:
  GeneRegressorModel();
  ~GeneRegressorModel() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  friend class GeneRegressorTrainFilter;
  friend class GeneRegressorFilter;
  struct Internals;
  std::unique_ptr<Internals> m_Internals;
  std::string                m_Path;
};

} // namespace itk

#endif
