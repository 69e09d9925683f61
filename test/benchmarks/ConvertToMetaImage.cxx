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

// ConvertToMetaImage IN OUT.mha: an 8-bit RGB image (e.g. a JPEG, which ITK reads whole) written
// as an uncompressed MetaImage, which ITK reads and writes region by region. Used once by the
// streaming benchmark to turn her2st-C2's 92-Mpx JPEG into a streamable slide.

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"

int
main(int argc, char * argv[])
{
  if (argc != 3)
  {
    std::cerr << "usage: " << argv[0] << " INPUT OUTPUT.mha" << std::endl;
    return EXIT_FAILURE;
  }
  using ImageType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  try
  {
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetInput(itk::ReadImage<ImageType>(argv[1]));
    writer->SetFileName(argv[2]);
    writer->UseCompressionOff();
    writer->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "error: " << e.GetDescription() << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
