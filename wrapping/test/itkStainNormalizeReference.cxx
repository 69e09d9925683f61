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
// The C++ result the Python test compares with, bit for bit: StainNormalizeFilter with the given
// method on the source image, the target image giving the target stains.
// Usage: itkStainNormalizeReference source.png target.png method output.png

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkPNGImageIOFactory.h"
#include "itkStainNormalizeFilter.h"

#include <iostream>

int
main(int argc, char * argv[])
{
  if (argc != 5)
  {
    std::cerr << "Usage: " << argv[0] << " source.png target.png method output.png" << std::endl;
    return EXIT_FAILURE;
  }
  using ImageType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  // This program is built without ITK's generated IO factory registration: PNG is all it reads.
  itk::PNGImageIOFactory::RegisterOneFactory();
  try
  {
    const auto source = itk::ReadImage<ImageType>(argv[1]);
    const auto target = itk::ReadImage<ImageType>(argv[2]);
    auto       filter = itk::StainNormalizeFilter<ImageType>::New();
    filter->SetInput(source);
    filter->SetReferenceImage(target);
    filter->SetMethod(itk::StainParameters::MethodFromString(argv[3]));
    itk::WriteImage(filter->GetOutput(), argv[4]);
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << e << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
