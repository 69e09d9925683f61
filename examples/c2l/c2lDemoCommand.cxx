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

// c2l demo: the most complete workflow the module has, on input it generates itself.
// 1. A synthetic slide whose gene programs drive its morphology, written as image + Visium outs/.
// 2. Its spots read back through the Visium reader, split 25% / 75%, preprocessed, and patches cut
//    at every spot with stain normalisation: the paired dataset the diffusion steps consume.
// 3. Stain normalisation on its own: two synthetic tissues under different H&E protocols, each
//    method normalising one to the other, compared with the ground truth.

#include "c2lCommands.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"
#include "itkSpatialDataReaders.h"
#include "itkSpotPatchDataset.h"
#include "itkStainNormalizeFilter.h"
#include "itkSyntheticSlide.h"
#include "itkSyntheticStainedTissue.h"
#include "itkTimeProbe.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace c2l
{
namespace
{
using RGBImageType = itk::Image<itk::RGBPixel<unsigned char>, 2>;

struct DemoOptions
{
  std::string   output;
  unsigned int  size{ 1024 };
  std::uint32_t seed{ 1 };
  bool          force{ false };
};

RGBImageType::Pointer
ToImage(const std::vector<unsigned char> & rgb, unsigned int size)
{
  auto image = RGBImageType::New();
  image->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { size, size } }));
  image->Allocate();
  std::copy(rgb.begin(), rgb.end(), reinterpret_cast<unsigned char *>(image->GetBufferPointer()));
  return image;
}

void
WritePNG(const RGBImageType * image, const std::filesystem::path & path)
{
  auto writer = itk::ImageFileWriter<RGBImageType>::New();
  writer->SetInput(image);
  writer->SetFileName(path.string());
  writer->Update();
}

double
MeanAbsoluteDifference(const RGBImageType * a, const RGBImageType * b)
{
  const auto *      pa = reinterpret_cast<const unsigned char *>(a->GetBufferPointer());
  const auto *      pb = reinterpret_cast<const unsigned char *>(b->GetBufferPointer());
  const std::size_t n = 3 * a->GetBufferedRegion().GetNumberOfPixels();
  double            sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
  {
    sum += std::abs(int(pa[i]) - int(pb[i]));
  }
  return sum / 255.0 / n;
}

double
AngleDegrees(const std::array<double, 3> & a, const std::array<double, 3> & b)
{
  const double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const double norms = std::sqrt((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]));
  return std::acos(std::min(1.0, dot / norms)) * 180.0 / 3.14159265358979323846;
}

/** numpy-style 99th percentile of true concentrations: the scale normalisation should match. */
double
Percentile99(std::vector<float> values)
{
  const double      position = (values.size() - 1) * 0.99;
  const std::size_t lower = static_cast<std::size_t>(position);
  std::nth_element(values.begin(), values.begin() + lower, values.end());
  const double a = values[lower];
  const double b = lower + 1 < values.size() ? *std::min_element(values.begin() + lower + 1, values.end()) : a;
  return a + (b - a) * (position - lower);
}

/** The first \p count patches of a stack side by side, for a person to look at. */
RGBImageType::Pointer
PatchStrip(const itk::SpotPatchDataset::PatchStackType * stack, unsigned int count)
{
  const auto size = stack->GetLargestPossibleRegion().GetSize();
  const auto n = static_cast<unsigned int>(std::min<std::size_t>(count, size[2]));
  auto       strip = RGBImageType::New();
  strip->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { size[0] * n, size[1] } }));
  strip->Allocate();
  for (unsigned int k = 0; k < n; ++k)
  {
    for (unsigned int y = 0; y < size[1]; ++y)
    {
      for (unsigned int x = 0; x < size[0]; ++x)
      {
        strip->SetPixel({ { k * size[0] + x, y } }, stack->GetPixel({ { x, y, k } }));
      }
    }
  }
  return strip;
}

/** Steps 1 and 2: synthetic slide, then the paired patch dataset. Returns the report's section. */
std::string
RunSlideAndDataset(const std::filesystem::path & folder, std::uint32_t seed)
{
  namespace fs = std::filesystem;
  std::ostringstream section;
  itk::TimeProbe     clock;
  clock.Start();
  itk::SyntheticSlideSettings settings;
  settings.Seed = seed;
  const auto slide = itk::GenerateSyntheticSlide(settings);
  fs::remove_all(folder / "slide");
  itk::WriteSyntheticSlide(slide, (folder / "slide").string());
  clock.Stop();
  const double slideSeconds = clock.GetTotal();

  // Read back through the Visium reader, as a user's outs/ folder would be.
  itk::TimeProbe extractClock;
  extractClock.Start();
  auto spots = itk::ReadSpatialData((folder / "slide" / "outs").string());
  auto reader = itk::SlideReader::New();
  reader->Open((folder / "slide" / "image.tif").string());
  reader->SetPixelSize(spots->GetPixelSize()); // from the Visium spot diameter: the image states none
  spots->MakeRandomSplit(0.25, seed);
  spots->Preprocess(itk::GenePreprocessingSettings());
  itk::PatchExtractionSettings extraction;
  itk::StainParameters         target;
  target.Method = itk::StainNormalizationMethod::Macenko;
  target.StainMatrix = itk::AlternativeHEStainMatrix(); // normalise to another lab's look
  target.MaxConcentrations = { { 1.6, 1.0 } };
  extraction.NormalizationTarget = target;
  const auto patches = itk::ExtractSpotPatches(*reader, *spots, extraction);
  const auto dataset =
    itk::SpotPatchDataset::FromExtraction(patches, *spots, (folder / "slide" / "image.tif").string());
  dataset->Write((folder / "dataset.h5").string());
  extractClock.Stop();
  WritePNG(PatchStrip(dataset->GetPatches(), 6), folder / "patches.png");

  const auto size = slide.Image->GetLargestPossibleRegion().GetSize();
  section << std::fixed << std::setprecision(2) << "## 1. Synthetic slide\n\n"
          << size[0] << " x " << size[1] << " px at 0.5 um/px, " << spots->GetNumberOfSpots() << " spots, "
          << spots->GetNumberOfGenes() << " genes (" << settings.GenesPerProgram
          << " per gene program: nuclear density, nuclear size, stroma, immune; " << settings.UnrelatedGenes
          << " unrelated), in " << slideSeconds << " s. Files: `slide/image.tif`, `slide/outs/`, "
          << "`slide/ground_truth.json`.\n\n"
          << "## 2. Paired dataset\n\n"
          << "Spots read back from `slide/outs/` (pixel size " << spots->GetPixelSize()
          << " um from the Visium spot diameter); split " << spots->GetSpotIndices(true).size() << " training / "
          << spots->GetSpotIndices(false).size() << " test (25%, seed " << seed << "); top "
          << spots->GetPreprocessing().Genes.size() << " genes, library size 10,000 + log1p; "
          << dataset->GetNumberOfPatches() << " patches of 224 px at 0.5 um/px, Macenko-normalised, "
          << patches.PaddedSpots.size() << " padded at the edge; in " << extractClock.GetTotal()
          << " s. File: `dataset.h5` (HEST patch layout + expression). The first patches: `patches.png`.\n\n"
          << "![patches](patches.png)\n\n";
  return section.str();
}

void
RunDemo(const DemoOptions & o)
{
  namespace fs = std::filesystem;
  const fs::path folder(o.output);
  if (fs::exists(folder) && !fs::is_empty(folder) && !o.force)
  {
    itkGenericExceptionMacro(<< folder.string() << " already holds files; choose an empty folder or pass --force");
  }
  fs::create_directories(folder);
  const std::string datasetSection = RunSlideAndDataset(folder, o.seed);

  // The same generator, two tissues: the source under one stain protocol, the target under another.
  const auto sourceField = itk::GenerateSyntheticStainField(o.size, o.size, o.seed);
  const auto targetField = itk::GenerateSyntheticStainField(o.size, o.size, o.seed + 1);
  const auto sourceStains = itk::AlternativeHEStainMatrix();
  const auto targetStains = itk::TypicalHEStainMatrix();
  const auto source = ToImage(itk::RenderStainField(sourceField, sourceStains), o.size);
  const auto target = ToImage(itk::RenderStainField(targetField, targetStains), o.size);

  // Ground truth: the source's own tissue under the target's stains, each stain's amount rescaled
  // so that its 99th percentile matches the target's, which is what the stain methods aim for.
  itk::SyntheticStainField truthField = sourceField;
  const double             hScale = Percentile99(targetField.Hematoxylin) / Percentile99(sourceField.Hematoxylin);
  const double             eScale = Percentile99(targetField.Eosin) / Percentile99(sourceField.Eosin);
  for (std::size_t i = 0; i < truthField.Hematoxylin.size(); ++i)
  {
    truthField.Hematoxylin[i] = static_cast<float>(truthField.Hematoxylin[i] * hScale);
    truthField.Eosin[i] = static_cast<float>(truthField.Eosin[i] * eScale);
  }
  const auto truth = ToImage(itk::RenderStainField(truthField, targetStains), o.size);
  WritePNG(source, folder / "source.png");
  WritePNG(target, folder / "target.png");
  WritePNG(truth, folder / "truth.png");

  std::ostringstream report;
  report << std::fixed << std::setprecision(4);
  report << "# c2l demo\n\nThe module's workflow so far, on input it generates itself.\n\n"
         << datasetSection << "## 3. Stain normalisation against ground truth\n\n"
         << "Source and target: " << o.size << " x " << o.size << " synthetic H&E tissues (seeds " << o.seed << ", "
         << o.seed + 1 << ") stained with different stain matrices. `truth.png` is the source's tissue under the "
         << "target's stains. Error: mean |output - truth| / 255 over all pixels and channels (before "
         << "normalisation: " << MeanAbsoluteDifference(source, truth) << ").\n\n"
         << "| method | error vs truth | source H angle (deg) | source E angle (deg) | target H angle (deg) | "
            "target E angle (deg) | time (ms) |\n"
         << "|---|---|---|---|---|---|---|\n";

  using FilterType = itk::StainNormalizeFilter<RGBImageType>;
  for (const auto method : { itk::StainNormalizationMethod::Macenko,
                             itk::StainNormalizationMethod::Vahadane,
                             itk::StainNormalizationMethod::Reinhard,
                             itk::StainNormalizationMethod::Ruifrok })
  {
    const std::string name = itk::StainNormalizationMethodToString(method);
    auto              filter = FilterType::New();
    filter->SetMethod(method);
    filter->SetInput(source);
    filter->SetReferenceImage(target);
    auto progress = ProgressBar::New();
    progress->Watch(filter, name);
    itk::TimeProbe clock;
    clock.Start();
    filter->Update();
    clock.Stop();
    WritePNG(filter->GetOutput(), folder / ("normalized-" + name + ".png"));
    filter->GetSourceParameters().WriteJSONFile((folder / ("source-" + name + ".json")).string());
    filter->GetTargetParameters().WriteJSONFile((folder / ("target-" + name + ".json")).string());

    report << "| " << name << " | " << MeanAbsoluteDifference(filter->GetOutput(), truth) << " | ";
    if (method == itk::StainNormalizationMethod::Reinhard)
    {
      report << "- | - | - | - | ";
    }
    else
    {
      const auto & s = filter->GetSourceParameters().StainMatrix;
      const auto & t = filter->GetTargetParameters().StainMatrix;
      report << AngleDegrees(s[0], sourceStains[0]) << " | " << AngleDegrees(s[1], sourceStains[1]) << " | "
             << AngleDegrees(t[0], targetStains[0]) << " | " << AngleDegrees(t[1], targetStains[1]) << " | ";
    }
    report << std::setprecision(1) << 1000.0 * clock.GetTotal() << std::setprecision(4) << " |\n";
  }
  report << "\nRuifrok's fixed matrix is neither protocol's, so its angles measure that mismatch, not an "
            "estimation error. Reinhard matches colour statistics and has no stain vectors.\n";
  std::ofstream(folder / "report.md") << report.str();
  std::cout << report.str() << "\nWrote " << (folder / "report.md").string() << " and the images beside it."
            << std::endl;
}

} // namespace

void
AddDemoCommand(CLI::App & app)
{
  auto   options = std::make_shared<DemoOptions>();
  auto * command =
    app.add_subcommand("demo", "Run the module's workflow on synthetic tissue it generates, with a report");
  command->add_option("--out", options->output, "Output folder (created; must be empty unless --force)")->required();
  command->add_option("--size", options->size, "Image width and height in pixels")->check(CLI::Range(64u, 8192u));
  command->add_option("--seed", options->seed, "Seed of the synthetic tissue");
  command->add_flag("--force", options->force, "Write into a folder that already holds files");
  command->callback([options]() { RunDemo(*options); });
}

} // namespace c2l
