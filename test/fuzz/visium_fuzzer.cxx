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

// libFuzzer harness: a Space Ranger outs/ folder as SpatialDataReader::ReadVisiumOuts reads it, with
// its Matrix Market matrix (filtered_feature_bc_matrix/matrix.mtx, features.tsv, barcodes.tsv), its
// spot positions (spatial/tissue_positions_list.csv, or tissue_positions.csv when bit 0 of the flag
// byte is set) and its scale factors (spatial/scalefactors_json.json). Input: the flag byte, then
// the five files in that order (FuzzInputFiles.h). Anything that is not a valid folder must be
// refused with itk::ExceptionObject.

#include "FuzzInputFiles.h"

#include "itkSpatialDataReader.h"

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  if (size == 0)
  {
    return 0;
  }
  const auto parts = fuzz::SplitParts(data + 1, size - 1, 5);
  const auto outs = fuzz::ScratchFolder() / "outs";
  fuzz::WriteFile(outs / "filtered_feature_bc_matrix" / "matrix.mtx", parts[0]);
  fuzz::WriteFile(outs / "filtered_feature_bc_matrix" / "features.tsv", parts[1]);
  fuzz::WriteFile(outs / "filtered_feature_bc_matrix" / "barcodes.tsv", parts[2]);
  fuzz::WriteFile(outs / "spatial" / ((data[0] & 1) ? "tissue_positions.csv" : "tissue_positions_list.csv"), parts[3]);
  fuzz::WriteFile(outs / "spatial" / "scalefactors_json.json", parts[4]);
  try
  {
    const auto read = itk::SpatialDataReader::ReadVisiumOuts(outs.string());
    if (read->GetNumberOfSpots() != read->GetSpotIds().size())
    {
      __builtin_trap();
    }
  }
  catch (const itk::ExceptionObject &)
  {}
  return 0;
}
