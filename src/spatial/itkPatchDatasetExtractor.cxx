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
#include "itkPatchDatasetExtractor.h"

#include "itkFileChecks.h"
#include "itkImageFileReader.h"
#include "itkPatchCutting.h"
#include "itkSpatialDataReader.h"
#include "itkStainNormalizeFilter.h"
#include "itkTimeProbe.h"
#include "itkTissueTileExtractor.h"

#include <algorithm>
#include <sstream>

namespace itk
{
namespace
{
/** "wrote FILE: " or, for a dataset kept in memory only, "extracted ". */
std::string
Wrote(const std::string & output)
{
  return output.empty() ? std::string("extracted ") : "wrote " + output + ": ";
}

/** The target of --normalize: saved parameters, or the analysis of a reference image. */
StainParameters
NormalizationTarget(const ExtractionStepSettings & o)
{
  if (!o.TargetParameters.empty())
  {
    return StainParameters::ReadJSONFile(o.TargetParameters);
  }
  if (o.Target.empty())
  {
    itkGenericExceptionMacro(
      << "Stain normalisation needs a target: set Target (a reference image) or TargetParameters (saved "
         "parameters, JSON; c2l: --target or --target-params)");
  }
  FileChecks::RequireColorImage(o.Target, "target");
  using ImageType = Image<RGBPixel<unsigned char>, 2>;
  const auto reference = ReadImage<ImageType>(o.Target);
  const auto estimate = StainAnalysis::Estimate(reinterpret_cast<const unsigned char *>(reference->GetBufferPointer()),
                                                reference->GetBufferedRegion().GetNumberOfPixels(),
                                                3,
                                                StainParameters::MethodFromString(o.NormalizationMethod));
  if (!estimate)
  {
    itkGenericExceptionMacro(<< "The target " << o.Target
                             << " has no tissue; choose a reference that shows stained tissue");
  }
  return *estimate;
}

/** At most \p count names, for messages. */
std::string
FirstOf(const std::vector<std::string> & names, std::size_t count = 5)
{
  std::string listing;
  for (std::size_t i = 0; i < std::min(count, names.size()); ++i)
  {
    listing += (i ? ", " : "") + names[i];
  }
  return names.size() > count ? listing + ", ..." : listing;
}

/** Unlabeled tissue tiles instead of patches at spots. */
SpotPatchDataset::Pointer
ExtractTiles(const ExtractionStepSettings & o, SlideReader & slide, std::ostringstream & summary,
             const ProgressCallback & progress)
{
  if (o.PixelSize > 0.0)
  {
    slide.SetPixelSize(o.PixelSize);
  }
  else if (slide.GetStatedPixelSize() <= 0.0)
  {
    itkGenericExceptionMacro(
      << o.Slide << " does not state its pixel size; set PixelSize (micrometres per pixel; c2l: --pixel-size)");
  }
  TissueTileSettings settings;
  settings.Extraction.PatchSizeMicrometres = o.PatchMicrometres;
  settings.Extraction.PatchSizePixels = o.PatchPixels;
  if (!o.NormalizationMethod.empty())
  {
    settings.Extraction.NormalizationTarget = NormalizationTarget(o);
  }
  settings.MaximumTiles = o.Tiles;
  settings.Seed = o.Seed;
  settings.HoldOutBlockTiles = o.HoldOutBlocks;
  settings.Part = o.Part == "training"  ? TileGridPart::Training
                  : o.Part == "heldout" ? TileGridPart::HeldOut
                                        : TileGridPart::All;
  const auto tiles = CutTissueTiles(slide, settings, o.Slide, progress);
  if (!o.Output.empty())
  {
    tiles->Write(o.Output);
  }
  summary << Wrote(o.Output) << tiles->GetNumberOfPatches() << " tissue tiles of " << o.PatchPixels << " px ("
          << o.PatchMicrometres << " um)" << '\n';
  return tiles;
}
} // namespace

PatchDatasetExtractor::PatchDatasetExtractor()
{
  this->SetNumberOfRequiredOutputs(1);
  this->SetNthOutput(0, this->MakeOutput(0));
}

ProcessObject::DataObjectPointer
PatchDatasetExtractor::MakeOutput(DataObjectPointerArraySizeType)
{
  return SpotPatchDataset::New().GetPointer();
}

SpotPatchDataset *
PatchDatasetExtractor::GetOutput()
{
  return static_cast<SpotPatchDataset *>(this->ProcessObject::GetOutput(0));
}

void
PatchDatasetExtractor::SetSettings(const ExtractionStepSettings & settings)
{
  m_Settings = settings;
  this->Modified();
}

void
PatchDatasetExtractor::VerifyPreconditions() ITKv5_CONST
{
  // No input data objects: what to read is in the settings.
  if (m_Settings.Slide.empty())
  {
    itkExceptionMacro(<< "No slide: set the settings' Slide");
  }
  if (m_Settings.Spots.empty() == (m_Settings.Tiles == 0))
  {
    itkExceptionMacro(<< "Set exactly one of the settings' Spots (patches at spots) and Tiles (unlabeled tiles)");
  }
}

void
PatchDatasetExtractor::GraftOutput(SpotPatchDataset * dataset)
{
  this->GetOutput()->Graft(dataset);
}

void
PatchDatasetExtractor::GenerateData()
{
  std::ostringstream             summary;
  const ExtractionStepSettings & o = m_Settings;
  if (!o.Output.empty())
  {
    FileChecks::RequireWritable(o.Output, o.Force);
  }
  TimeProbe clock;
  clock.Start();
  auto slide = SlideReader::New();
  slide->Open(o.Slide);
  if (o.Tiles > 0)
  {
    this->GraftOutput(ExtractTiles(o, *slide, summary, ReportProgressOf(this, 0.0f, 1.0f)));
    m_Summary = summary.str();
    return;
  }
  const auto spots = SpatialDataReader::Read(o.Spots);
  // The pixel size: given, else stated by the slide, else known from the spots' own files.
  if (o.PixelSize > 0.0)
  {
    slide->SetPixelSize(o.PixelSize);
  }
  else if (slide->GetStatedPixelSize() <= 0.0 && spots->GetPixelSize() > 0.0)
  {
    slide->SetPixelSize(spots->GetPixelSize());
    summary << "pixel size " << spots->GetPixelSize() << " um from the spot data (" << spots->GetMetadata("format")
            << ")" << '\n';
  }
  spots->SetPixelSize(slide->GetPixelSize());

  if (o.Fraction > 0.0)
  {
    spots->MakeRandomSplit(o.Fraction, o.Seed);
  }
  GenePreprocessingSettings preprocessing;
  preprocessing.TopGenes = o.Genes;
  spots->Preprocess(preprocessing);

  PatchExtractionSettings settings;
  settings.PatchSizeMicrometres = o.PatchMicrometres;
  settings.PatchSizePixels = o.PatchPixels;
  settings.SkipPartialPatches = o.SkipPartial;
  if (!o.NormalizationMethod.empty())
  {
    settings.NormalizationTarget = NormalizationTarget(o);
  }
  const auto patches = CutSpotPatches(*slide, *spots, settings, ReportProgressOf(this, 0.0f, 1.0f));
  const auto dataset = SpotPatchDataset::FromExtraction(patches, *spots, o.Slide);
  if (!o.Output.empty())
  {
    dataset->Write(o.Output);
  }
  clock.Stop();

  summary << Wrote(o.Output) << dataset->GetNumberOfPatches() << " patches of " << o.PatchPixels << " px at "
          << patches.PixelSize << " um/px, " << dataset->GetSpots()->GetPreprocessing().Genes.size() << " genes";
  if (!dataset->GetSpots()->GetSplit().empty())
  {
    summary << ", " << dataset->GetSpots()->GetSpotIndices(true).size() << " training / "
            << dataset->GetSpots()->GetSpotIndices(false).size() << " test spots (seed " << o.Seed << ")";
  }
  summary << " in " << clock.GetTotal() << " s" << '\n';
  if (!patches.PaddedSpots.empty())
  {
    summary << patches.PaddedSpots.size()
            << " patch(es) left the slide and were padded with white: " << FirstOf(patches.PaddedSpots) << '\n';
  }
  if (!patches.SkippedSpots.empty())
  {
    summary << patches.SkippedSpots.size()
            << " spot(s) skipped, their patch leaving the slide: " << FirstOf(patches.SkippedSpots) << '\n';
  }
  if (patches.SourceStains)
  {
    summary << "stains: " << *patches.SourceStains << " -> " << *settings.NormalizationTarget << '\n';
  }
  this->GraftOutput(dataset);
  m_Summary = summary.str();
}

void
PatchDatasetExtractor::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Settings: slide " << m_Settings.Slide << ", spots " << m_Settings.Spots << ", tiles "
     << m_Settings.Tiles << ", output " << m_Settings.Output << std::endl;
  os << indent << "Summary: " << m_Summary << std::endl;
}

} // end namespace itk
