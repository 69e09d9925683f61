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
#include "itkMethodStepRunner.h"

#include "itkConditioningProfiles.h"
#include "itkDiffusionPretrainFilter.h"
#include "itkDiffusionSampleFilter.h"
#include "itkExtractImageFilter.h"
#include "itkFileChecks.h"
#include "itkGeneConditionedAdaptFilter.h"
#include "itkGeneRegressorTrainFilter.h"
#include "itkImageFileWriter.h"
#include "itkPatchDatasetExtractor.h"
#include "itkSpotPatchDataset.h"
#include "itkSpotPredictions.h"
#include "itkTimeProbe.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

namespace itk
{
namespace
{
using FilterType = DiffusionSampleFilter<>;

/** The profiles a local model is conditioned on: the dataset's training spots in the model's
 * preprocessing (recomputed from raw counts when the dataset was preprocessed otherwise),
 * resampled to the ratio. */
ConditioningProfiles
ProfilesFor(const DiffusionModel & model, const SamplingStepSettings & o, SpatialExpressionData::Pointer & spots)
{
  const auto dataset = SpotPatchDataset::Read(o.Expression);
  spots = dataset->GetSpots();
  const auto preprocessing = GenePreprocessing::FromJSON(model.GetGenePreprocessing());
  if (!(spots->HasExpression() && spots->GetPreprocessing() == preprocessing))
  {
    if (spots->GetCounts().Rows != spots->GetNumberOfSpots())
    {
      itkGenericExceptionMacro(<< o.Expression << " holds no raw counts to preprocess the model's way, and its "
                               << "expression was preprocessed otherwise");
    }
    spots->ApplyPreprocessing(preprocessing); // names the model's genes it lacks, if any
  }
  return ConditioningProfiles::Resample(*spots, o.Ratio, static_cast<std::uint32_t>(o.Seed), o.Perturbation);
}

/** Synthetic (patch, expression) pairs as a dataset the regressor reads, with how they were drawn. */
void
WriteSyntheticDataset(FilterType::OutputImageType * stack, const ConditioningProfiles & profiles,
                      const SpatialExpressionData & source, const DiffusionModel & model,
                      const SamplingStepSettings & o)
{
  const auto dataset = SpotPatchDataset::FromSynthesis(stack, profiles, source, model.GetGenePreprocessing());
  auto *     spots = dataset->GetSpots();
  spots->SetMetadata("model", o.Model);
  spots->SetMetadata("expression_source", o.Expression);
  spots->SetMetadata("ratio", std::to_string(o.Ratio));
  spots->SetMetadata("guidance", std::to_string(o.Guidance));
  spots->SetMetadata("seed", std::to_string(o.Seed));
  spots->SetMetadata("sampler", o.Sampler);
  spots->SetMetadata("sampling_steps", std::to_string(o.Steps));
  dataset->Write(o.Output);
}

} // namespace

void
MethodStepRunner::Follow(ProcessObject * filter, const std::string & step)
{
  m_StepName = step;
  this->SetObjectName(step);         // what a progress display shows
  this->SetAbortGenerateData(false); // as a filter's Update does: an abort stops the step it came during
  this->UpdateProgress(0.0f);
  auto forward = MemberCommand<Self>::New();
  forward->SetCallbackFunction(this, &Self::ForwardEvent);
  filter->AddObserver(ProgressEvent(), forward);
  filter->AddObserver(EndEvent(), forward);
}

void
MethodStepRunner::ForwardEvent(Object * caller, const EventObject & event)
{
  auto * filter = static_cast<ProcessObject *>(caller);
  if (this->GetAbortGenerateData())
  {
    filter->AbortGenerateDataOn();
  }
  if (EndEvent().CheckEvent(&event))
  {
    this->InvokeEvent(EndEvent());
    return;
  }
  this->UpdateProgress(filter->GetProgress());
}

std::string
MethodStepRunner::Extract(const ExtractionStepSettings & o)
{
  auto extractor = PatchDatasetExtractor::New();
  extractor->SetSettings(o);
  Follow(extractor, "extract");
  extractor->Update();
  return extractor->GetSummary();
}

std::string
MethodStepRunner::Pretrain(const PretrainingStepSettings & o)
{
  std::ostringstream summary;
  // Every refusal comes before any work.
  PretrainingSettings training = o.Training;
  // In a data-parallel run rank 0 alone writes the files and reads the checkpoint: it checks them.
  const bool writer = o.DataParallel.Rank == 0;
  if (writer)
  {
    FileChecks::RequireWritable(o.Output, o.Force || training.Resume, o.InitialModel);
  }
  if (writer && !o.LossLog.empty())
  {
    FileChecks::RequireWritable(o.LossLog, o.Force || training.Resume);
  }
  for (unsigned int step = o.SnapshotInterval; writer && o.SnapshotInterval > 0 && step <= training.NumberOfSteps;
       step += o.SnapshotInterval)
  {
    FileChecks::RequireWritable(DiffusionPretrainFilter::SnapshotFileName(o.Output, step), o.Force || training.Resume);
  }
  if (training.CheckpointFileName.empty())
  {
    training.CheckpointFileName = o.Output + ".checkpoint";
  }
  if (writer && training.Resume && !FileChecks::Exists(training.CheckpointFileName))
  {
    itkGenericExceptionMacro(
      << "Resume: the checkpoint " << training.CheckpointFileName
      << " does not exist (a run writes one when CheckpointInterval is above 0; c2l: --checkpoint-every N)");
  }
  auto         filter = DiffusionPretrainFilter::New();
  unsigned int imageSize = training.ImageSize;
  if (!o.InitialModel.empty())
  {
    auto initial = DiffusionModel::New();
    initial->Load(o.InitialModel);
    filter->SetInitialModel(initial);
    if (o.PredictionTypeOfInitialModel)
    {
      training.PredictionType = initial->GetPredictionType();
    }
    summary << "starting from " << o.InitialModel << " (" << initial->GetImageSize() << " px, "
            << initial->GetNumberOfUNetParameters() << " U-Net parameters, " << initial->GetPredictionType() << ")\n";
  }
  for (const auto & path : o.Data)
  {
    const auto dataset = SpotPatchDataset::Read(path);
    const auto size = dataset->GetPatches()->GetLargestPossibleRegion().GetSize();
    if (imageSize == 0)
    {
      imageSize = static_cast<unsigned int>(size[0]);
    }
    if (size[0] != imageSize || size[1] != imageSize)
    {
      itkGenericExceptionMacro(
        << path << " has " << size[0] << "x" << size[1] << " patches but the model takes " << imageSize << "x"
        << imageSize << ": use datasets of one patch size (or set ImageSize to match them; c2l: --image-size)");
    }
    filter->AddPatches(dataset->GetPatches());
    summary << "read " << size[2] << " patches of " << size[0] << "x" << size[1] << " from " << path << '\n';
  }
  training.ImageSize = imageSize;
  filter->SetTrainingSettings(training);
  filter->SetDataParallel(o.DataParallel);
  filter->SetLossLogFileName(o.LossLog);
  filter->SetHalfPrecisionOutput(o.HalfPrecision);
  filter->SetSnapshotInterval(o.SnapshotInterval);
  filter->SetNumberOfTorchThreads(o.Threads);
  filter->SetOutputFileName(o.Output);
  Follow(filter, "pretrain");
  filter->Update();
  const std::string written = writer ? "wrote " + o.Output : "rank 0 wrote " + o.Output;
  if (o.DataParallel.IsDataParallel())
  {
    summary << "rank " << o.DataParallel.Rank << " of " << o.DataParallel.WorldSize << ": ";
  }
  if (filter->GetStepsTrained() == 0)
  {
    summary << "the checkpoint already holds all " << training.NumberOfSteps << " steps: nothing to train; " << written
            << '\n';
    return summary.str();
  }
  summary << "trained " << filter->GetStepsTrained() << " steps, to step " << training.NumberOfSteps << " (last loss "
          << filter->GetFinalLoss() << "); " << written << '\n';
  return summary.str();
}

std::string
MethodStepRunner::Adapt(const AdaptationStepSettings & o)
{
  std::ostringstream summary;
  FileChecks::RequireWritable(o.Output, o.Force || o.Training.Resume, o.Central);
  auto central = DiffusionModel::New();
  central->Load(o.Central);
  const auto dataset = SpotPatchDataset::Read(o.Data);

  auto filter = GeneConditionedAdaptFilter::New();
  filter->SetCentralModel(central);
  filter->SetDataset(dataset);
  filter->SetOutputFileName(o.Output);
  filter->SetTrainingSettings(o.Training);
  filter->SetNumberOfTorchThreads(o.Threads);
  filter->SetEmbedCentralModel(o.EmbedCentral);
  Follow(filter, "adapt");
  TimeProbe clock;
  clock.Start();
  filter->Update();
  clock.Stop();
  const auto * local = filter->GetOutput();
  summary << "wrote " << o.Output << ": " << local->GetNumberOfGenes() << " genes, "
          << filter->GetNumberOfTrainingSpots() << " training spots, " << local->GetNumberOfAdapterParameters()
          << " trained adapter parameters (the frozen U-Net has " << local->GetNumberOfUNetParameters()
          << "), final loss " << filter->GetFinalLoss() << ", " << clock.GetTotal() << " s; central model "
          << (o.EmbedCentral ? "embedded" : "referenced by SHA-256 " + local->GetCentralSHA256()) << '\n';
  return summary.str();
}

std::string
MethodStepRunner::Sample(const SamplingStepSettings & settings)
{
  std::ostringstream   summary;
  SamplingStepSettings o = settings; // a local model decides the count and the guidance
  using StackType = FilterType::OutputImageType;
  using PatchType = Image<RGBPixel<unsigned char>, 2>;
  const std::filesystem::path out(o.Output);
  const bool                  folder = !out.has_extension();
  if (folder)
  {
    std::filesystem::create_directories(out);
  }
  else
  {
    FileChecks::RequireWritable(o.Output, o.Force, o.Model);
  }
  auto model = DiffusionModel::New();
  model->Load(o.Model, o.Central);
  auto filter = FilterType::New();
  filter->SetModel(model);
  ConditioningProfiles           profiles;
  SpatialExpressionData::Pointer sourceSpots;
  if (model->IsConditional())
  {
    if (o.Expression.empty())
    {
      itkGenericExceptionMacro(<< o.Model
                               << " is a local (gene-conditioned) model: set Expression to the dataset (.h5) whose "
                                  "training profiles condition it (c2l: --expression)");
    }
    profiles = ProfilesFor(*model, o, sourceSpots);
    filter->SetConditioningProfiles(profiles.Expression);
    filter->SetGeneDropout(o.GeneDropout);
    o.NumberOfSamples = static_cast<unsigned int>(profiles.SourceSpots.size());
    if (!o.GuidanceGiven)
    {
      o.Guidance = 3.0; // the paper's guidance for local models
    }
  }
  else if (!o.Expression.empty())
  {
    itkGenericExceptionMacro(<< o.Model << " is a central (unconditional) model; Expression needs a local model "
                             << "(MethodStepRunner::Adapt)");
  }
  filter->SetNumberOfSamples(o.NumberOfSamples);
  filter->SetNumberOfSteps(o.Steps);
  filter->SetEta(o.Eta);
  filter->SetGuidanceScale(o.Guidance);
  filter->SetSeed(o.Seed);
  filter->SetBatchSize(o.Batch);
  filter->SetSampler(o.Sampler);
  filter->SetDevice(o.Device);
  filter->SetNumberOfTorchThreads(o.Threads);
  Follow(filter, "sample");
  filter->Update();
  StackType * stack = filter->GetOutput();
  if (out.extension() == ".h5" && model->IsConditional())
  {
    WriteSyntheticDataset(stack, profiles, *sourceSpots, *model, o);
    summary << "wrote " << o.NumberOfSamples << " synthetic pairs (ratio " << o.Ratio << ", guidance " << o.Guidance
            << ") to " << o.Output << '\n';
    return summary.str();
  }
  if (out.extension() == ".h5")
  {
    itkGenericExceptionMacro(<< "A .h5 output holds synthetic (patch, expression) pairs, which need a local model "
                                "and Expression; write central-model samples to a folder or an image stack");
  }
  if (!folder)
  {
    WriteImage(stack, o.Output);
    summary << "wrote " << o.NumberOfSamples << " patches to " << o.Output << '\n';
    return summary.str();
  }
  auto region = stack->GetLargestPossibleRegion();
  for (unsigned int k = 0; k < o.NumberOfSamples; ++k)
  {
    auto slice = region;
    slice.SetIndex(2, k);
    slice.SetSize(2, 0);
    auto extract = ExtractImageFilter<StackType, PatchType>::New();
    extract->SetInput(stack);
    extract->SetExtractionRegion(slice);
    extract->SetDirectionCollapseToIdentity();
    std::ostringstream name;
    name << "sample_" << std::setw(5) << std::setfill('0') << k << ".png";
    const auto path = (out / name.str()).string();
    FileChecks::RequireWritable(path, o.Force);
    WriteImage(extract->GetOutput(), path);
  }
  summary << "wrote " << o.NumberOfSamples << " patches (PNG) to " << o.Output << '\n';
  return summary.str();
}

std::string
MethodStepRunner::TrainRegressor(const RegressorTrainingStepSettings & o)
{
  std::ostringstream        summary;
  RegressorTrainingSettings training = o.Training;
  FileChecks::RequireWritable(o.Output, o.Force || training.Resume, o.Data);
  const std::string checkpoint =
    training.CheckpointFileName.empty() ? o.Output + ".checkpoint" : training.CheckpointFileName;
  if (training.Resume && !FileChecks::Exists(checkpoint))
  {
    itkGenericExceptionMacro(
      << "Resume: the checkpoint " << checkpoint
      << " does not exist (a run writes one when CheckpointInterval is above 0; c2l: --checkpoint-every N)");
  }
  // A checkpoint only when asked for (the trainer writes a final one whenever it has a file name).
  training.CheckpointFileName = training.CheckpointInterval > 0 || training.Resume ? checkpoint : std::string();
  auto real = SpotPatchDataset::Read(o.Data);
  if (!o.ExcludedSpots.empty())
  {
    std::vector<bool> excluded(real->GetNumberOfPatches(), false);
    for (const auto row : o.ExcludedSpots)
    {
      if (row >= excluded.size())
      {
        itkGenericExceptionMacro(<< "ExcludedSpots: row " << row << " is out of range: " << o.Data << " holds "
                                 << excluded.size() << " spots");
      }
      excluded[row] = true;
    }
    std::vector<std::size_t> kept;
    for (std::size_t row = 0; row < excluded.size(); ++row)
    {
      if (!excluded[row])
      {
        kept.push_back(row);
      }
    }
    real = real->Select(kept);
  }
  auto filter = GeneRegressorTrainFilter::New();
  filter->SetRealDataset(real);
  SpotPatchDataset::Pointer synthetic;
  if (!o.Synthetic.empty())
  {
    synthetic = SpotPatchDataset::Read(o.Synthetic);
    if (o.SyntheticPairs > 0)
    {
      if (o.SyntheticPairs > synthetic->GetNumberOfPatches())
      {
        itkGenericExceptionMacro(<< o.Synthetic << " holds " << synthetic->GetNumberOfPatches()
                                 << " synthetic pairs, fewer than the " << o.SyntheticPairs << " asked for");
      }
      synthetic = synthetic->Select(SpotPredictions::FirstRows(o.SyntheticPairs));
    }
    filter->SetSyntheticDataset(synthetic);
  }
  filter->SetOutputFileName(o.Output);
  filter->SetTrainingSettings(training);
  filter->SetNumberOfTorchThreads(o.Threads);
  Follow(filter, "train-regressor");
  TimeProbe clock;
  clock.Start();
  filter->Update();
  clock.Stop();
  summary << "wrote " << o.Output << ": ResNet-" << training.Depth << " over "
          << filter->GetOutput()->GetNumberOfGenes() << " genes, trained " << training.NumberOfSteps << " steps on "
          << filter->GetNumberOfRealPairs() << " real + " << filter->GetNumberOfSyntheticPairs()
          << " synthetic pairs (last loss " << filter->GetFinalLoss() << ") in " << clock.GetTotal() << " s" << '\n';
  return summary.str();
}

std::string
MethodStepRunner::Predict(const PredictionStepSettings & o)
{
  std::ostringstream summary;
  FileChecks::RequireWritable(o.Output, o.Force, o.Data);
  if (!o.Metrics.empty())
  {
    FileChecks::RequireWritable(o.Metrics, o.Force, o.Data);
    if (o.CountScale)
    {
      itkGenericExceptionMacro(<< "Metrics compare on the preprocessed scale; leave CountScale off (c2l: --counts)");
    }
  }
  auto model = GeneRegressorModel::New();
  model->Load(o.Model);
  const auto dataset = SpotPatchDataset::Read(o.Data);
  const auto predictions =
    SpotPredictions::Predict(*model, *dataset, o.Spots, o.CountScale, o.Batch, o.Device, o.Threads);
  // The dataset's own expression at the same spots, where it knows it for the regressor's genes:
  // the metrics need it, and an AnnData output carries it as a layer.
  const bool      annData = std::filesystem::path(o.Output).extension() == ".h5ad";
  Array2D<double> truth;
  if (!o.CountScale && (annData || !o.Metrics.empty()))
  {
    try
    {
      truth = predictions.TruthFrom(*dataset, model->GetGenePreprocessing());
    }
    catch (const ExceptionObject & e)
    {
      if (!o.Metrics.empty())
      {
        throw;
      }
      summary << "no truth: " << e.GetDescription() << '\n';
    }
  }
  if (annData)
  {
    predictions.WriteAnnData(o.Output, model->GetGenePreprocessing(), truth);
  }
  else
  {
    predictions.WriteTable(o.Output);
  }
  summary << "wrote " << o.Output << ": " << predictions.SpotIds.size() << " spots x " << predictions.Genes.size()
          << " genes (" << (o.CountScale ? "counts per target sum" : "preprocessed scale") << ")" << '\n';
  if (!o.Metrics.empty())
  {
    const auto metrics = predictions.Evaluate(truth);
    metrics.WriteJSONFile(o.Metrics);
    summary << "MAE " << metrics.MeanAbsoluteError << ", RMSE " << metrics.RootMeanSquaredError << ", mean Pearson "
            << metrics.MeanPearson << " over " << predictions.SpotIds.size() << " spots; wrote " << o.Metrics << '\n';
  }
  return summary.str();
}

void
MethodStepRunner::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "StepName: " << m_StepName << std::endl;
}

} // end namespace itk
