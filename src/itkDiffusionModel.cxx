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

#include "itkDiffusionErrors.h"
#include "itkDiffusionModelFile.h"
#include "itkDiffusionSampler.h"

#include "itkMacro.h"

#include <torch/torch.h>

namespace itk
{

struct DiffusionModel::Internals
{
  diffusion::DiffusionModelData model;
};

DiffusionModel::DiffusionModel() = default;

DiffusionModel::~DiffusionModel() = default;

void
DiffusionModel::Load(const std::string & path)
{
  try
  {
    auto internals = std::make_unique<Internals>();
    internals->model = diffusion::LoadDiffusionModel(path);
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
DiffusionModel::Save(const std::string & fileName) const
{
  if (!IsLoaded())
  {
    itkExceptionMacro(<< "No model to save: load or train one first");
  }
  try
  {
    diffusion::SaveDiffusionModel(
      fileName, m_Internals->model.unet, m_Internals->model.schedule, m_Internals->model.metadata);
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

std::string
DiffusionModel::GetUNetConfiguration() const
{
  return IsLoaded() ? m_Internals->model.unet->Config().ToJson() : std::string();
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
    diffusion::ResolveDevice(device);
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
    diffusion::SetTorchThreads(static_cast<int>(request.NumberOfThreads));
    const auto device = diffusion::ResolveDevice(request.Device);
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
    samples = diffusion::DiffusionSampler(model.unet, model.schedule)
                .Sample(static_cast<std::int64_t>(request.NumberOfSamples), options)
                .contiguous();
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
    os << indent << "UNetConfiguration: " << GetUNetConfiguration() << std::endl;
    os << indent << "SchedulerConfiguration: " << GetSchedulerConfiguration() << std::endl;
  }
}

} // namespace itk
