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

// SamplerAccuracyBenchmark MODEL N SEED [DATASET.h5 GUIDANCE [CENTRAL]]: how close each sampler
// comes to the probability-flow ODE's solution, and at what cost. From the same initial noise (seed
// SEED, N images), DDIM with 1,000 steps is the reference; DDIM at 25/50/100/250 steps and
// DPM-Solver++ and UniPC at 10/15/20/25 steps are compared with it by the mean absolute pixel
// difference (in 8-bit grey levels: [-1, 1] spans 255) and timed, each time reported as a ratio to
// DDIM-250's measured in the same run. A local model samples with classifier-free guidance GUIDANCE
// on the first N profiles of DATASET's training spots (CENTRAL: its central model, when the local
// model only references it).

#include "itkConditioningProfiles.h"
#include "itkDiffusionModel.h"
#include "itkGenePreprocessing.h"
#include "itkSpotPatchDataset.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <string>

namespace
{
struct Run
{
  std::string        sampler;
  unsigned int       steps;
  std::vector<float> images;
  double             seconds;
};

Run
Sample(const itk::DiffusionModel & model, itk::DiffusionModel::SampleRequest request, const std::string & sampler,
       unsigned int steps)
{
  request.Sampler = sampler;
  request.NumberOfSteps = steps;
  const auto start = std::chrono::steady_clock::now();
  auto       images = model.Sample(request, {});
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return { sampler, steps, std::move(images), seconds };
}

double
MeanAbsoluteDifference(const std::vector<float> & a, const std::vector<float> & b)
{
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
  {
    sum += std::abs(static_cast<double>(a[i]) - b[i]);
  }
  return sum / static_cast<double>(a.size());
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc != 4 && argc != 6 && argc != 7)
  {
    std::cerr << "usage: SamplerAccuracyBenchmark MODEL N SEED [DATASET.h5 GUIDANCE [CENTRAL]]" << std::endl;
    return 2;
  }
  try
  {
    auto model = itk::DiffusionModel::New();
    model->Load(argv[1], argc == 7 ? argv[6] : "");
    itk::DiffusionModel::SampleRequest request;
    request.NumberOfSamples = std::stoul(argv[2]);
    request.BatchSize = request.NumberOfSamples;
    request.Seed = std::stoull(argv[3]);
    if (argc >= 6)
    {
      const auto dataset = itk::SpotPatchDataset::Read(argv[4]);
      const auto spots = dataset->GetSpots();
      const auto preprocessing = itk::GenePreprocessing::FromJSON(model->GetGenePreprocessing());
      if (!(spots->HasExpression() && spots->GetPreprocessing() == preprocessing))
      {
        spots->ApplyPreprocessing(preprocessing);
      }
      const auto profiles = itk::ConditioningProfiles::Resample(*spots, 1.0, static_cast<std::uint32_t>(request.Seed));
      const std::size_t genes = profiles.Expression.cols();
      const std::size_t count = std::min(request.NumberOfSamples, profiles.SourceSpots.size());
      request.Conditions.assign(profiles.Expression.begin(), profiles.Expression.begin() + count * genes);
      request.GuidanceScale = std::stod(argv[5]);
    }
    const Run        reference = Sample(*model, request, "ddim", 1000);
    std::vector<Run> runs;
    for (const unsigned int steps : { 25u, 50u, 100u, 250u })
    {
      runs.push_back(Sample(*model, request, "ddim", steps));
    }
    const double ddim250 = runs.back().seconds;
    for (const std::string sampler : { "dpmsolver++", "unipc" })
    {
      for (const unsigned int steps : { 10u, 15u, 20u, 25u })
      {
        runs.push_back(Sample(*model, request, sampler, steps));
      }
    }
    std::cout << "model " << argv[1] << ", "
              << reference.images.size() /
                   (model->GetImageSize() * model->GetImageSize() * model->GetNumberOfChannels())
              << " images, guidance " << request.GuidanceScale << ", reference ddim 1000 steps (" << reference.seconds
              << " s)\n";
    std::cout << "sampler\tsteps\tmean_abs_diff_grey_levels\tseconds\ttime_vs_ddim250\n";
    for (const auto & run : runs)
    {
      std::cout << run.sampler << '\t' << run.steps << '\t' << std::setprecision(4)
                << 127.5 * MeanAbsoluteDifference(run.images, reference.images) << '\t' << run.seconds << '\t'
                << run.seconds / ddim250 << '\n';
    }
  }
  catch (const std::exception & e)
  {
    std::cerr << e.what() << std::endl;
    return 1;
  }
  return 0;
}
