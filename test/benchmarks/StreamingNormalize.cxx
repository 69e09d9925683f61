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

// StreamingNormalize TARGET.json INPUT.mha OUTPUT.mha [SHRINK] [DIVISIONS]: stain normalisation of a
// slide larger than memory as an ITK user's own pipeline runs it, linked to the torch-free library:
// the source stains estimated on a down-sampled streamed read, then the slide normalised region by
// region from a streamable file to a streamable file. run_streaming_benchmark.py measures its peak
// memory beside c2l's (which also loads LibTorch for its diffusion commands).

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkShrinkImageFilter.h"
#include "itkStainNormalizeFilter.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include <cstdlib>
#include <iostream>
#include <optional>

int
main(int argc, char * argv[])
{
  if (argc < 4)
  {
    std::cerr << "usage: " << argv[0] << " TARGET.json INPUT.mha OUTPUT.mha [SHRINK=8] [DIVISIONS=22]" << std::endl;
    return EXIT_FAILURE;
  }
  using ImageType = itk::VectorImage<unsigned char, 2>;
  const unsigned int shrinkFactor = argc > 4 ? std::atoi(argv[4]) : 8;
  const unsigned int divisions = argc > 5 ? std::atoi(argv[5]) : 22;
  try
  {
    const auto target = itk::StainParameters::ReadJSONFile(argv[1]);

    // The down-sampled read lives only as long as the estimate needs it.
    std::optional<itk::StainParameters> source;
    {
      auto reader = itk::ImageFileReader<ImageType>::New();
      reader->SetFileName(argv[2]);
      auto shrink = itk::ShrinkImageFilter<ImageType, ImageType>::New();
      shrink->SetInput(reader->GetOutput());
      shrink->SetShrinkFactors(shrinkFactor);
      auto small = itk::StreamingImageFilter<ImageType, ImageType>::New();
      small->SetInput(shrink->GetOutput());
      small->SetNumberOfStreamDivisions(divisions);
      small->Update();
      source =
        itk::StainAnalysis::Estimate(reinterpret_cast<const unsigned char *>(small->GetOutput()->GetBufferPointer()),
                                     small->GetOutput()->GetBufferedRegion().GetNumberOfPixels(),
                                     small->GetOutput()->GetNumberOfComponentsPerPixel(),
                                     target.Method);
    }
    if (!source)
    {
      std::cerr << "error: no tissue at 1/" << shrinkFactor << " scale" << std::endl;
      return EXIT_FAILURE;
    }

    auto fullReader = itk::ImageFileReader<ImageType>::New();
    fullReader->SetFileName(argv[2]);
    auto filter = itk::StainNormalizeFilter<ImageType>::New();
    filter->SetInput(fullReader->GetOutput());
    filter->SetMethod(target.Method);
    filter->SetTargetParameters(target);
    filter->SetSourceParameters(*source);
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetInput(filter->GetOutput());
    writer->SetFileName(argv[3]);
    writer->SetNumberOfStreamDivisions(divisions);
    writer->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "error: " << e.GetDescription() << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
