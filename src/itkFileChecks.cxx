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
#include "itkFileChecks.h"

#include "itkImageIOBase.h"
#include "itkImageIOFactory.h"
#include "itkMacro.h"
#include "itkReadableFile.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace itk
{


bool
FileChecks::Exists(const std::string & path)
{
  std::error_code error;
  return std::filesystem::exists(path, error);
}

ImageFileInfo
FileChecks::InspectImage(const std::string & path)
{
  const std::string problem = itk::ReadableFileProblem(path);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot read the image " << path << ": " << problem);
  }
  auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
  if (!io)
  {
    itkGenericExceptionMacro(<< path << " is not an image ITK can read (PNG, JPEG, TIFF, MetaImage, ...)");
  }
  io->SetFileName(path);
  io->ReadImageInformation();
  ImageFileInfo info;
  info.Dimension = io->GetNumberOfDimensions();
  info.Components = io->GetNumberOfComponents();
  info.NumberOfPixels = 1;
  for (unsigned int d = 0; d < info.Dimension; ++d)
  {
    info.NumberOfPixels *= io->GetDimensions(d);
  }
  info.ComponentType = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  info.EightBitColor =
    io->GetComponentType() == itk::IOComponentEnum::UCHAR && (info.Components == 3 || info.Components == 4);
  return info;
}

ImageFileInfo
FileChecks::RequireColorImage(const std::string & path, const std::string & role)
{
  const auto info = InspectImage(path);
  if (!info.EightBitColor)
  {
    itkGenericExceptionMacro(<< "The " << role << " " << path << " has " << info.Components << " " << info.ComponentType
                             << " component(s) per pixel; stain normalisation needs 8-bit RGB or RGBA");
  }
  if (info.Dimension != 2 && info.Dimension != 3)
  {
    itkGenericExceptionMacro(<< "The " << role << " " << path << " is " << info.Dimension
                             << "-D; give a 2-D image or a 3-D stack of patches");
  }
  return info;
}

void
FileChecks::RequireWritable(const std::string & path, bool replace, const std::string & inputPath)
{
  std::error_code error;
  if (!inputPath.empty() && Exists(path) && std::filesystem::equivalent(path, inputPath, error))
  {
    itkGenericExceptionMacro(<< "The output " << path << " is the input; choose another output file");
  }
  if (Exists(path) && !replace)
  {
    itkGenericExceptionMacro(<< path
                             << " already exists; choose another name, or set Force to replace it (c2l: --force)");
  }
}


std::string
FileChecks::ReadText(const std::string & fileName)
{
  const std::string problem = itk::ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot read " << fileName << ": " << problem);
  }
  std::ifstream     in(fileName);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // end namespace itk
