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
#include "itkTissueTileExtractor.h"

#include "itkPatchCutting.h"

#include <algorithm>
#include <random>

namespace itk
{

double
TissueTileExtractor::TissueFraction(const RGBPixel<unsigned char> * pixels, std::size_t count)
{
  std::size_t tissue = 0;
  for (std::size_t i = 0; i < count; ++i)
  {
    tissue += (int(pixels[i][0]) + int(pixels[i][1]) + int(pixels[i][2])) < 3 * 220;
  }
  return count == 0 ? 0.0 : static_cast<double>(tissue) / static_cast<double>(count);
}

namespace
{
/** The share of the work that screening takes in the progress reports (measured on her2st C2:
 * about a third of the time, with 2,000 tiles chosen). */
constexpr double ScreeningShare = 0.3;
} // namespace

SpotPatchDataset::Pointer
CutTissueTiles(const SlideReader & slide, const TissueTileSettings & settings, const std::string & slideName,
               const ProgressCallback & progress)
{
  const double micrometres = settings.Extraction.PatchSizeMicrometres;
  if (!(micrometres > 0.0) || settings.Extraction.PatchSizePixels == 0 || settings.MaximumTiles == 0)
  {
    itkGenericExceptionMacro(<< "Tissue tiles need a positive size in micrometres and pixels, and a positive "
                                "maximum number of tiles");
  }
  if (!(settings.MinimumTissueFraction >= 0.0 && settings.MinimumTissueFraction <= 1.0))
  {
    itkGenericExceptionMacro(<< "The minimum tissue fraction of a tile must lie in [0, 1]");
  }
  if (settings.Part != TileGridPart::All && settings.HoldOutBlockTiles == 0)
  {
    itkGenericExceptionMacro(<< "A training or held-out part of the tile grid needs HoldOutBlockTiles > 0");
  }

  // The grid, restricted to the part asked for before any pixel is read.
  const auto                                       dimensions = slide.GetLevelDimensions(0);
  const double                                     side = micrometres / slide.GetPixelSize();
  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  unsigned int                                     row = 0;
  for (double y = side / 2; y + side / 2 <= dimensions[1]; y += side, ++row)
  {
    unsigned int column = 0;
    for (double x = side / 2; x + side / 2 <= dimensions[0]; x += side, ++column)
    {
      if (settings.Part != TileGridPart::All)
      {
        const unsigned int block = column / settings.HoldOutBlockTiles + row / settings.HoldOutBlockTiles;
        if ((block % 3 == 0) != (settings.Part == TileGridPart::HeldOut))
        {
          continue;
        }
      }
      ids.push_back("tile-" + std::to_string(static_cast<long>(x)) + "-" + std::to_string(static_cast<long>(y)));
      positions.push_back({ x, y });
    }
  }
  if (row == 0)
  {
    itkGenericExceptionMacro(<< "The slide " << slideName << " is smaller than one " << micrometres << " um tile");
  }
  if (ids.empty())
  {
    itkGenericExceptionMacro(<< "The " << (settings.Part == TileGridPart::HeldOut ? "held-out" : "training")
                             << " part of " << slideName << "'s tile grid is empty: use smaller hold-out blocks");
  }
  // Screening: each grid tile's tissue fraction from a small version of it (at most
  // TissueTileExtractor::ScreeningPixels a side, the slide's own colours: no stain normalisation), cut a chunk of tiles
  // at a time, so that neither the whole grid at full size nor its patches are ever held; only the chosen tiles are
  // then cut at full size.
  PatchExtractionSettings screening;
  screening.PatchSizeMicrometres = micrometres;
  screening.PatchSizePixels = std::min(settings.Extraction.PatchSizePixels, TissueTileExtractor::ScreeningPixels);
  screening.SkipPartialPatches = true;
  constexpr std::size_t    chunk = 4096;
  std::vector<std::size_t> kept;
  for (std::size_t first = 0; first < ids.size(); first += chunk)
  {
    const std::size_t                                count = std::min(chunk, ids.size() - first);
    auto                                             part = SpatialExpressionData::New();
    std::vector<std::string>                         partIds(ids.begin() + first, ids.begin() + first + count);
    std::vector<SpatialExpressionData::PositionType> partPositions(positions.begin() + first,
                                                                   positions.begin() + first + count);
    part->SetSpots(partIds, partPositions);
    part->SetPixelSize(slide.GetPixelSize());
    const auto        small = CutSpotPatches(slide, *part, screening, ProgressCallback());
    const auto        size = small.Patches->GetLargestPossibleRegion().GetSize();
    const std::size_t pixels = size[0] * size[1];
    for (std::size_t k = 0; k < size[2]; ++k)
    {
      if (TissueTileExtractor::TissueFraction(small.Patches->GetBufferPointer() + k * pixels, pixels) >=
          settings.MinimumTissueFraction)
      {
        kept.push_back(first + small.SpotIndices[k]);
      }
    }
    if (progress)
    {
      progress(ScreeningShare * static_cast<double>(first + count) / ids.size());
    }
  }
  if (kept.empty())
  {
    itkGenericExceptionMacro(<< "No tile of " << slideName << " is at least " << settings.MinimumTissueFraction
                             << " tissue (pixels darker than background)");
  }
  // A partial Fisher-Yates shuffle from raw draws (std:: distributions differ between libraries).
  std::mt19937      generator(settings.Seed);
  const std::size_t count = std::min<std::size_t>(settings.MaximumTiles, kept.size());
  for (std::size_t i = 0; i < count; ++i)
  {
    const std::size_t j = i + static_cast<std::size_t>((generator() + 0.5) / 4294967296.0 * (kept.size() - i));
    std::swap(kept[i], kept[j]);
  }
  kept.resize(count);
  std::sort(kept.begin(), kept.end());

  std::vector<std::string>                         chosenIds;
  std::vector<SpatialExpressionData::PositionType> chosenPositions;
  for (const std::size_t k : kept)
  {
    chosenIds.push_back(ids[k]);
    chosenPositions.push_back(positions[k]);
  }
  auto chosen = SpatialExpressionData::New();
  chosen->SetSpots(chosenIds, chosenPositions);
  chosen->SetPixelSize(slide.GetPixelSize());
  auto extraction = settings.Extraction;
  extraction.SkipPartialPatches = true;
  ProgressCallback cutting;
  if (progress)
  {
    cutting = [&progress](double fraction) { progress(ScreeningShare + (1.0 - ScreeningShare) * fraction); };
  }
  return SpotPatchDataset::FromExtraction(CutSpotPatches(slide, *chosen, extraction, cutting), *chosen, slideName);
}

SpotPatchDataset::Pointer
TissueTileExtractor::Extract(const SlideReader & slide, const TissueTileSettings & settings,
                             const std::string & slideName)
{
  return CutTissueTiles(slide, settings, slideName, ProgressCallback());
}

TissueTileExtractor::TissueTileExtractor()
{
  this->SetNumberOfRequiredInputs(0);
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

ProcessObject::DataObjectPointer
TissueTileExtractor::MakeOutput(DataObjectPointerArraySizeType)
{
  return SpotPatchDataset::New().GetPointer();
}

SpotPatchDataset *
TissueTileExtractor::GetOutput()
{
  return static_cast<SpotPatchDataset *>(this->ProcessObject::GetOutput(0));
}

void
TissueTileExtractor::SetSettings(const TissueTileSettings & settings)
{
  m_Settings = settings;
  this->Modified();
}

void
TissueTileExtractor::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_Slide.IsNull())
  {
    itkExceptionMacro(<< "No slide to cut tiles from; SetSlide with an opened SlideReader");
  }
}

void
TissueTileExtractor::GenerateData()
{
  this->UpdateProgress(0.0f);
  const std::string name = m_SlideName.empty() ? std::string(m_Slide->GetFileName()) : m_SlideName;
  this->GetOutput()->Graft(CutTissueTiles(*m_Slide, m_Settings, name, ReportProgressOf(this, 0.0f, 1.0f)));
}

void
TissueTileExtractor::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Slide: " << (m_Slide ? m_Slide->GetFileName() : "(none)") << std::endl;
  os << indent << "SlideName: " << m_SlideName << std::endl;
  os << indent << "PatchSizeMicrometres: " << m_Settings.Extraction.PatchSizeMicrometres << std::endl;
  os << indent << "PatchSizePixels: " << m_Settings.Extraction.PatchSizePixels << std::endl;
  os << indent << "NormalizationTarget: "
     << (m_Settings.Extraction.NormalizationTarget
           ? StainParameters::MethodToString(m_Settings.Extraction.NormalizationTarget->Method)
           : std::string("none"))
     << std::endl;
  os << indent << "MaximumTiles: " << m_Settings.MaximumTiles << std::endl;
  os << indent << "Seed: " << m_Settings.Seed << std::endl;
  os << indent << "MinimumTissueFraction: " << m_Settings.MinimumTissueFraction << std::endl;
  os << indent << "HoldOutBlockTiles: " << m_Settings.HoldOutBlockTiles << std::endl;
  os << indent << "Part: " << static_cast<int>(m_Settings.Part) << std::endl;
}

} // end namespace itk
