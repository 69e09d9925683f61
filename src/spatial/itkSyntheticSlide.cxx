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
#include "itkSyntheticSlide.h"

#include "itkAtomicFile.h"
#include "itkHDF5Support.h"
#include "itkImageFileWriter.h"
#include "itkImageIORegistration.h"
#include "itkShrinkImageFilter.h"
#include "itkStainFieldDrawing.h"
#include "itkSyntheticStainedTissue.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <random>
#include <sstream>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

/** Portable random draws from raw mt19937 output (std:: distributions differ between libraries). */
class RandomSource
{
public:
  explicit RandomSource(std::uint32_t seed)
    : m_Generator(seed)
  {}
  double
  Uniform()
  {
    return (m_Generator() + 0.5) / 4294967296.0;
  }
  double
  Normal()
  {
    return std::sqrt(-2.0 * std::log(Uniform())) * std::cos(6.283185307179586 * Uniform());
  }
  /** Marsaglia and Tsang's method (shape >= 1). */
  double
  Gamma(double shape, double scale)
  {
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    while (true)
    {
      double x, v;
      do
      {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      if (std::log(Uniform()) < 0.5 * x * x + d - d * v + d * std::log(v))
      {
        return d * v * scale;
      }
    }
  }
  /** Knuth's method, in pieces of mean <= 20 (exact: a sum of Poissons is Poisson). */
  unsigned int
  Poisson(double mean)
  {
    unsigned int total = 0;
    while (mean > 0.0)
    {
      const double piece = std::min(mean, 20.0);
      mean -= piece;
      const double limit = std::exp(-piece);
      double       product = Uniform();
      while (product > limit)
      {
        ++total;
        product *= Uniform();
      }
    }
    return total;
  }

private:
  std::mt19937 m_Generator;
};

/** A smooth field in [0, 1] over the slide: a squashed sum of Gaussian bumps, in micrometres. */
class SmoothField
{
public:
  SmoothField(RandomSource & random, double width, double height)
  {
    for (int k = 0; k < 7; ++k)
    {
      m_Bumps.push_back({ random.Uniform() * width,
                          random.Uniform() * height,
                          250.0 + 350.0 * random.Uniform(),
                          (k % 2 == 0 ? 1.0 : -1.0) * (1.0 + random.Uniform()) });
    }
  }
  double
  operator()(double x, double y) const
  {
    double sum = 0.0;
    for (const auto & b : m_Bumps)
    {
      const double dx = (x - b[0]) / b[2];
      const double dy = (y - b[1]) / b[2];
      sum += b[3] * std::exp(-0.5 * (dx * dx + dy * dy));
    }
    return 1.0 / (1.0 + std::exp(-2.5 * sum));
  }

private:
  std::vector<std::array<double, 4>> m_Bumps;
};

/** A Visium-looking barcode: 16 bases from the spot index, then "-1". */
std::string
Barcode(std::size_t index)
{
  std::uint64_t h = (index + 1) * 0x9E3779B97F4A7C15ull;
  std::string   barcode;
  for (int k = 0; k < 16; ++k)
  {
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    barcode += "ACGT"[h >> 62];
  }
  return barcode + "-1";
}

/** Paint a filled ellipse of hematoxylin (and a little eosin) into the stain field. */
void
PaintNucleus(SyntheticStainField & field, double cx, double cy, double a, double b, double angle, double density,
             RandomSource & random)
{
  const double ca = std::cos(angle);
  const double sa = std::sin(angle);
  ForEachPixelAround(
    field, cx, cy, static_cast<int>(std::ceil(std::max(a, b))) + 1, [&](int dx, int dy, std::size_t i) {
      const double ex = (dx * ca + dy * sa) / a;
      const double ey = (-dx * sa + dy * ca) / b;
      const double d = ex * ex + ey * ey;
      if (d <= 1.0)
      {
        // Chromatin texture, darker at the rim (the nuclear membrane).
        const double value = density * (0.8 + 0.35 * random.Uniform()) * (0.85 + 0.25 * d);
        field.Hematoxylin[i] = static_cast<float>(std::max<double>(field.Hematoxylin[i], value));
        field.Eosin[i] = static_cast<float>(std::min<double>(field.Eosin[i], 0.25));
      }
    });
}
} // namespace

SyntheticSlide
SyntheticSlide::Generate(const SyntheticSlideSettings & settings)
{
  if (settings.NumberOfSpots == 0 || settings.NumberOfSpots > 20000 || !(settings.PixelSize > 0.0) ||
      !(settings.SpotPitch > settings.SpotDiameter) || !(settings.SpotDiameter > 0.0))
  {
    itkGenericExceptionMacro(<< "Synthetic slide settings out of range: 1..20000 spots, positive pixel size, "
                                "spot pitch larger than the spot diameter");
  }
  RandomSource   random(settings.Seed);
  SyntheticSlide slide;
  slide.ProgramNames = { "nuclear_density", "nuclear_size", "stroma", "immune" };

  // The spot grid: hexagonal rows, odd rows shifted by half a pitch, as Visium's.
  const unsigned int columns = static_cast<unsigned int>(std::ceil(std::sqrt(settings.NumberOfSpots * 1.2)));
  const unsigned int rows = (settings.NumberOfSpots + columns - 1) / columns;
  const double       margin = 150.0;
  const double       rowPitch = settings.SpotPitch * std::sqrt(3.0) / 2.0;
  const double       widthUm = 2 * margin + (columns - 0.5) * settings.SpotPitch;
  const double       heightUm = 2 * margin + (rows - 1) * rowPitch;
  const auto         width = static_cast<unsigned int>(std::ceil(widthUm / settings.PixelSize));
  const auto         height = static_cast<unsigned int>(std::ceil(heightUm / settings.PixelSize));

  std::vector<SmoothField> programs;
  for (std::size_t k = 0; k < slide.ProgramNames.size(); ++k)
  {
    programs.emplace_back(random, widthUm, heightUm);
  }
  const auto program = [&](std::size_t k, double xUm, double yUm) { return programs[k](xUm, yUm); };

  // Stroma and cytoplasm: eosin, with wavy fibres where the stroma program is high.
  SyntheticStainField field;
  field.Width = width;
  field.Height = height;
  field.Hematoxylin.assign(std::size_t{ width } * height, 0.0f);
  field.Eosin.assign(std::size_t{ width } * height, 0.0f);
  const double fibreAngle = 3.14159 * random.Uniform();
  for (unsigned int y = 0; y < height; ++y)
  {
    const double yUm = y * settings.PixelSize;
    double       stroma = 0.0;
    for (unsigned int x = 0; x < width; ++x)
    {
      const double xUm = x * settings.PixelSize;
      if (x % 16 == 0)
      {
        stroma = program(2, xUm, yUm); // smooth: evaluated every 8 um
      }
      const double      along = xUm * std::cos(fibreAngle) + yUm * std::sin(fibreAngle);
      const double      fibre = std::abs(std::sin(0.35 * along + 2.0 * std::sin(0.02 * (yUm - xUm))));
      const std::size_t i = std::size_t{ y } * width + x;
      field.Eosin[i] =
        static_cast<float>(0.22 + stroma * (0.3 + 0.45 * fibre * fibre) + 0.05 * (random.Uniform() - 0.5));
      field.Hematoxylin[i] = static_cast<float>(0.04 + 0.03 * random.Uniform());
    }
  }

  // Nuclei: Poisson counts in 10 um cells, density, size and immune share from the programs.
  const double cell = 10.0;
  for (double cy = 0.0; cy < heightUm; cy += cell)
  {
    for (double cx = 0.0; cx < widthUm; cx += cell)
    {
      const double       density = program(0, cx + 5, cy + 5);
      const double       size = program(1, cx + 5, cy + 5);
      const double       stroma = program(2, cx + 5, cy + 5);
      const double       immune = program(3, cx + 5, cy + 5);
      const unsigned int tumour = random.Poisson(cell * cell * (0.0015 + 0.009 * density) * (1.0 - 0.6 * stroma));
      for (unsigned int k = 0; k < tumour; ++k)
      {
        const double radius = (2.5 + 3.0 * size) / settings.PixelSize;
        PaintNucleus(field,
                     (cx + cell * random.Uniform()) / settings.PixelSize,
                     (cy + cell * random.Uniform()) / settings.PixelSize,
                     radius,
                     radius * (0.65 + 0.35 * random.Uniform()),
                     3.14159 * random.Uniform(),
                     0.85 + 0.35 * random.Uniform(),
                     random);
      }
      const unsigned int lymphocytes = random.Poisson(cell * cell * 0.008 * immune * immune);
      for (unsigned int k = 0; k < lymphocytes; ++k)
      {
        const double radius = (1.9 + 0.6 * random.Uniform()) / settings.PixelSize;
        PaintNucleus(field,
                     (cx + cell * random.Uniform()) / settings.PixelSize,
                     (cy + cell * random.Uniform()) / settings.PixelSize,
                     radius,
                     radius * (0.9 + 0.1 * random.Uniform()),
                     0.0,
                     1.6 + 0.4 * random.Uniform(),
                     random);
      }
    }
  }

  // Lumens: unstained holes with a thin eosin rim.
  const unsigned int lumens = 1 + static_cast<unsigned int>(widthUm * heightUm / (700.0 * 700.0));
  for (unsigned int k = 0; k < lumens; ++k)
  {
    const double cx = random.Uniform() * width;
    const double cy = random.Uniform() * height;
    const double radius = (15.0 + 35.0 * random.Uniform()) / settings.PixelSize;
    ForEachPixelAround(field, cx, cy, static_cast<int>(radius * 1.2) + 1, [&](int dx, int dy, std::size_t i) {
      const double d = std::hypot(dx, dy) / radius;
      if (d < 1.0)
      {
        field.Hematoxylin[i] = 0.0f;
        field.Eosin[i] = 0.0f;
      }
      else if (d < 1.2)
      {
        field.Eosin[i] = std::max(field.Eosin[i], 0.6f);
      }
    });
  }

  const auto rgb = SyntheticStainField::Render(field, SyntheticStainField::TypicalHEStainMatrix());
  slide.Image = SlideReader::RGBImageType::New();
  slide.Image->SetRegions(SlideReader::RGBImageType::RegionType({ { 0, 0 } }, { { width, height } }));
  slide.Image->Allocate();
  std::copy(rgb.begin(), rgb.end(), reinterpret_cast<unsigned char *>(slide.Image->GetBufferPointer()));

  // Spots and their programs.
  std::vector<std::string>                         ids;
  std::vector<SpatialExpressionData::PositionType> positions;
  for (unsigned int s = 0; s < settings.NumberOfSpots; ++s)
  {
    const unsigned int row = s / columns;
    const unsigned int column = s % columns;
    const double       xUm = margin + (column + (row % 2) * 0.5) * settings.SpotPitch;
    const double       yUm = margin + row * rowPitch;
    ids.push_back(Barcode(s));
    positions.push_back({ { xUm / settings.PixelSize, yUm / settings.PixelSize } });
    slide.ArrayCoordinates.push_back({ { static_cast<int>(row), static_cast<int>(2 * column + row % 2) } });
    std::vector<double> values;
    for (std::size_t k = 0; k < programs.size(); ++k)
    {
      values.push_back(program(k, xUm, yUm));
    }
    slide.ProgramAtSpot.push_back(values);
  }

  // Genes: GenesPerProgram per program (alternately up and down), then unrelated ones.
  std::vector<std::string> genes;
  std::vector<std::string> geneIds;
  for (std::size_t k = 0; k < programs.size(); ++k)
  {
    for (unsigned int g = 0; g < settings.GenesPerProgram; ++g)
    {
      genes.push_back(slide.ProgramNames[k] + "_" + std::to_string(g + 1));
      slide.GeneProgram.push_back(static_cast<int>(k));
      slide.GeneBase.push_back(3.0 + 12.0 * random.Uniform());
      slide.GeneEffect.push_back((g % 2 == 0 ? 1.0 : -1.0) * (1.0 + 0.5 * random.Uniform()));
    }
  }
  for (unsigned int g = 0; g < settings.UnrelatedGenes; ++g)
  {
    genes.push_back("unrelated_" + std::to_string(g + 1));
    slide.GeneProgram.push_back(-1);
    slide.GeneBase.push_back(0.5 + 14.5 * random.Uniform());
    slide.GeneEffect.push_back(0.0);
  }
  for (std::size_t g = 0; g < genes.size(); ++g)
  {
    std::ostringstream id;
    id << "SYNTH" << std::setw(6) << std::setfill('0') << g + 1;
    geneIds.push_back(id.str());
  }

  // Negative binomial counts (gamma-Poisson, dispersion 5) around the programs' means.
  constexpr double   dispersion = 5.0;
  std::vector<float> dense(settings.NumberOfSpots * genes.size());
  for (unsigned int s = 0; s < settings.NumberOfSpots; ++s)
  {
    const double library = std::exp(0.3 * random.Normal());
    for (std::size_t g = 0; g < genes.size(); ++g)
    {
      double mean = slide.GeneBase[g] * library;
      if (slide.GeneProgram[g] >= 0)
      {
        mean *= std::exp(slide.GeneEffect[g] * (2.0 * slide.ProgramAtSpot[s][slide.GeneProgram[g]] - 1.0));
      }
      dense[s * genes.size() + g] = static_cast<float>(random.Poisson(random.Gamma(dispersion, mean / dispersion)));
    }
  }
  slide.Spots = SpatialExpressionData::New();
  slide.Spots->SetSpots(std::move(ids), std::move(positions));
  slide.Spots->SetPixelSize(settings.PixelSize);
  slide.Spots->SetGenes(std::move(genes), std::move(geneIds));
  slide.Spots->SetCounts(SparseCountMatrix::FromDense(settings.NumberOfSpots, slide.GeneProgram.size(), dense));
  slide.Spots->SetMetadata("format", "synthetic");
  slide.Spots->SetMetadata("seed", std::to_string(settings.Seed));
  return slide;
}

void
SyntheticSlide::Write(const SyntheticSlide & slide, const std::string & folderName)
{
  RegisterSpatialTranscriptomicsImageIO();
  const fs::path folder(folderName);
  if (fs::exists(folder) && !fs::is_empty(folder))
  {
    itkGenericExceptionMacro(<< folderName << " already holds files; choose an empty or new folder");
  }
  fs::create_directories(folder / "outs" / "spatial");
  const auto & spots = *slide.Spots;

  WriteImage(slide.Image.GetPointer(), (folder / "image.tif").string());

  // The feature-barcode matrix as Space Ranger writes it: CSC with one column per barcode.
  {
    const auto   matrix = (folder / "outs" / "filtered_feature_bc_matrix.h5").string();
    const auto   file = hdf5::File::CreateInMemory(matrix);
    const auto & counts = spots.GetCounts();
    const auto   n = static_cast<hsize_t>(spots.GetNumberOfSpots());
    const auto   g = static_cast<hsize_t>(spots.GetNumberOfGenes());
    file.WriteStrings("matrix/barcodes", spots.GetSpotIds(), { n });
    std::vector<std::int32_t> data(counts.Values.begin(), counts.Values.end());
    file.WriteInt32s("matrix/data", data, { static_cast<hsize_t>(data.size()) });
    file.WriteIntegers("matrix/indices",
                       std::vector<std::int64_t>(counts.ColumnIndex.begin(), counts.ColumnIndex.end()),
                       { static_cast<hsize_t>(counts.ColumnIndex.size()) });
    file.WriteIntegers(
      "matrix/indptr", std::vector<std::int64_t>(counts.RowStart.begin(), counts.RowStart.end()), { n + 1 });
    file.WriteInt32s("matrix/shape", { static_cast<std::int32_t>(g), static_cast<std::int32_t>(n) }, { 2 });
    file.WriteStrings("matrix/features/id", spots.GetGeneIds(), { g });
    file.WriteStrings("matrix/features/name", spots.GetGeneNames(), { g });
    file.WriteStrings("matrix/features/feature_type", std::vector<std::string>(g, "Gene Expression"), { g });
    file.WriteStrings("matrix/features/genome", std::vector<std::string>(g, "synthetic"), { g });
    file.WriteStringAttribute("/", "filetype", "matrix");
    file.WriteStringAttribute("/", "software_version", "ITKSpatialTranscriptomics synthetic slide");
    file.SaveAs(matrix, "the synthetic slide's count matrix");
  }

  // As Space Ranger writes it: the diameter of a theoretical 65 um spot.
  const double spotDiameterPixels = 65.0 / spots.GetPixelSize();
  {
    std::ostringstream positions;
    positions << std::setprecision(10);
    for (std::size_t s = 0; s < spots.GetNumberOfSpots(); ++s)
    {
      const auto & xy = spots.GetPixelPositions()[s];
      const auto & array = slide.ArrayCoordinates[s];
      positions << spots.GetSpotIds()[s] << ",1," << array[0] << "," << array[1] << "," << xy[1] << "," << xy[0]
                << "\n";
    }
    AtomicFile::Write(
      (folder / "outs" / "spatial" / "tissue_positions_list.csv").string(), positions.str(), "the spot positions");
  }
  const auto   size = slide.Image->GetLargestPossibleRegion().GetSize();
  const double lowres = 600.0 / std::max(size[0], size[1]);
  {
    nlohmann::json factors = { { "spot_diameter_fullres", spotDiameterPixels },
                               { "fiducial_diameter_fullres", spotDiameterPixels * 65.0 / 55.0 },
                               { "tissue_hires_scalef", 2000.0 / std::max(size[0], size[1]) },
                               { "tissue_lowres_scalef", lowres } };
    AtomicFile::Write(
      (folder / "outs" / "spatial" / "scalefactors_json.json").string(), factors.dump(4) + "\n", "the scale factors");
  }
  {
    auto shrink = ShrinkImageFilter<SlideReader::RGBImageType, SlideReader::RGBImageType>::New();
    shrink->SetInput(slide.Image);
    shrink->SetShrinkFactors(static_cast<unsigned int>(std::max(1.0, std::round(1.0 / lowres))));
    shrink->Update();
    WriteImage(shrink->GetOutput(), (folder / "outs" / "spatial" / "tissue_lowres_image.png").string());
  }

  nlohmann::json truth;
  truth["description"] = "Synthetic H&E slide: gene programs drive morphology; see Documentation/SyntheticSlide.md";
  truth["pixel_size_um"] = spots.GetPixelSize();
  truth["programs"] = slide.ProgramNames;
  truth["genes"] = nlohmann::json::array();
  for (std::size_t g = 0; g < spots.GetNumberOfGenes(); ++g)
  {
    truth["genes"].push_back(
      { { "name", spots.GetGeneNames()[g] },
        { "program", slide.GeneProgram[g] < 0 ? std::string("none") : slide.ProgramNames[slide.GeneProgram[g]] },
        { "base_mean", slide.GeneBase[g] },
        { "effect", slide.GeneEffect[g] } });
  }
  truth["spots"] = nlohmann::json::array();
  for (std::size_t s = 0; s < spots.GetNumberOfSpots(); ++s)
  {
    truth["spots"].push_back({ { "barcode", spots.GetSpotIds()[s] }, { "programs", slide.ProgramAtSpot[s] } });
  }
  AtomicFile::Write((folder / "ground_truth.json").string(), truth.dump(1) + "\n", "the ground truth");
}

} // end namespace itk
