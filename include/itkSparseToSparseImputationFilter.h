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
#ifndef itkSparseToSparseImputationFilter_h
#define itkSparseToSparseImputationFilter_h

#include "itkImageToImageFilter.h"
#include "itkSpotGrid.h"

#include <string>
#include <vector>

namespace itk
{

/** \class SparseToSparseImputationFilter
 * \brief S2S-ST: imputes a section's expression at unmeasured grid positions from its measured
 * positions alone, by a network trained on this one input.
 *
 * Fang et al., "Sparser2Sparse: Single-shot Sparser-to-Sparse Learning for Spatial Transcriptomics
 * Imputation with Natural Image Co-learning" (arXiv 2507.16886). The measured positions, subsampled
 * again, are the input and the other measured positions the target ("sparser to sparse"): when the
 * measured positions form one stride-2 phase of the grid, training runs on that phase's own
 * sub-lattice with its four stride-2 phases as inputs, the same decimation that made the measured
 * set; for any other mask, a random share of the measured positions (SubsamplingRate; by default
 * the measured share of the positions to impute) is the input. The network is a cascade of
 * NumberOfStages stages (residual dense blocks, a plain and a shifted window-attention block), each
 * followed by data consistency, which puts the measured values back; deep supervision weighs stage
 * k of K by k / K; L1 loss; Adam with betas (0.5, 0.999). Grayscale natural images, degraded with
 * the same pattern, may be trained alongside with their own L1 term (co-learning).
 *
 * Inputs: the gene image (one component per gene, e.g. from SpotGrid::MakeGeneImage) and the mask of measured
 * positions (SetMeasuredMask); optionally the positions to impute (SetTargetMask, e.g. every spot),
 * which only sets the default subsampling rate. Values at unmeasured positions are never read.
 * Output: the gene image with every position imputed and the measured values unchanged. One network
 * is shared over genes by default (genes are samples); ModelPerGene trains one per gene. Defaults
 * are a CPU size of the authors' network (3 stages, width 16, 2 blocks of 2 layers, window 4,
 * crops of up to 16 positions, 400 steps); their size is width 32, 8 blocks of 4 layers, growth 32, window 8.
 *
 * Measured on real her2st sections (Documentation/Imputation.md), it has a lower MAE than the
 * median baseline but does not reach the Pearson correlation of cross-validated Gaussian-kernel
 * smoothing (SpatialImputationBaselines::Impute): compare both on your data with
 * ImputationEvaluation::Evaluate.
 *
 * Reproducible from Seed (a private generator; the global one is untouched). NumberOfThreads 0
 * leaves LibTorch's thread setting as the application has it. ProgressEvent after every step;
 * abortable.
 *
 * \sa SpotGrid, SpatialImputationBaselines, ImputationEvaluation
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT SparseToSparseImputationFilter
  : public ImageToImageFilter<GeneImageType, GeneImageType>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SparseToSparseImputationFilter);

  using Self = SparseToSparseImputationFilter;
  using Superclass = ImageToImageFilter<GeneImageType, GeneImageType>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  using NaturalImageType = Image<float, 2>;

  itkNewMacro(Self);
  itkTypeMacro(SparseToSparseImputationFilter, ImageToImageFilter);

  /** 1 where a value was measured (required). */
  void
  SetMeasuredMask(const GridMaskType * mask);
  const GridMaskType *
  GetMeasuredMask() const;
  /** 1 where values are wanted (optional). */
  void
  SetTargetMask(const GridMaskType * mask);
  const GridMaskType *
  GetTargetMask() const;

  /** Grayscale images in [0, 1] for co-learning (photographs); none by default. */
  void
  SetNaturalImages(std::vector<NaturalImageType::ConstPointer> images);
  const std::vector<NaturalImageType::ConstPointer> &
  GetNaturalImages() const
  {
    return m_NaturalImages;
  }
  /** Every image ITK can read in \p folder (PNG, JPEG, TIFF, ...), as grayscale in [0, 1], in file
   * name order; throws when the folder holds none. */
  static std::vector<NaturalImageType::ConstPointer>
  ReadNaturalImages(const std::string & folder);

  itkSetMacro(NumberOfStages, unsigned int);
  itkGetConstMacro(NumberOfStages, unsigned int);
  itkSetMacro(Width, unsigned int);
  itkGetConstMacro(Width, unsigned int);
  itkSetMacro(DenseBlocks, unsigned int);
  itkGetConstMacro(DenseBlocks, unsigned int);
  itkSetMacro(DenseLayers, unsigned int);
  itkGetConstMacro(DenseLayers, unsigned int);
  itkSetMacro(GrowthRate, unsigned int);
  itkGetConstMacro(GrowthRate, unsigned int);
  itkSetMacro(AttentionWindow, unsigned int);
  itkGetConstMacro(AttentionWindow, unsigned int);
  itkSetMacro(AttentionHeads, unsigned int);
  itkGetConstMacro(AttentionHeads, unsigned int);
  itkSetMacro(NumberOfSteps, unsigned int);
  itkGetConstMacro(NumberOfSteps, unsigned int);
  itkSetMacro(BatchSize, unsigned int);
  itkGetConstMacro(BatchSize, unsigned int);
  /** Side of the square training crops, in grid positions (of the sub-lattice in lattice mode);
   * 0 (default): 16, or the smaller side of the section's training domain when that is less; larger
   * (in steps of 4, up to that side) when measurements are so sparse that no crop of 16 holds 4. */
  itkSetMacro(CropSize, unsigned int);
  itkGetConstMacro(CropSize, unsigned int);
  itkSetMacro(LearningRate, double);
  itkGetConstMacro(LearningRate, double);
  itkSetMacro(NaturalBatchSize, unsigned int);
  itkGetConstMacro(NaturalBatchSize, unsigned int);
  itkSetMacro(NaturalImageWeight, double);
  itkGetConstMacro(NaturalImageWeight, double);
  /** The share of measured positions kept as input by random decimation. 0 (default): stride-2
   * decimation of a phase's sub-lattice when the measured positions form one stride-2 phase, else
   * random decimation at the measured share of the target positions (of the whole grid without a
   * target mask). A positive rate uses random decimation for every mask (on a phase mask the
   * network then never sees a target off the phase: measured on D1, much worse). */
  itkSetMacro(SubsamplingRate, double);
  itkGetConstMacro(SubsamplingRate, double);
  itkSetMacro(ModelPerGene, bool);
  itkGetConstMacro(ModelPerGene, bool);
  itkBooleanMacro(ModelPerGene);
  itkSetMacro(Seed, std::uint64_t);
  itkGetConstMacro(Seed, std::uint64_t);
  /** "cpu", "cuda" or "cuda:N". */
  itkSetStringMacro(Device);
  itkGetStringMacro(Device);
  /** LibTorch intra-op threads; 0 leaves the current setting. */
  itkSetMacro(NumberOfThreads, unsigned int);
  itkGetConstMacro(NumberOfThreads, unsigned int);

  /** After an update: the training loss over its last tenth of steps, and whether the measured
   * positions formed a stride-2 phase. */
  itkGetConstMacro(FinalLoss, double);
  itkGetConstMacro(LatticeMode, bool);

protected:
  SparseToSparseImputationFilter();
  ~SparseToSparseImputationFilter() override = default;

  void
  VerifyPreconditions() ITKv5_CONST override;
  void
  GenerateInputRequestedRegion() override;
  void
  EnlargeOutputRequestedRegion(DataObject * output) override;
  void
  GenerateData() override;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  std::vector<NaturalImageType::ConstPointer> m_NaturalImages;
  unsigned int                                m_NumberOfStages{ 3 };
  unsigned int                                m_Width{ 16 };
  unsigned int                                m_DenseBlocks{ 2 };
  unsigned int                                m_DenseLayers{ 2 };
  unsigned int                                m_GrowthRate{ 16 };
  unsigned int                                m_AttentionWindow{ 4 };
  unsigned int                                m_AttentionHeads{ 2 };
  unsigned int                                m_NumberOfSteps{ 400 };
  unsigned int                                m_BatchSize{ 16 };
  unsigned int                                m_CropSize{ 0 };
  double                                      m_LearningRate{ 1e-3 };
  unsigned int                                m_NaturalBatchSize{ 8 };
  double                                      m_NaturalImageWeight{ 1.0 };
  double                                      m_SubsamplingRate{ 0.0 };
  bool                                        m_ModelPerGene{ false };
  std::uint64_t                               m_Seed{ 0 };
  std::string                                 m_Device{ "cpu" };
  unsigned int                                m_NumberOfThreads{ 0 };
  double                                      m_FinalLoss{ 0.0 };
  bool                                        m_LatticeMode{ false };
};

} // end namespace itk

#endif
