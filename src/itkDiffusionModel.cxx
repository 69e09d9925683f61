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
#include "itkDiffusionModel.h"

#include "itkTorchErrors.h"
#include "itkDiffusionModelInternals.h"
#include "itkDiffusionSampler.h"
#include "itkLocalModelFile.h"

#include "itkMacro.h"
#include "itkTorchDevice.h"

#include <algorithm>
#include <cstdlib>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

namespace itk
{
namespace
{
/** A request's profiles as a tensor (with its gene dropout), checked against the adapter. */
torch::Tensor
ConditionsOf(const DiffusionModel::SampleRequest & request, std::int64_t numberOfGenes, const std::string & path)
{
  const auto genes = static_cast<std::size_t>(numberOfGenes);
  if (request.Conditions.empty() || request.Conditions.size() % genes != 0)
  {
    itkGenericExceptionMacro(<< "The local model " << path << " samples for expression profiles of " << genes
                             << " genes; got " << request.Conditions.size() << " values (give whole profiles, "
                             << "preprocessed with the model's own preprocessing)");
  }
  for (const float v : request.Conditions)
  {
    if (!std::isfinite(v))
    {
      itkGenericExceptionMacro(<< "The expression profiles hold a non-finite value (NaN or infinity)");
    }
  }
  const auto rows = static_cast<std::int64_t>(request.Conditions.size() / genes);
  auto       conditions = torch::from_blob(const_cast<float *>(request.Conditions.data()),
                                     { rows, static_cast<std::int64_t>(genes) },
                                     torch::kFloat32)
                      .clone();
  if (request.GeneDropout > 0)
  {
    if (request.GeneDropout >= genes)
    {
      itkGenericExceptionMacro(<< "Gene dropout of " << request.GeneDropout << " genes leaves none of the " << genes);
    }
    // k genes of each profile zeroed at random, from a generator of its own (seeded from Seed).
    auto generator = at::make_generator<at::CPUGeneratorImpl>(request.Seed ^ 0x9E3779B97F4A7C15ull);
    for (std::int64_t r = 0; r < rows; ++r)
    {
      const auto order = torch::randperm(static_cast<std::int64_t>(genes), generator, torch::kLong);
      conditions[r].index_fill_(0, order.slice(0, 0, request.GeneDropout), 0.0);
    }
  }
  return conditions;
}

} // namespace

DiffusionModel::DiffusionModel() = default;

DiffusionModel::~DiffusionModel() = default;

void
DiffusionModel::Load(const std::string & path, const std::string & centralPath)
{
  try
  {
    auto internals = std::make_unique<Internals>();
    if (adaptation::IsLocalModelFile(path))
    {
      auto local = adaptation::LoadLocalModel(path, centralPath);
      internals->model.unet = local.central;
      internals->model.schedule = local.schedule;
      internals->adapter = local.adapter;
      internals->preprocessing = local.preprocessing;
      internals->centralSHA256 = local.centralSHA256;
    }
    else
    {
      internals->model = diffusion::LoadDiffusionModel(path);
      internals->patchColourMean = diffusion::StatedPatchColourMean(internals->model.metadata, path);
    }
    m_Internals = std::move(internals);
    m_Path = path;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Cannot load the diffusion model " << path << ": " << e.what());
  }
  this->Modified();
}

void
DiffusionModel::Save(const std::string & fileName, bool halfPrecision) const
{
  if (!IsLoaded())
  {
    itkExceptionMacro(<< "No model to save: load or train one first");
  }
  if (IsConditional())
  {
    itkExceptionMacro(<< "A local (gene-conditioned) model is saved by the adaptation, as a local model file; "
                         "Save writes central models only");
  }
  try
  {
    diffusion::SaveDiffusionModel(
      fileName, m_Internals->model.unet, m_Internals->model.schedule, m_Internals->model.metadata, halfPrecision);
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Cannot save the diffusion model to " << fileName << ": " << e.what());
  }
}

bool
DiffusionModel::IsLoaded() const
{
  return m_Internals != nullptr;
}

unsigned int
DiffusionModel::GetImageSize() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->model.unet->Config().sampleSize) : 0;
}

unsigned int
DiffusionModel::GetNumberOfChannels() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->model.unet->Config().inChannels) : 0;
}

unsigned int
DiffusionModel::GetNumberOfTrainTimesteps() const
{
  return IsLoaded() ? static_cast<unsigned int>(m_Internals->model.schedule->NumTrainTimesteps()) : 0;
}

bool
DiffusionModel::IsConditional() const
{
  return IsLoaded() && m_Internals->adapter;
}

unsigned int
DiffusionModel::GetNumberOfGenes() const
{
  return IsConditional() ? static_cast<unsigned int>(m_Internals->adapter->ConditionSize()) : 0;
}

std::string
DiffusionModel::GetGenePreprocessing() const
{
  return IsConditional() ? m_Internals->preprocessing : std::string();
}

double
DiffusionModel::GetPixelSize() const
{
  if (!IsLoaded())
  {
    return 0.0;
  }
  const auto stated = m_Internals->model.metadata.find("pixel_size_um");
  return stated == m_Internals->model.metadata.end() ? 0.0 : std::max(0.0, std::atof(stated->second.c_str()));
}

std::vector<double>
DiffusionModel::GetPatchColourMean() const
{
  return IsLoaded() ? m_Internals->patchColourMean : std::vector<double>();
}

std::string
DiffusionModel::GetCentralSHA256() const
{
  return IsConditional() ? m_Internals->centralSHA256 : std::string();
}

std::size_t
DiffusionModel::GetNumberOfAdapterParameters() const
{
  std::size_t count = 0;
  if (IsConditional())
  {
    for (const auto & named : m_Internals->adapter->NamedWeights())
    {
      count += static_cast<std::size_t>(named.second.numel());
    }
  }
  return count;
}

std::size_t
DiffusionModel::GetNumberOfUNetParameters() const
{
  std::size_t count = 0;
  if (IsLoaded())
  {
    for (const auto & parameter : m_Internals->model.unet->parameters())
    {
      count += static_cast<std::size_t>(parameter.numel());
    }
  }
  return count;
}

std::string
DiffusionModel::GetUNetConfiguration() const
{
  return IsLoaded() ? m_Internals->model.unet->Config().ToJson() : std::string();
}

std::string
DiffusionModel::GetPredictionType() const
{
  return IsLoaded() ? m_Internals->model.schedule->Config().predictionType : std::string();
}

std::string
DiffusionModel::GetSchedulerConfiguration() const
{
  return IsLoaded() ? m_Internals->model.schedule->Config().ToJson() : std::string();
}

void
DiffusionModel::VerifyDevice(const std::string & device)
{
  try
  {
    torchcore::ResolveDevice(device);
  }
  catch (const std::exception & e)
  {
    throw ExceptionObject(__FILE__, __LINE__, e.what(), ITK_LOCATION);
  }
}

std::vector<float>
DiffusionModel::Sample(const SampleRequest &                                   request,
                       const std::function<void(std::int64_t, std::int64_t)> & progress) const
{
  if (!IsLoaded())
  {
    itkExceptionMacro(<< "No diffusion model is loaded");
  }
  torch::Tensor samples;
  try
  {
    torchcore::SetTorchThreads(static_cast<int>(request.NumberOfThreads));
    const auto device = torchcore::ResolveDevice(request.Device);
    auto &     model = m_Internals->model;
    model.unet->to(device);
    model.schedule->to(device);
    diffusion::SamplerOptions options;
    options.method = request.Sampler;
    options.steps = request.NumberOfSteps;
    options.eta = request.Eta;
    options.guidanceScale = request.GuidanceScale;
    options.seed = request.Seed;
    options.batchSize = static_cast<std::int64_t>(request.BatchSize);
    options.progress = progress;
    diffusion::DiffusionSampler sampler(model.unet, model.schedule);
    if (IsConditional())
    {
      const auto conditions = ConditionsOf(request, m_Internals->adapter->ConditionSize(), m_Path);
      m_Internals->adapter->to(device);
      samples = sampler.Sample(conditions.size(0), options, m_Internals->adapter.get(), conditions).contiguous();
    }
    else
    {
      if (!request.Conditions.empty())
      {
        itkExceptionMacro(<< "Expression profiles were given, but " << m_Path
                          << " is a central (unconditional) model; give a local model from the adaptation");
      }
      samples = sampler.Sample(static_cast<std::int64_t>(request.NumberOfSamples), options).contiguous();
    }
  }
  catch (const ExceptionObject &)
  {
    // ProcessAborted and other ITK exceptions thrown by the progress callback pass unchanged.
    throw;
  }
  catch (const std::exception & e)
  {
    itkExceptionMacro(<< "Sampling from " << m_Path << " failed: " << e.what());
  }
  const float * data = samples.data_ptr<float>();
  return std::vector<float>(data, data + samples.numel());
}

void
DiffusionModel::Initialize()
{
  Superclass::Initialize();
  m_Internals.reset();
  m_Path.clear();
}

void
DiffusionModel::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Path: " << m_Path << std::endl;
  os << indent << "Loaded: " << (IsLoaded() ? "yes" : "no") << std::endl;
  if (IsLoaded())
  {
    os << indent << "Conditional (local model): " << (IsConditional() ? "yes" : "no") << std::endl;
    if (IsConditional())
    {
      os << indent << "Genes: " << GetNumberOfGenes() << ", adapter parameters: " << GetNumberOfAdapterParameters()
         << ", central SHA-256: " << GetCentralSHA256() << std::endl;
    }
    os << indent << "PixelSize: " << GetPixelSize() << std::endl;
    os << indent << "PatchColourMean:";
    for (const double channel : GetPatchColourMean())
    {
      os << ' ' << channel;
    }
    os << (GetPatchColourMean().empty() ? " (not stated)" : "") << std::endl;
    os << indent << "PredictionType: " << GetPredictionType() << std::endl;
    os << indent << "UNetConfiguration: " << GetUNetConfiguration() << std::endl;
    os << indent << "SchedulerConfiguration: " << GetSchedulerConfiguration() << std::endl;
  }
}

} // namespace itk
