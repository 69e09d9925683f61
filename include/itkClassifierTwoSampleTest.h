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
#ifndef itkClassifierTwoSampleTest_h
#define itkClassifierTwoSampleTest_h

#include "itkImage.h"
#include "itkRGBPixel.h"
#include "SpatialTranscriptomicsExport.h"

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{

/** \brief Settings of the classifier two-sample test.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ClassifierTwoSampleSettings
{
  /** Cross-validation folds: each patch is scored by a classifier that never trained on it. */
  unsigned int Folds{ 5 };
  /** Passes over each fold's training patches. */
  unsigned int Epochs{ 15 };
  unsigned int BatchSize{ 64 };
  double       LearningRate{ 1e-3 };
  /** Width of the CNN's first convolution (then 2x and 4x). */
  unsigned int Channels{ 16 };
  /** Random flips and 90-degree turns of the training patches (histology has no orientation). */
  bool          Augment{ true };
  std::uint64_t Seed{ 0 };
  /** LibTorch's CPU threads (process-wide) when positive; 0 leaves them as they are. */
  unsigned int NumberOfThreads{ 0 };
  std::string  Device{ "cpu" };
};

/** \brief The outcome of a classifier two-sample test.
 * \ingroup SpatialTranscriptomics */
struct SpatialTranscriptomics_EXPORT ClassifierTwoSampleResult
{
  /** Area under the ROC curve of the out-of-fold scores, all folds pooled: 0.5 when the classifier
   * cannot tell the sets apart, 1 when it always can. */
  double AUC{ 0.5 };
  /** The AUC of each fold's held-out patches. */
  std::vector<double> FoldAUC;
  /** The patches of each set that took part (the larger set is subsampled to the smaller's size). */
  std::size_t PatchesPerSet{ 0 };

  /** \brief Can a small CNN tell two patch sets apart? (Lopez-Paz and Oquab, "Revisiting classifier
   * two-sample tests", ICLR 2017.)
   *
   * Patches of \p first (label 0) and \p second (label 1), the larger set subsampled at random to the
   * smaller's size, are split into Folds stratified folds. For each fold a fresh CNN (three 3x3
   * convolutions with ReLU and 2x2 max pooling, global average pooling, one logit) trains with Adam on
   * the binary cross-entropy of the other folds' patches and scores the fold's. The AUC of the pooled
   * out-of-fold scores measures how distinguishable the sets are: colour, texture and shape all count,
   * so noise with the right colours scores near 1 and two samples of the same tissue near 0.5. Same
   * seed, same result (on the CPU). The stacks are (x, y, patch) RGB patches of one size, at least
   * 8 x 8; each set needs at least Folds patches. Throws itk::ExceptionObject otherwise.
   * \ingroup SpatialTranscriptomics */
  static ClassifierTwoSampleResult
  Compute(const Image<RGBPixel<unsigned char>, 3> * first, const Image<RGBPixel<unsigned char>, 3> * second,
          const ClassifierTwoSampleSettings & settings = ClassifierTwoSampleSettings());

  /** The area under the ROC curve of \p scores for \p labels (1 positive, 0 negative), by the
   * Mann-Whitney U statistic with ties counted half; NaN when a class is absent.
   * \ingroup SpatialTranscriptomics */
  static double
  AreaUnderROC(const std::vector<double> & scores, const std::vector<int> & labels);
};

} // end namespace itk

#endif
