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
#include "itkSyntheticStainedTissue.h"

#include "itkMacro.h"
#include "itkStainFieldDrawing.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace itk
{
namespace
{
/** Uniform in [0, 1) from raw mt19937 output: std::uniform_real_distribution differs between libraries. */
double
Uniform(std::mt19937 & generator)
{
  return generator() / 4294967296.0;
}

StainParameters::StainMatrixType
Normalized(StainParameters::StainMatrixType m)
{
  for (auto & row : m)
  {
    const double norm = std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
    for (auto & v : row)
    {
      v /= norm;
    }
  }
  return m;
}
} // end anonymous namespace

StainParameters::StainMatrixType
SyntheticStainField::TypicalHEStainMatrix()
{
  // Ruifrok and Johnston's H&E vectors.
  return Normalized({ { { { 0.650, 0.704, 0.286 } }, { { 0.072, 0.990, 0.105 } } } });
}

StainParameters::StainMatrixType
SyntheticStainField::AlternativeHEStainMatrix()
{
  // A bluer hematoxylin and a more orange eosin, as from another lab's protocol.
  return Normalized({ { { { 0.550, 0.758, 0.351 } }, { { 0.150, 0.900, 0.300 } } } });
}

SyntheticStainField
SyntheticStainField::Generate(unsigned int width, unsigned int height, std::uint32_t seed, double nucleusDensity)
{
  if (width == 0 || height == 0)
  {
    itkGenericExceptionMacro(<< "A synthetic stain field needs a positive size, got " << width << " x " << height);
  }
  std::mt19937        generator(seed);
  SyntheticStainField field;
  field.Width = width;
  field.Height = height;
  const std::size_t n = std::size_t{ width } * height;
  field.Hematoxylin.assign(n, 0.0f);
  field.Eosin.assign(n, 0.0f);

  // Stroma: eosin modulated by a few smooth waves (fibres), faint hematoxylin background.
  const double phase[4] = {
    6.283 * Uniform(generator), 6.283 * Uniform(generator), 6.283 * Uniform(generator), 6.283 * Uniform(generator)
  };
  const double scale = 1.0 / std::max(width, height);
  for (unsigned int y = 0; y < height; ++y)
  {
    for (unsigned int x = 0; x < width; ++x)
    {
      const double u = x * scale;
      const double v = y * scale;
      const double waves = std::sin(23.0 * u + 7.0 * v + phase[0]) * std::sin(5.0 * u - 17.0 * v + phase[1]) +
                           0.5 * std::sin(61.0 * (u + v) + phase[2]) + 0.3 * std::sin(97.0 * u - 41.0 * v + phase[3]);
      const std::size_t i = std::size_t{ y } * width + x;
      field.Eosin[i] = static_cast<float>(0.55 + 0.25 * waves + 0.08 * (Uniform(generator) - 0.5));
      field.Hematoxylin[i] = static_cast<float>(0.05 + 0.03 * Uniform(generator));
    }
  }

  // Nuclei: filled ellipses rich in hematoxylin, with a chromatin texture.
  const std::size_t nuclei = static_cast<std::size_t>(nucleusDensity * n / 10000.0);
  for (std::size_t k = 0; k < nuclei; ++k)
  {
    const double cx = width * Uniform(generator);
    const double cy = height * Uniform(generator);
    const double a = 4.0 + 5.0 * Uniform(generator);
    const double b = a * (0.55 + 0.45 * Uniform(generator));
    const double angle = 3.14159265358979 * Uniform(generator);
    const double density = 0.8 + 0.7 * Uniform(generator);
    const double ca = std::cos(angle);
    const double sa = std::sin(angle);
    ForEachPixelAround(field, cx, cy, static_cast<int>(std::ceil(a)) + 1, [&](int dx, int dy, std::size_t i) {
      const double ex = (dx * ca + dy * sa) / a;
      const double ey = (-dx * sa + dy * ca) / b;
      const double d = ex * ex + ey * ey;
      if (d <= 1.0)
      {
        field.Hematoxylin[i] = static_cast<float>(density * (0.85 + 0.3 * Uniform(generator)) * (1.0 - 0.3 * d));
        field.Eosin[i] = static_cast<float>(0.2 + 0.1 * Uniform(generator));
      }
    });
  }

  // Lumens: unstained round holes with a soft rim.
  const unsigned int lumens = 1 + static_cast<unsigned int>(n / 60000);
  for (unsigned int k = 0; k < lumens; ++k)
  {
    const double cx = width * Uniform(generator);
    const double cy = height * Uniform(generator);
    const double radius = std::min(std::min(width, height), 400u) * (0.06 + 0.08 * Uniform(generator));
    const auto   first = [](double v) { return static_cast<unsigned int>(std::max(0.0, std::floor(v))); };
    const auto   last = [](double v, unsigned int size) {
      return static_cast<unsigned int>(std::min<double>(size, std::ceil(v) + 1));
    };
    for (unsigned int y = first(cy - 1.2 * radius); y < last(cy + 1.2 * radius, height); ++y)
    {
      for (unsigned int x = first(cx - 1.2 * radius); x < last(cx + 1.2 * radius, width); ++x)
      {
        const double d = std::hypot(x - cx, y - cy) / radius;
        if (d < 1.2)
        {
          const std::size_t i = std::size_t{ y } * width + x;
          const double      keep = d < 1.0 ? 0.0 : (d - 1.0) / 0.2;
          field.Hematoxylin[i] = static_cast<float>(field.Hematoxylin[i] * keep);
          field.Eosin[i] = static_cast<float>(field.Eosin[i] * keep);
        }
      }
    }
  }
  return field;
}

std::vector<unsigned char>
SyntheticStainField::Render(const SyntheticStainField & field, const StainParameters::StainMatrixType & s)
{
  const std::size_t          n = field.Hematoxylin.size();
  std::vector<unsigned char> rgb(3 * n);
  for (std::size_t i = 0; i < n; ++i)
  {
    const double h = std::max(0.0f, field.Hematoxylin[i]);
    const double e = std::max(0.0f, field.Eosin[i]);
    for (int c = 0; c < 3; ++c)
    {
      const double value = 255.0 * std::exp(-(h * s[0][c] + e * s[1][c]));
      rgb[3 * i + c] = static_cast<unsigned char>(std::lround(std::min(255.0, value)));
    }
  }
  return rgb;
}

} // end namespace itk
