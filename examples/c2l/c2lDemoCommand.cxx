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

// c2l demo: the most complete workflow the module has, on input it generates itself. Two synthetic
// tissues are stained with different H&E protocols; each method normalises one to the other, and
// the report compares the result with the ground truth (the same tissue under the target's stains).

#include "c2lCommands.h"
#include "c2lImageFiles.h"
#include "c2lProgressBar.h"

#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"
#include "itkStainNormalizeFilter.h"
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
  report << "# c2l demo: stain normalisation on synthetic tissue\n\n"
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
