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

// libFuzzer harness: count tables (TSV or CSV, gzip or not) joined to spot tables, as
// SpatialDataReader::ReadCountTable reads them (her2st's layout and others). Input: a flag byte
// (bit 0: the counts file is named .csv, bit 1: the spots file is named .csv), then the counts
// file and the spots file (FuzzInputFiles.h). Anything that is not a valid pair must be refused
// with itk::ExceptionObject: any other exception, a crash or undefined behaviour is a finding.

#include "FuzzInputFiles.h"

#include "itkSpatialDataReader.h"

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  if (size == 0)
  {
    return 0;
  }
  const auto parts = fuzz::SplitParts(data + 1, size - 1, 2);
  const auto folder = fuzz::ScratchFolder();
  const auto counts = folder / ((data[0] & 1) ? "counts.csv" : "counts.tsv");
  const auto spots = folder / ((data[0] & 2) ? "spots.csv" : "spots.tsv");
  fuzz::WriteFile(counts, parts[0]);
  fuzz::WriteFile(spots, parts[1]);
  try
  {
    const auto read = itk::SpatialDataReader::ReadCountTable(counts.string(), spots.string());
    if (read->GetNumberOfSpots() != read->GetSpotIds().size())
    {
      __builtin_trap();
    }
  }
  catch (const itk::ExceptionObject &)
  {}
  return 0;
}
