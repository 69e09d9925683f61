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

// libFuzzer harness: HDF5 files from outside, as the module's readers open them: AnnData .h5ad
// (SpatialDataReader::ReadAnnData), 10x feature-barcode matrices (Read10xMatrixH5) and the
// module's own patch datasets (SpotPatchDataset::Read). The input is the file. Anything that is
// not a valid file of that kind must be refused with itk::ExceptionObject, and leave no HDF5 object
// open. (HDF5 itself is Debian's uninstrumented library: the fuzzer steers by the module's code,
// and a crash inside libhdf5 is reported as one; run-fuzzers.sh keeps going after such crashes and
// keeps each input in build-fuzz/crashes/ to be sorted by where it crashed.)

#include "FuzzInputFiles.h"

#include "itkSpatialDataReader.h"
#include "itkSpotPatchDataset.h"

#include <hdf5.h> // H5Fget_obj_count; the readers silence HDF5's error printing themselves

#include <cstdio>

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  const auto file = fuzz::ScratchFolder() / "input.h5ad";
  fuzz::WriteFile(file, std::string(reinterpret_cast<const char *>(data), size));
  // Every HDF5 object a reader opens must be closed when it returns or throws: a leaked handle
  // keeps the file open (and its memory) for the life of the process.
  const auto requireNothingOpen = [](const char * reader) {
    if (H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_ALL) != 0)
    {
      fprintf(stderr,
              "%s left %zd HDF5 objects open\n",
              reader,
              static_cast<ssize_t>(H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_ALL)));
      __builtin_trap();
    }
  };
  try
  {
    itk::SpatialDataReader::ReadAnnData(file.string());
  }
  catch (const itk::ExceptionObject &)
  {}
  requireNothingOpen("ReadAnnData");
  try
  {
    itk::SpatialDataReader::Read10xMatrixH5(file.string());
  }
  catch (const itk::ExceptionObject &)
  {}
  requireNothingOpen("Read10xMatrixH5");
  try
  {
    itk::SpotPatchDataset::Read(file.string());
  }
  catch (const itk::ExceptionObject &)
  {}
  requireNothingOpen("SpotPatchDataset::Read");
  return 0;
}
