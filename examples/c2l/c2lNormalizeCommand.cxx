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

// c2l normalize: H&E stain normalisation of an image, a stack of patches, or (streamed region by
// region) a slide larger than memory.

#include "c2lCommands.h"
#include "itkFileChecks.h"
#include "c2lProgressBar.h"

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkShrinkImageFilter.h"
#include "itkStainNormalizeFilter.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include <iostream>
#include <memory>

namespace c2l
{
namespace
{

struct NormalizeOptions
{
  std::string  Method;
  std::string  Target;
  std::string  TargetParameters;
  std::string  SourceParameters;
  std::string  SaveTargetParameters;
  std::string  SaveSourceParameters;
  std::string  StainsPrefix;
  unsigned int EstimateShrink{ 1 };
  unsigned int StreamDivisions{ 0 };
  bool         Force{ false };
  std::string  Input;
  std::string  Output;
};

/** Regions of about 4 megapixels (12 MB of RGB) when streaming. */
unsigned int
AutomaticStreamDivisions(std::size_t numberOfPixels)
{
  constexpr std::size_t regionPixels = std::size_t{ 1 } << 22;
  return static_cast<unsigned int>(std::max<std::size_t>(1, (numberOfPixels + regionPixels - 1) / regionPixels));
}

/** Estimate the source stains on a down-sampled, streamed read: the whole image is never in memory. */
template <typename TImage>
itk::StainParameters
EstimateOnShrunkRead(const std::string & path, unsigned int factor, unsigned int divisions,
                     itk::StainNormalizationMethod method, const itk::StainEstimationOptions & options)
{
  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  auto shrink = itk::ShrinkImageFilter<TImage, TImage>::New();
  shrink->SetInput(reader->GetOutput());
  shrink->SetShrinkFactors(factor);
  if (TImage::ImageDimension == 3)
  {
    shrink->SetShrinkFactor(2, 1); // a stack of patches keeps every patch
  }
  auto streamer = itk::StreamingImageFilter<TImage, TImage>::New();
  streamer->SetInput(shrink->GetOutput());
  streamer->SetNumberOfStreamDivisions(divisions);
  streamer->Update();
  const TImage * small = streamer->GetOutput();
  const auto estimate = itk::StainAnalysis::Estimate(reinterpret_cast<const unsigned char *>(small->GetBufferPointer()),
                                                     small->GetBufferedRegion().GetNumberOfPixels(),
                                                     small->GetNumberOfComponentsPerPixel(),
                                                     method,
                                                     options);
  if (!estimate)
  {
    itkGenericExceptionMacro(<< "The input " << path << " shows no tissue at 1/" << factor
                             << " scale; nothing to estimate (give --source-params or a smaller --estimate-shrink)");
  }
  return *estimate;
}

template <typename TImage>
void
WriteImage(const TImage * image, const std::string & path)
{
  auto writer = itk::ImageFileWriter<TImage>::New();
  writer->SetInput(image);
  writer->SetFileName(path);
  writer->UseCompressionOn();
  writer->Update();
}

template <unsigned int VDimension>
void
RunNormalize(const NormalizeOptions & o, std::size_t numberOfPixels)
{
  using ImageType = itk::VectorImage<unsigned char, VDimension>;
  using FilterType = itk::StainNormalizeFilter<ImageType>;

  auto filter = FilterType::New();
  bool methodGiven = !o.Method.empty();
  auto method = methodGiven ? itk::StainParameters::MethodFromString(o.Method) : itk::StainNormalizationMethod::Macenko;

  if (!o.Target.empty())
  {
    itk::FileChecks::RequireColorImage(o.Target, "target");
    filter->SetReferenceImage(itk::ReadImage<ImageType>(o.Target));
  }
  else
  {
    const auto target = itk::StainParameters::ReadJSONFile(o.TargetParameters);
    if (methodGiven && target.Method != method)
    {
      itkGenericExceptionMacro(<< o.TargetParameters << " holds " << target.Method << " parameters but --method is "
                               << method << "; drop --method or use matching parameters");
    }
    method = target.Method;
    filter->SetTargetParameters(target);
  }
  filter->SetMethod(method);

  const bool         stream = !o.SourceParameters.empty() || o.EstimateShrink > 1;
  const bool         stains = !o.StainsPrefix.empty();
  const unsigned int automatic = AutomaticStreamDivisions(numberOfPixels);
  if (!o.SourceParameters.empty())
  {
    filter->SetSourceParameters(itk::StainParameters::ReadJSONFile(o.SourceParameters));
  }
  else if (o.EstimateShrink > 1)
  {
    filter->SetSourceParameters(
      EstimateOnShrunkRead<ImageType>(o.Input, o.EstimateShrink, automatic, method, filter->GetEstimationOptions()));
  }

  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetFileName(o.Input);
  filter->SetInput(reader->GetOutput());
  filter->SetComputeConcentrations(stains);

  auto progress = ProgressBar::New();
  progress->Watch(filter, "normalize");

  auto writer = itk::ImageFileWriter<ImageType>::New();
  writer->SetInput(filter->GetOutput());
  writer->SetFileName(o.Output);
  // Concentration images are written from memory, so they need the whole image at once.
  const unsigned int divisions = o.StreamDivisions > 0 ? o.StreamDivisions : (stream && !stains ? automatic : 1);
  writer->SetNumberOfStreamDivisions(divisions);
  writer->Update();

  if (!filter->GetInputHasTissue())
  {
    std::cerr << "c2l: warning: " << o.Input << " has no tissue; it was copied unchanged" << std::endl;
  }
  if (stains)
  {
    WriteImage(filter->GetHematoxylinOutput(), o.StainsPrefix + "hematoxylin.mha");
    WriteImage(filter->GetEosinOutput(), o.StainsPrefix + "eosin.mha");
  }
  if (!o.SaveTargetParameters.empty())
  {
    filter->GetTargetParameters().WriteJSONFile(o.SaveTargetParameters);
  }
  if (!o.SaveSourceParameters.empty() && filter->GetInputHasTissue())
  {
    filter->GetSourceParameters().WriteJSONFile(o.SaveSourceParameters);
  }
  std::cout << "source: " << filter->GetSourceParameters() << "\ntarget: " << filter->GetTargetParameters()
            << "\nwrote " << o.Output
            << (divisions > 1 ? " (streamed in " + std::to_string(divisions) + " regions)" : "") << std::endl;
}

void
Normalize(const NormalizeOptions & o)
{
  const auto info = itk::FileChecks::RequireColorImage(o.Input, "input");
  // Check every output before any work, so that a refusal costs nothing and loses nothing.
  itk::FileChecks::RequireWritable(o.Output, o.Force, o.Input);
  for (const auto & path : { o.SaveTargetParameters, o.SaveSourceParameters })
  {
    if (!path.empty())
    {
      itk::FileChecks::RequireWritable(path, o.Force, o.Input);
    }
  }
  if (!o.StainsPrefix.empty())
  {
    itk::FileChecks::RequireWritable(o.StainsPrefix + "hematoxylin.mha", o.Force, o.Input);
    itk::FileChecks::RequireWritable(o.StainsPrefix + "eosin.mha", o.Force, o.Input);
  }
  if (info.Dimension == 2)
  {
    RunNormalize<2>(o, info.NumberOfPixels);
  }
  else
  {
    RunNormalize<3>(o, info.NumberOfPixels);
  }
}

} // namespace

void
AddNormalizeCommand(CLI::App & app)
{
  auto   options = std::make_shared<NormalizeOptions>();
  auto * command = app.add_subcommand("normalize", DescriptionOf("normalize"));
  command->add_option("--method", options->Method, "macenko (default), vahadane, reinhard or ruifrok")
    ->check(CLI::IsMember({ "macenko", "vahadane", "reinhard", "ruifrok" }, CLI::ignore_case));
  auto * target = command->add_option("--target", options->Target, "Reference image whose stain appearance to match");
  auto * targetParameters =
    command->add_option("--target-params", options->TargetParameters, "Saved target parameters (JSON)");
  target->excludes(targetParameters);
  command->add_option("--source-params",
                      options->SourceParameters,
                      "The input's own parameters (JSON): skips estimation and streams the input region by region");
  command
    ->add_option("--estimate-shrink",
                 options->EstimateShrink,
                 "Estimate the input's stains on a read down-sampled by this factor, then stream (for slides "
                 "larger than memory)")
    ->check(CLI::PositiveNumber);
  command->add_option("--stream-divisions",
                      options->StreamDivisions,
                      "Regions to stream in (default when streaming: regions of about 4 megapixels)");
  command->add_option("--save-target-params", options->SaveTargetParameters, "Write the target parameters (JSON)");
  command->add_option("--save-source-params", options->SaveSourceParameters, "Write the input's parameters (JSON)");
  command->add_option(
    "--stains-out", options->StainsPrefix, "Also write PREFIXhematoxylin.mha and PREFIXeosin.mha (concentrations)");
  command->add_flag("--force", options->Force, "Replace output files that already exist");
  command->add_option("INPUT", options->Input, "8-bit RGB or RGBA image (2-D, or a 3-D stack of patches)")->required();
  command->add_option("OUTPUT", options->Output, "Normalised image")->required();
  command->callback([options]() {
    if (options->Target.empty() && options->TargetParameters.empty())
    {
      throw CLI::ValidationError("normalize needs a target: --target REF_IMAGE or --target-params P.json");
    }
    Normalize(*options);
  });
}

} // namespace c2l
