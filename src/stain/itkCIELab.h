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
#ifndef itkCIELab_h
#define itkCIELab_h

// Private to the library: 8-bit sRGB <-> CIE L*a*b* (D65), with the constants of OpenCV's
// cvtColor(COLOR_RGB2Lab), which TIAToolbox and StainTools use, so that luminosity masks and
// Reinhard statistics agree with theirs.

#include <array>
#include <cmath>

namespace itk
{
namespace cielab
{

constexpr double WhiteX = 0.950456;
constexpr double WhiteZ = 1.088754;
constexpr double LinearThreshold = 0.008856; // (6/29)^3, rounded as in OpenCV
constexpr double LinearSlope = 7.787;
constexpr double LinearL = 903.3;

/** sRGB transfer function: 8-bit value -> linear light in [0, 1]. */
inline double
SRGBToLinear(double v8)
{
  const double v = v8 / 255.0;
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

/** Inverse transfer function: linear light -> sRGB in [0, 1]. */
inline double
LinearToSRGB(double linear)
{
  return linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1.0 / 2.4) - 0.055;
}

/** Luminance Y of linear RGB (the middle row of the sRGB -> XYZ matrix). */
constexpr std::array<double, 3> LuminanceWeights{ { 0.212671, 0.715160, 0.072169 } };

inline double
LightnessFromLuminance(double y)
{
  return y > LinearThreshold ? 116.0 * std::cbrt(y) - 16.0 : LinearL * y;
}

/** The luminance at which LightnessFromLuminance reaches \p lightness (its inverse). */
inline double
LuminanceFromLightness(double lightness)
{
  if (lightness <= LinearL * LinearThreshold)
  {
    return lightness / LinearL;
  }
  const double f = (lightness + 16.0) / 116.0;
  return f * f * f;
}

inline double
LabF(double t)
{
  return t > LinearThreshold ? std::cbrt(t) : LinearSlope * t + 16.0 / 116.0;
}

inline double
LabFInverse(double f)
{
  const double t = f * f * f;
  return t > LinearThreshold ? t : (f - 16.0 / 116.0) / LinearSlope;
}

/** Linear RGB in [0, 1] -> L*a*b* with L in [0, 100]. */
inline std::array<double, 3>
LinearRGBToLab(double r, double g, double b)
{
  const double x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / WhiteX;
  const double y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
  const double z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / WhiteZ;
  const double fy = LabF(y);
  return { { LightnessFromLuminance(y), 500.0 * (LabF(x) - fy), 200.0 * (fy - LabF(z)) } };
}

/** L*a*b* -> linear RGB, clipped to [0, 1]. */
inline std::array<double, 3>
LabToLinearRGB(double lightness, double a, double b)
{
  double y;
  double fy;
  if (lightness <= LinearL * LinearThreshold)
  {
    y = lightness / LinearL;
    fy = LinearSlope * y + 16.0 / 116.0;
  }
  else
  {
    fy = (lightness + 16.0) / 116.0;
    y = fy * fy * fy;
  }
  const double x = WhiteX * LabFInverse(a / 500.0 + fy);
  const double z = WhiteZ * LabFInverse(fy - b / 200.0);
  const auto   clip = [](double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); };
  return { { clip(3.240479 * x - 1.537150 * y - 0.498535 * z),
             clip(-0.969256 * x + 1.875991 * y + 0.041556 * z),
             clip(0.055648 * x - 0.204043 * y + 1.057311 * z) } };
}

/** Linear light of each 8-bit sRGB value. */
inline std::array<double, 256>
LinearTable()
{
  std::array<double, 256> table{};
  for (unsigned int v = 0; v < 256; ++v)
  {
    table[v] = SRGBToLinear(v);
  }
  return table;
}

/** L*a*b* of one 8-bit pixel, through a table of linear values. */
inline std::array<double, 3>
PixelLab(const std::array<double, 256> & linear, const unsigned char * p)
{
  return LinearRGBToLab(linear[p[0]], linear[p[1]], linear[p[2]]);
}

} // end namespace cielab
} // end namespace itk

#endif // itkCIELab_h
