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
#ifndef itkGeneRegressorFilter_h
#define itkGeneRegressorFilter_h

#include "SpatialTranscriptomicsExport.h"

#include "itkArray2D.h"
#include "itkGeneRegressorModel.h"
#include "itkImage.h"
#include "itkProcessObject.h"
#include "itkRGBPixel.h"
#include "itkSimpleDataObjectDecorator.h"

#include <string>

namespace itk
{

/** \class GeneRegressorFilter
 * \brief Predicts gene expression from a stack of patches with a GeneRegressorModel.
 *
 * Input: a stack of square RGB patches (x, y, patch index) of the model's patch size, e.g. a
 * SpotPatchDataset's patches cut at unsampled spots. Output 0: the expression, one row per patch
 * and one column per model gene (GeneRegressorModel::GetGenes), on the model's preprocessed scale,
 * or with CountScale on, back on the count scale: the preprocessing undone (standardisation, then
 * log1p), i.e. counts per TargetSum of the spot's library (an unsampled spot's library size is
 * unknown, so counts are given normalised; raw counts when the preprocessing had no library-size
 * normalisation). Output 1, with ComputeFeatures on: the network's penultimate features per patch
 * (what the fidelity measures compare). Batched; ProgressEvent per batch; abortable.
 *
 * \sa GeneRegressorModel, GeneRegressorTrainFilter
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT GeneRegressorFilter : public ProcessObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(GeneRegressorFilter);

  using Self = GeneRegressorFilter;
  using Superclass = ProcessObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  using PatchStackType = Image<RGBPixel<unsigned char>, 3>;
  using MatrixType = Array2D<double>;
  using MatrixObjectType = SimpleDataObjectDecorator<MatrixType>;

  itkNewMacro(Self);
  itkTypeMacro(GeneRegressorFilter, ProcessObject);

  void
  SetInput(const PatchStackType * patches);
  const PatchStackType *
  GetInput() const;
  void
  SetModel(const GeneRegressorModel * model);
  const GeneRegressorModel *
  GetModel() const;

  /** Patches x genes. */
  MatrixObjectType *
  GetExpressionOutput();
  const MatrixType &
  GetExpression();
  /** Patches x features (filled only with ComputeFeatures on). */
  MatrixObjectType *
  GetFeaturesOutput();
  const MatrixType &
  GetFeatures();

  itkSetMacro(BatchSize, SizeValueType);
  itkGetConstMacro(BatchSize, SizeValueType);
  /** Undo the model's gene preprocessing (see the class description). */
  itkSetMacro(CountScale, bool);
  itkGetConstMacro(CountScale, bool);
  itkBooleanMacro(CountScale);
  itkSetMacro(ComputeFeatures, bool);
  itkGetConstMacro(ComputeFeatures, bool);
  itkBooleanMacro(ComputeFeatures);
  /** "cpu" (default), "cuda" or "cuda:N". */
  itkSetStringMacro(Device);
  itkGetStringMacro(Device);
  /** LibTorch threads; 0 (default) leaves the application's setting (LibTorchThreads) as it is. */
  itkSetMacro(NumberOfTorchThreads, unsigned int);
  itkGetConstMacro(NumberOfTorchThreads, unsigned int);

protected:
  GeneRegressorFilter();
  ~GeneRegressorFilter() override = default;

  using Superclass::MakeOutput;
  DataObject::Pointer
  MakeOutput(DataObjectPointerArraySizeType index) override;
  void
  VerifyPreconditions() ITKv5_CONST override;
  void
  GenerateData() override;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  SizeValueType m_BatchSize{ 64 };
  bool          m_CountScale{ false };
  bool          m_ComputeFeatures{ false };
  std::string   m_Device{ "cpu" };
  unsigned int  m_NumberOfTorchThreads{ 0 };
};

} // end namespace itk

#endif
