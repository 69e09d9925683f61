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
#include "itkStainAnalysis.h"

#include "itkCIELab.h"
#include "itkStainStatistics.h"

#include <algorithm>
#include <cmath>

namespace itk
{

StainColorMapper::StainColorMapper(const StainParameters & source, const StainParameters & target)
  : m_Source(source)
  , m_Target(target)
{
  if (source.Method != target.Method)
  {
    itkGenericExceptionMacro(<< "Source parameters are for " << source.Method << " but target parameters are for "
                             << target.Method << "; estimate both with the same method");
  }
  source.Validate();
  target.Validate();
  if (source.UsesStainMatrix())
  {
    const auto opticalDensity = stain::OpticalDensityTable();
    const auto p = stain::ConcentrationMatrix(source.StainMatrix);
    m_ChannelFactor.resize(3 * 3 * 256);
    m_ConcentrationTerm.resize(2 * 3 * 256);
    for (int k = 0; k < 3; ++k)
    {
      for (int j = 0; j < 3; ++j)
      {
        double b = 0.0;
        for (int s = 0; s < 2; ++s)
        {
          b += target.StainMatrix[s][k] * (target.MaxConcentrations[s] / source.MaxConcentrations[s]) * p[s][j];
        }
        for (unsigned int v = 0; v < 256; ++v)
        {
          m_ChannelFactor[(3 * k + j) * 256 + v] = static_cast<float>(std::exp(-b * opticalDensity[v]));
        }
      }
    }
    for (int s = 0; s < 2; ++s)
    {
      for (int j = 0; j < 3; ++j)
      {
        for (unsigned int v = 0; v < 256; ++v)
        {
          m_ConcentrationTerm[(3 * s + j) * 256 + v] = static_cast<float>(p[s][j] * opticalDensity[v]);
        }
      }
    }
  }
  else
  {
    for (int c = 0; c < 3; ++c)
    {
      m_LabScale[c] = target.LabStandardDeviation[c] / source.LabStandardDeviation[c];
      m_LabOffset[c] = target.LabMean[c] - source.LabMean[c] * m_LabScale[c];
    }
  }
}

void
StainColorMapper::Map(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                      unsigned int components) const
{
  if (components < 3)
  {
    itkGenericExceptionMacro(<< "Stain mapping needs red, green and blue: the pixels have " << components
                             << " component(s)");
  }
  if (m_Source.UsesStainMatrix())
  {
    MapStains(input, output, numberOfPixels, components);
  }
  else
  {
    MapLab(input, output, numberOfPixels, components);
  }
  for (unsigned int c = 3; c < components; ++c)
  {
    for (std::size_t i = 0; i < numberOfPixels; ++i)
    {
      output[i * components + c] = input[i * components + c];
    }
  }
}

void
StainColorMapper::MapStains(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                            unsigned int components) const
{
  const float * f = m_ChannelFactor.data();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const unsigned char * p = input + i * components;
    unsigned char *       q = output + i * components;
    const unsigned int    r = p[0];
    const unsigned int    g = 256 + p[1];
    const unsigned int    b = 512 + p[2];
    for (unsigned int k = 0; k < 3; ++k)
    {
      const float * fk = f + 768 * k;
      const float   value = 255.0f * fk[r] * fk[g] * fk[b];
      // numpy's uint8 cast truncates; values above 255 saturate as in TIAToolbox.
      q[k] = value >= 255.0f ? 255 : static_cast<unsigned char>(value);
    }
  }
}

void
StainColorMapper::MapLab(const unsigned char * input, unsigned char * output, std::size_t numberOfPixels,
                         unsigned int components) const
{
  static const auto linear = cielab::LinearTable();
  // Thresholds of linear light between consecutive 8-bit sRGB codes: exact rounding without pow().
  static const auto thresholds = [] {
    std::array<double, 255> t{};
    for (unsigned int k = 0; k < 255; ++k)
    {
      t[k] = cielab::SRGBToLinear(k + 0.5);
    }
    return t;
  }();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const auto lab = cielab::PixelLab(linear, input + i * components);
    // Clip to the 8-bit Lab range that OpenCV (and so TIAToolbox) can represent.
    const double lightness = std::min(100.0, std::max(0.0, lab[0] * m_LabScale[0] + m_LabOffset[0]));
    const double a = std::min(127.0, std::max(-128.0, lab[1] * m_LabScale[1] + m_LabOffset[1]));
    const double b = std::min(127.0, std::max(-128.0, lab[2] * m_LabScale[2] + m_LabOffset[2]));
    const auto   rgb = cielab::LabToLinearRGB(lightness, a, b);
    for (int c = 0; c < 3; ++c)
    {
      output[i * components + c] =
        static_cast<unsigned char>(std::upper_bound(thresholds.begin(), thresholds.end(), rgb[c]) - thresholds.begin());
    }
  }
}

void
StainColorMapper::Concentrations(const unsigned char * input, std::size_t numberOfPixels, unsigned int components,
                                 float * hematoxylin, float * eosin) const
{
  if (!m_Source.UsesStainMatrix())
  {
    itkGenericExceptionMacro(<< "Stain concentrations need a stain-matrix method (Macenko, Vahadane or Ruifrok); "
                                "Reinhard's method has none");
  }
  const float * t = m_ConcentrationTerm.data();
  for (std::size_t i = 0; i < numberOfPixels; ++i)
  {
    const unsigned char * p = input + i * components;
    hematoxylin[i] = t[p[0]] + t[256 + p[1]] + t[512 + p[2]];
    eosin[i] = t[768 + p[0]] + t[1024 + p[1]] + t[1280 + p[2]];
  }
}

} // end namespace itk
