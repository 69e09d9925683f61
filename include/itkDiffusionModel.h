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
#ifndef itkDiffusionModel_h
#define itkDiffusionModel_h

#include "SpatialTranscriptomicsExport.h"

#include "itkDataObject.h"
#include "itkObjectFactory.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace itk
{

/** \class DiffusionModel
 * \brief A pixel-space diffusion model (U-Net and noise schedule) as an ITK data object.
 *
 * Loads our single-file format (a .safetensors with the U-Net and scheduler configs in its
 * metadata), a diffusers model folder (config.json + diffusion_pytorch_model.safetensors) or a
 * diffusers DDPMPipeline folder; saves the single-file format atomically. The LibTorch engine stays
 * behind an opaque pointer: this header includes no torch header. Engine errors (truncated or hostile
 * files, config/weight mismatches, unknown devices) arrive as itk::ExceptionObject with the engine's
 * message.
 *
 * \sa DiffusionSampleFilter
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT DiffusionModel : public DataObject
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(DiffusionModel);

  using Self = DiffusionModel;
  using Superclass = DataObject;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(DiffusionModel, DataObject);

  /** Reads a model file or folder (see the class description), on the CPU. A local model file
   * (from GeneConditionedAdaptFilter) loads with its adapter; its central model, when only
   * referenced, is \p centralPath or the recorded file beside it, and must match its SHA-256. */
  void
  Load(const std::string & path, const std::string & centralPath = std::string());
  /** Writes the single-file format (temporary file + rename); with \p halfPrecision the weights
   * are stored as float16 (half the size; they load back as float32). */
  void
  Save(const std::string & fileName, bool halfPrecision = false) const;

  bool
  IsLoaded() const;
  /** The path the model was loaded from ("" if none). */
  itkGetConstReferenceMacro(Path, std::string);

  /** The U-Net's sample_size, in_channels and number of training timesteps (0 until loaded). */
  unsigned int
  GetImageSize() const;
  unsigned int
  GetNumberOfChannels() const;
  unsigned int
  GetNumberOfTrainTimesteps() const;
  /** A local, gene-conditioned model (a central U-Net with an adapter)? */
  bool
  IsConditional() const;
  /** Genes per conditioning profile (0 for a central model). */
  unsigned int
  GetNumberOfGenes() const;
  /** The local model's gene preprocessing (GenePreprocessing JSON; "" for a central model):
   * expression must be preprocessed with it before conditioning. */
  std::string
  GetGenePreprocessing() const;
  /** Micrometres per pixel of the patches a central model was trained on (its metadata "pixel_size_um"),
   * or 0 when the file does not state it and for a local model. */
  double
  GetPixelSize() const;
  /** The mean R, G and B (0-255) of the patches a central model was trained on (its metadata
   * "patch_rgb_mean", written by DiffusionPretrainFilter), or empty when the file does not state it
   * (models trained elsewhere or before it was recorded) and for a local model. Patches that a lab
   * adapts the model on should have much the same colours (GeneConditionedAdaptFilter checks). */
  std::vector<double>
  GetPatchColourMean() const;
  /** SHA-256 of the central model file a local model was adapted from. */
  std::string
  GetCentralSHA256() const;
  /** Trainable parameters of the adapter, and parameters of the U-Net (for cost comparisons). */
  std::size_t
  GetNumberOfAdapterParameters() const;
  std::size_t
  GetNumberOfUNetParameters() const;

  /** What the U-Net predicts: "epsilon" (the noise) or "v_prediction" (diffusers' names; "" until
   * loaded). Continuing a central model's training (DiffusionPretrainFilter::SetInitialModel) must
   * keep it. */
  std::string
  GetPredictionType() const;

  /** diffusers' JSON of the U-Net and of the scheduler. */
  std::string
  GetUNetConfiguration() const;
  std::string
  GetSchedulerConfiguration() const;

  /** What to sample and how. */
  struct SampleRequest
  {
    std::size_t   NumberOfSamples = 1;
    std::size_t   BatchSize = 8;
    unsigned int  NumberOfSteps = 50;
    double        Eta = 0.0;
    double        GuidanceScale = 1.0;
    std::uint64_t Seed = 0;
    std::string   Device = "cpu";
    std::string   Sampler = "ddim";
    /** LibTorch threads; 0 leaves the application's setting (LibTorchThreads) as it is. */
    unsigned int NumberOfThreads = 0;
    /** A local model's conditioning: profiles x genes, row-major, preprocessed with the model's
     * preprocessing; one sample per profile (NumberOfSamples is then ignored). */
    std::vector<float> Conditions;
    /** Zero this many randomly chosen genes of each profile (seeded from Seed). */
    unsigned int GeneDropout = 0;
  };

  /** Samples images: returns N x C x H x W floats in [-1, 1] (image, channel, row, column; row-major).
   * `progress(done, total)` is called after every U-Net evaluation and may throw to abort. */
  std::vector<float>
  Sample(const SampleRequest & request, const std::function<void(std::int64_t, std::int64_t)> & progress) const;

  /** Throws unless `device` is "cpu", "cuda" or "cuda:N" and available in this build and machine. */
  static void
  VerifyDevice(const std::string & device);

  /** Releases the engine model. */
  void
  Initialize() override;

protected:
  DiffusionModel();
  ~DiffusionModel() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  friend class GeneConditionedAdaptFilter;
  friend class DiffusionPretrainFilter;
  struct Internals;
  std::unique_ptr<Internals> m_Internals;
  std::string                m_Path;
};

} // namespace itk

#endif
