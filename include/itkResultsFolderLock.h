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
#ifndef itkResultsFolderLock_h
#define itkResultsFolderLock_h

#include "SpatialTranscriptomicsExport.h"

#include <string>

namespace itk
{

/** \class ResultsFolderLock
 * \brief One run at a time in a results folder: while this object lives, a second run on the same
 * folder, in this process or another, is refused instead of writing beside the first.
 *
 * The lock is the kernel's (flock) on the file ".c2l-run.lock" in the folder, so it ends with the
 * process that holds it, even when that process is killed: a folder is never left locked. The file
 * records the holder's process id and start time for the refusal's message; it stays in the folder
 * (removing it would let two later runs lock two different files).
 *
 * \ingroup SpatialTranscriptomics
 */
class SpatialTranscriptomics_EXPORT ResultsFolderLock
{
public:
  /** Locks \p folder (made when missing) for \p what ("pipeline run", "study"); throws
   * itk::ExceptionObject naming the run that holds it, or why the lock file cannot be made. */
  ResultsFolderLock(const std::string & folder, const std::string & what);
  ~ResultsFolderLock();
  ResultsFolderLock(const ResultsFolderLock &) = delete;
  ResultsFolderLock &
  operator=(const ResultsFolderLock &) = delete;

  /** The lock file's name in the folder (results checks ignore it). */
  static const char *
  FileName();

private:
  int m_Descriptor{ -1 };
};

} // end namespace itk

#endif
