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

// StainNormalizeFilter as an ITK filter: pixel types, stacks, axis order, streaming, the cached
// reference analysis, pass-through of blank input, concentration outputs and every precondition.

#include "itkStainNormalizeFilter.h"
#include "itkStainTestUtilities.h"

#include "itkRGBAPixel.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include "gtest/gtest.h"

namespace
{
using itk::StainTest::RGBImageType;
using FilterType = itk::StainNormalizeFilter<RGBImageType>;

constexpr unsigned int Size = 160;

RGBImageType::Pointer
Source()
{
  return itk::StainTest::MakeSyntheticTissue(Size, Size, 21, itk::SyntheticStainField::AlternativeHEStainMatrix());
}

RGBImageType::Pointer
Target()
{
  return itk::StainTest::MakeSyntheticTissue(Size, Size, 22, itk::SyntheticStainField::TypicalHEStainMatrix());
}

const unsigned char *
Bytes(const itk::ImageBase<2> * image)
{
  return reinterpret_cast<const unsigned char *>(static_cast<const RGBImageType *>(image)->GetBufferPointer());
}

/** The filter's output is the estimate-then-map of the library functions, pixel for pixel. */
TEST(StainNormalizeFilter, EqualsEstimateThenMap)
{
  const auto source = Source();
  const auto target = Target();
  auto       filter = FilterType::New();
  filter->SetInput(source);
  filter->SetReferenceImage(target);
  filter->Update();

  const std::size_t n = Size * Size;
  const auto        s = *itk::StainAnalysis::Estimate(Bytes(source), n, 3, itk::StainNormalizationMethod::Macenko);
  const auto        t = *itk::StainAnalysis::Estimate(Bytes(target), n, 3, itk::StainNormalizationMethod::Macenko);
  EXPECT_EQ(filter->GetSourceParameters(), s);
  EXPECT_EQ(filter->GetTargetParameters(), t);
  std::vector<unsigned char> expected(3 * n);
  itk::StainColorMapper(s, t).Map(Bytes(source), expected.data(), n, 3);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), Bytes(filter->GetOutput())));
  EXPECT_TRUE(filter->GetInputHasTissue());
}

TEST(StainNormalizeFilter, OutputPixelAtIndexComesFromInputPixelAtSameIndex)
{
  // Axis order: a pixel of a unique colour at (x=37, y=5) must come out at (37, 5).
  const auto              source = Source();
  RGBImageType::PixelType marker;
  marker.Set(90, 40, 160);
  source->SetPixel({ { 37, 5 } }, marker);
  auto filter = FilterType::New();
  filter->SetInput(source);
  filter->SetReferenceImage(Target());
  filter->Update();
  const itk::StainColorMapper mapper(filter->GetSourceParameters(), filter->GetTargetParameters());
  unsigned char               expected[3];
  mapper.Map(marker.GetDataPointer(), expected, 1, 3);
  const auto out = filter->GetOutput()->GetPixel({ { 37, 5 } });
  EXPECT_EQ(out[0], expected[0]);
  EXPECT_EQ(out[1], expected[1]);
  EXPECT_EQ(out[2], expected[2]);
  EXPECT_EQ(filter->GetOutput()->GetLargestPossibleRegion(), source->GetLargestPossibleRegion());
}

TEST(StainNormalizeFilter, StreamingEqualsWholeImageAndReadsOnlyRegions)
{
  const auto source = Source();
  auto       whole = FilterType::New();
  whole->SetInput(source);
  whole->SetReferenceImage(Target());
  whole->Update();

  // Given source parameters, the input streams: each region asks for that region only.
  auto streamed = FilterType::New();
  streamed->SetInput(source);
  streamed->SetTargetParameters(whole->GetTargetParameters());
  streamed->SetSourceParameters(whole->GetSourceParameters());
  std::vector<RGBImageType::RegionType> requested;
  streamed->AddObserver(itk::StartEvent(), [&](const itk::EventObject &) {
    requested.push_back(streamed->GetInput()->GetRequestedRegion());
  });
  auto streamer = itk::StreamingImageFilter<RGBImageType, RGBImageType>::New();
  streamer->SetInput(streamed->GetOutput());
  streamer->SetNumberOfStreamDivisions(7);
  streamer->Update();

  ASSERT_EQ(requested.size(), 7u);
  itk::SizeValueType covered = 0;
  for (const auto & region : requested)
  {
    EXPECT_LT(region.GetNumberOfPixels(), Size * Size / 5);
    covered += region.GetNumberOfPixels();
  }
  EXPECT_EQ(covered, Size * Size);
  const std::size_t bytes = 3 * Size * Size;
  EXPECT_TRUE(std::equal(Bytes(whole->GetOutput()), Bytes(whole->GetOutput()) + bytes, Bytes(streamer->GetOutput())));
}

TEST(StainNormalizeFilter, RGBAKeepsAlphaAndMapsColourAsRGB)
{
  using RGBAImageType = itk::Image<itk::RGBAPixel<unsigned char>, 2>;
  const auto rgb = Source();
  auto       rgba = RGBAImageType::New();
  rgba->SetRegions(rgb->GetLargestPossibleRegion());
  rgba->Allocate();
  for (unsigned int i = 0; i < Size * Size; ++i)
  {
    const auto & p = rgb->GetBufferPointer()[i];
    rgba->GetBufferPointer()[i].Set(p[0], p[1], p[2], static_cast<unsigned char>(i % 256));
  }
  auto rgbFilter = FilterType::New();
  rgbFilter->SetInput(rgb);
  rgbFilter->SetReferenceImage(Target());
  rgbFilter->Update();

  auto filter = itk::StainNormalizeFilter<RGBAImageType>::New();
  filter->SetInput(rgba);
  filter->SetTargetParameters(rgbFilter->GetTargetParameters());
  filter->Update();
  for (unsigned int i = 0; i < Size * Size; ++i)
  {
    const auto & out = filter->GetOutput()->GetBufferPointer()[i];
    const auto & expected = rgbFilter->GetOutput()->GetBufferPointer()[i];
    ASSERT_EQ(out[3], i % 256);
    ASSERT_EQ(out[0], expected[0]);
    ASSERT_EQ(out[1], expected[1]);
    ASSERT_EQ(out[2], expected[2]);
  }
}

TEST(StainNormalizeFilter, VectorImageWithFourComponents)
{
  using VectorImageType = itk::VectorImage<unsigned char, 2>;
  const auto rgb = Source();
  auto       image = VectorImageType::New();
  image->SetRegions(rgb->GetLargestPossibleRegion());
  image->SetNumberOfComponentsPerPixel(4);
  image->Allocate();
  for (unsigned int i = 0; i < Size * Size; ++i)
  {
    for (int c = 0; c < 3; ++c)
    {
      image->GetBufferPointer()[4 * i + c] = rgb->GetBufferPointer()[i][c];
    }
    image->GetBufferPointer()[4 * i + 3] = 200;
  }
  auto rgbFilter = FilterType::New();
  rgbFilter->SetInput(rgb);
  rgbFilter->SetReferenceImage(Target());
  rgbFilter->Update();

  auto filter = itk::StainNormalizeFilter<VectorImageType>::New();
  filter->SetInput(image);
  filter->SetTargetParameters(rgbFilter->GetTargetParameters());
  filter->Update();
  EXPECT_EQ(filter->GetOutput()->GetNumberOfComponentsPerPixel(), 4u);
  for (unsigned int i = 0; i < Size * Size; ++i)
  {
    for (int c = 0; c < 3; ++c)
    {
      ASSERT_EQ(filter->GetOutput()->GetBufferPointer()[4 * i + c], rgbFilter->GetOutput()->GetBufferPointer()[i][c]);
    }
    ASSERT_EQ(filter->GetOutput()->GetBufferPointer()[4 * i + 3], 200);
  }
}

TEST(StainNormalizeFilter, StackOfPatchesMapsEachSliceLikeTheImage)
{
  using StackType = itk::Image<itk::RGBPixel<unsigned char>, 3>;
  const auto slice = Source();
  auto       stack = StackType::New();
  stack->SetRegions(StackType::RegionType({ { 0, 0, 0 } }, { { Size, Size, 3 } }));
  stack->Allocate();
  for (unsigned int z = 0; z < 3; ++z)
  {
    std::copy(
      slice->GetBufferPointer(), slice->GetBufferPointer() + Size * Size, stack->GetBufferPointer() + z * Size * Size);
  }
  auto sliceFilter = FilterType::New();
  sliceFilter->SetInput(slice);
  sliceFilter->SetReferenceImage(Target());
  sliceFilter->Update();

  auto filter = itk::StainNormalizeFilter<StackType>::New();
  filter->SetInput(stack);
  filter->SetTargetParameters(sliceFilter->GetTargetParameters());
  filter->SetSourceParameters(sliceFilter->GetSourceParameters());
  filter->Update();
  for (unsigned int z = 0; z < 3; ++z)
  {
    for (unsigned int y = 0; y < Size; y += 13)
    {
      for (unsigned int x = 0; x < Size; x += 11)
      {
        ASSERT_EQ(filter->GetOutput()->GetPixel({ { x, y, z } }), sliceFilter->GetOutput()->GetPixel({ { x, y } }));
      }
    }
  }
}

TEST(StainNormalizeFilter, ReferenceAnalysisIsCachedUntilTheReferenceChanges)
{
  const auto target = Target();
  auto       filter = FilterType::New();
  filter->SetInput(Source());
  filter->SetReferenceImage(target);
  filter->Update();
  const auto first = filter->GetTargetParameters();

  // Change the reference's pixels behind the pipeline's back: the cached analysis is kept...
  const auto other =
    itk::StainTest::MakeSyntheticTissue(Size, Size, 99, itk::SyntheticStainField::AlternativeHEStainMatrix());
  std::copy(other->GetBufferPointer(), other->GetBufferPointer() + Size * Size, target->GetBufferPointer());
  filter->Modified();
  filter->Update();
  EXPECT_EQ(filter->GetTargetParameters(), first);

  // ...until the reference reports the change.
  target->Modified();
  filter->Update();
  EXPECT_NE(filter->GetTargetParameters(), first);

  // A new method is a new analysis.
  filter->SetMethod(itk::StainNormalizationMethod::Reinhard);
  filter->Update();
  EXPECT_EQ(filter->GetTargetParameters().Method, itk::StainNormalizationMethod::Reinhard);
}

TEST(StainNormalizeFilter, BlankInputPassesThroughUnchanged)
{
  auto blank = RGBImageType::New();
  blank->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 50, 40 } }));
  blank->Allocate();
  RGBImageType::PixelType white;
  white.Set(250, 252, 255);
  blank->FillBuffer(white);
  blank->SetPixel({ { 3, 4 } }, RGBImageType::PixelType(251));
  auto filter = FilterType::New();
  filter->SetInput(blank);
  filter->SetReferenceImage(Target());
  filter->ComputeConcentrationsOn();
  filter->Update(); // warns, does not throw
  EXPECT_FALSE(filter->GetInputHasTissue());
  EXPECT_TRUE(std::equal(Bytes(blank), Bytes(blank) + 3 * 50 * 40, Bytes(filter->GetOutput())));
  EXPECT_EQ(filter->GetHematoxylinOutput()->GetPixel({ { 3, 4 } }), 0.0f);
}

TEST(StainNormalizeFilter, ConcentrationOutputsFollowTheTrueStainAmounts)
{
  const auto field = itk::SyntheticStainField::Generate(Size, Size, 31);
  const auto source = itk::StainTest::MakeRGBImage(
    itk::SyntheticStainField::Render(field, itk::SyntheticStainField::TypicalHEStainMatrix()), Size, Size);
  auto filter = FilterType::New();
  filter->SetInput(source);
  filter->SetReferenceImage(Target());
  filter->ComputeConcentrationsOn();
  filter->Update();
  const float * h = filter->GetHematoxylinOutput()->GetBufferPointer();
  const float * e = filter->GetEosinOutput()->GetBufferPointer();
  auto          correlation = [](const float * a, const std::vector<float> & b) {
    const std::size_t n = b.size();
    double            ma = 0, mb = 0;
    for (std::size_t i = 0; i < n; ++i)
    {
      ma += a[i] / n;
      mb += b[i] / n;
    }
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < n; ++i)
    {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
  };
  EXPECT_GT(correlation(h, field.Hematoxylin), 0.97);
  EXPECT_GT(correlation(e, field.Eosin), 0.97);
}

TEST(StainNormalizeFilter, PreconditionsThrow)
{
  auto filter = FilterType::New();
  filter->SetInput(Source());
  EXPECT_THROW(filter->Update(), itk::ExceptionObject) << "no target";

  auto reinhard = itk::StainParameters();
  reinhard.Method = itk::StainNormalizationMethod::Reinhard;
  reinhard.LabMean = { { 60, 10, -5 } };
  reinhard.LabStandardDeviation = { { 10, 5, 5 } };
  filter->SetTargetParameters(reinhard); // method is still Macenko
  EXPECT_THROW(filter->Update(), itk::ExceptionObject) << "method mismatch";

  filter->SetMethod(itk::StainNormalizationMethod::Reinhard);
  filter->ComputeConcentrationsOn();
  EXPECT_THROW(filter->Update(), itk::ExceptionObject) << "concentrations of Reinhard";
  filter->ComputeConcentrationsOff();
  EXPECT_NO_THROW(filter->Update());

  itk::StainParameters invalid;
  EXPECT_THROW(filter->SetTargetParameters(invalid), itk::ExceptionObject) << "zero concentrations";
}

TEST(StainNormalizeFilter, ReferenceWithoutTissueThrows)
{
  auto blank = RGBImageType::New();
  blank->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 30, 30 } }));
  blank->Allocate();
  blank->FillBuffer(RGBImageType::PixelType(255));
  auto filter = FilterType::New();
  filter->SetInput(Source());
  filter->SetReferenceImage(blank);
  try
  {
    filter->Update();
    FAIL() << "no exception";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("reference image has no tissue"), std::string::npos);
  }
}

TEST(StainNormalizeFilter, TooFewChannelsAndEmptyImagesThrow)
{
  using VectorImageType = itk::VectorImage<unsigned char, 2>;
  auto twoChannels = VectorImageType::New();
  twoChannels->SetRegions(VectorImageType::RegionType({ { 0, 0 } }, { { 8, 8 } }));
  twoChannels->SetNumberOfComponentsPerPixel(2);
  twoChannels->Allocate();
  auto filter = itk::StainNormalizeFilter<VectorImageType>::New();
  filter->SetInput(twoChannels);
  itk::StainParameters target;
  target.StainMatrix = itk::SyntheticStainField::TypicalHEStainMatrix();
  target.MaxConcentrations = { { 1.5, 1.0 } };
  filter->SetTargetParameters(target);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);

  auto empty = RGBImageType::New();
  empty->SetRegions(RGBImageType::RegionType({ { 0, 0 } }, { { 0, 0 } }));
  empty->Allocate();
  auto rgbFilter = FilterType::New();
  rgbFilter->SetInput(empty);
  rgbFilter->SetTargetParameters(target);
  EXPECT_THROW(rgbFilter->Update(), itk::ExceptionObject);
}

} // namespace
