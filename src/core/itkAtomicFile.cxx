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
#include "itkAtomicFile.h"

#include "itkAtomicFileWriting.h"
#include "itkMacro.h"

namespace itk
{

std::string
AtomicFile::TemporaryNameFor(const std::string & path)
{
  return atomic_file::TemporaryNameFor(path);
}

void
AtomicFile::Commit(const std::string & temporary, const std::string & path, const std::string & what)
{
  try
  {
    atomic_file::Commit(temporary, path, what);
  }
  catch (const atomic_file::WriteError & e)
  {
    itkGenericExceptionMacro(<< e.what());
  }
}

std::size_t
AtomicFile::RemoveAbandonedTemporaries(const std::string & folder)
{
  return atomic_file::RemoveAbandonedTemporaries(folder);
}

void
AtomicFile::Write(const std::string & path, const std::string & bytes, const std::string & what)
{
  try
  {
    atomic_file::Write(path, bytes, what);
  }
  catch (const atomic_file::WriteError & e)
  {
    itkGenericExceptionMacro(<< e.what());
  }
}

} // end namespace itk
