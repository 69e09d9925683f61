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
#include "itkClassifierTwoSampleTest.h"
#include "itkAutogradBackward.h"

#include "itkDiffusionLoss.h"
#include "itkTorchDevice.h"
#include "itkGlobalGeneratorSeed.h"
#include "itkOptimization.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace itk
{
namespace
{
using StackType = Image<RGBPixel<unsigned char>, 3>;

/** Three 3x3 convolutions with ReLU and 2x2 max pooling, global average pooling, one logit. */
struct SetClassifierImpl : torch::nn::Module
{
  explicit SetClassifierImpl(std::int64_t width)
    : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, width, 3).padding(1))))
    , conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 2 * width, 3).padding(1))))
    , conv3(register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * width, 4 * width, 3).padding(1))))
    , head(register_module("head", torch::nn::Linear(4 * width, 1)))
  {}

  torch::Tensor
  forward(torch::Tensor x)
  {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = torch::relu(conv3(x)).mean({ 2, 3 });
    return head(x).squeeze(1);
  }

  torch::nn::Conv2d conv1;
  torch::nn::Conv2d conv2;
  torch::nn::Conv2d conv3;
  torch::nn::Linear head;
};
TORCH_MODULE(SetClassifier);

/** A stack as a uint8 tensor [N, 3, H, W] (ITK's x, y, patch reversed), checked. */
torch::Tensor
AsTensor(const StackType * stack, const char * role)
{
  if (stack == nullptr || stack->GetBufferPointer() == nullptr || stack->GetBufferedRegion().GetNumberOfPixels() == 0)
  {
    itkGenericExceptionMacro(<< "The classifier two-sample test has no " << role
                             << " patches; pass a stack of RGB patches (x, y, patch index)");
  }
  const auto size = stack->GetBufferedRegion().GetSize();
  if (size[0] < 8 || size[1] < 8)
  {
    itkGenericExceptionMacro(<< "The " << role << " patches are " << size[0] << " x " << size[1]
                             << " pixels; the classifier two-sample test needs at least 8 x 8");
  }
  const auto pixels = torch::from_blob(
    const_cast<RGBPixel<unsigned char> *>(stack->GetBufferPointer()),
    { static_cast<std::int64_t>(size[2]), static_cast<std::int64_t>(size[1]), static_cast<std::int64_t>(size[0]), 3 },
    torch::kUInt8);
  return pixels.permute({ 0, 3, 1, 2 }).contiguous(); // a copy: the ITK buffer may go
}

/** A random permutation of 0..n-1 from \p generator. */
std::vector<std::int64_t>
Permutation(std::int64_t n, at::Generator & generator)
{
  const auto order = torch::randperm(n, generator, torch::kLong);
  return { order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + n };
}

/** Trains a fresh classifier on \p images (uint8) with \p labels and returns its logits of \p test. */
std::vector<double>
TrainAndScore(const torch::Tensor & images, const torch::Tensor & labels, const torch::Tensor & test,
              const ClassifierTwoSampleSettings & settings, at::Generator & generator, const torch::Device & device)
{
  // Initial weights from the global generator, seeded for this construction only (no side effect).
  const auto seed = static_cast<std::uint64_t>(
    torch::randint(std::numeric_limits<std::int64_t>::max(), { 1 }, generator, torch::kLong).item<std::int64_t>());
  SetClassifier classifier = [&] {
    const torchcore::GlobalGeneratorSeed seeded(seed);
    return SetClassifier(static_cast<std::int64_t>(settings.Channels));
  }();
  classifier->to(device);
  torch::optim::Adam optimizer(classifier->parameters(), torch::optim::AdamOptions(settings.LearningRate));

  const std::int64_t count = images.size(0);
  const std::int64_t batch = std::min<std::int64_t>(settings.BatchSize, count);
  classifier->train();
  for (unsigned int epoch = 0; epoch < settings.Epochs; ++epoch)
  {
    const auto order = torch::randperm(count, generator, torch::kLong);
    for (std::int64_t begin = 0; begin + batch <= count; begin += batch)
    {
      const auto rows = order.slice(0, begin, begin + batch);
      auto       x = diffusion::PatchesToModelRange(images.index_select(0, rows));
      if (settings.Augment)
      {
        x = torchcore::AugmentDihedral(x, generator);
      }
      const auto loss =
        torch::binary_cross_entropy_with_logits(classifier(x.to(device)), labels.index_select(0, rows).to(device));
      optimizer.zero_grad();
      AutogradBackward(loss);
      optimizer.step();
    }
  }
  c10::InferenceMode guard;
  classifier->eval();
  const auto logits = classifier(diffusion::PatchesToModelRange(test).to(device)).to(torch::kCPU, torch::kDouble);
  return { logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel() };
}
} // namespace

double
ClassifierTwoSampleResult::AreaUnderROC(const std::vector<double> & scores, const std::vector<int> & labels)
{
  if (scores.size() != labels.size())
  {
    itkGenericExceptionMacro(<< "AreaUnderROC: " << scores.size() << " scores but " << labels.size() << " labels");
  }
  // Mann-Whitney: the mean rank of the positives, ties given their average rank.
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double      positiveRanks = 0.0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < order.size();)
  {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]])
    {
      ++j;
    }
    const double rank = 0.5 * static_cast<double>(i + 1 + j); // ranks i+1 .. j, averaged
    for (std::size_t k = i; k < j; ++k)
    {
      if (labels[order[k]] == 1)
      {
        positiveRanks += rank;
        ++positives;
      }
    }
    i = j;
  }
  const std::size_t negatives = scores.size() - positives;
  if (positives == 0 || negatives == 0)
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double p = static_cast<double>(positives);
  return (positiveRanks - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

ClassifierTwoSampleResult
ClassifierTwoSampleResult::Compute(const StackType * first, const StackType * second,
                                   const ClassifierTwoSampleSettings & settings)
{
  const auto a = AsTensor(first, "first");
  const auto b = AsTensor(second, "second");
  if (a.size(2) != b.size(2) || a.size(3) != b.size(3))
  {
    itkGenericExceptionMacro(<< "The two patch sets differ in patch size (" << a.size(3) << " x " << a.size(2)
                             << " and " << b.size(3) << " x " << b.size(2) << "); compare patches of one size");
  }
  if (settings.Folds < 2 || settings.Epochs == 0 || settings.BatchSize == 0 || settings.Channels == 0 ||
      !(settings.LearningRate > 0.0))
  {
    itkGenericExceptionMacro(<< "The classifier two-sample test needs at least 2 folds and positive epochs, batch "
                                "size, channels and learning rate");
  }
  const std::int64_t perSet = std::min(a.size(0), b.size(0));
  if (perSet < static_cast<std::int64_t>(settings.Folds))
  {
    itkGenericExceptionMacro(<< "The smaller patch set has " << perSet << " patches, fewer than the " << settings.Folds
                             << " folds; give more patches or fewer folds");
  }

  ClassifierTwoSampleResult result;
  result.PatchesPerSet = static_cast<std::size_t>(perSet);
  try
  {
    if (settings.NumberOfThreads > 0)
    {
      torchcore::SetTorchThreads(static_cast<int>(settings.NumberOfThreads));
    }
    const auto device = torchcore::ResolveDevice(settings.Device);
    auto       generator = at::make_generator<at::CPUGeneratorImpl>(settings.Seed);
    // perSet patches of each set, in random order; fold f holds the positions p with p % Folds == f
    // of both sets, so every fold is balanced.
    const auto pickA = Permutation(a.size(0), generator);
    const auto pickB = Permutation(b.size(0), generator);
    const auto rowsA = torch::tensor(std::vector<std::int64_t>(pickA.begin(), pickA.begin() + perSet));
    const auto rowsB = torch::tensor(std::vector<std::int64_t>(pickB.begin(), pickB.begin() + perSet));
    const auto images = torch::cat({ a.index_select(0, rowsA), b.index_select(0, rowsB) });
    const auto labels = torch::cat({ torch::zeros({ perSet }), torch::ones({ perSet }) });

    std::vector<double> scores(2 * perSet);
    std::vector<int>    classes(2 * perSet);
    for (unsigned int fold = 0; fold < settings.Folds; ++fold)
    {
      std::vector<std::int64_t> train;
      std::vector<std::int64_t> test;
      for (std::int64_t i = 0; i < 2 * perSet; ++i)
      {
        ((i % perSet) % settings.Folds == fold ? test : train).push_back(i);
      }
      const auto       trainRows = torch::tensor(train);
      const auto       testRows = torch::tensor(test);
      const auto       foldScores = TrainAndScore(images.index_select(0, trainRows),
                                            labels.index_select(0, trainRows),
                                            images.index_select(0, testRows),
                                            settings,
                                            generator,
                                            device);
      std::vector<int> foldClasses;
      for (std::size_t k = 0; k < test.size(); ++k)
      {
        scores[test[k]] = foldScores[k];
        classes[test[k]] = test[k] >= perSet ? 1 : 0;
        foldClasses.push_back(classes[test[k]]);
      }
      result.FoldAUC.push_back(ClassifierTwoSampleResult::AreaUnderROC(foldScores, foldClasses));
    }
    result.AUC = ClassifierTwoSampleResult::AreaUnderROC(scores, classes);
  }
  catch (const ExceptionObject &)
  {
    throw;
  }
  catch (const std::exception & e)
  {
    itkGenericExceptionMacro(<< "The classifier two-sample test failed: " << e.what());
  }
  return result;
}

} // end namespace itk
