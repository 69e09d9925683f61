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

// AutogradBackward (the module's backward pass on LibTorch's base engine) gives the gradients of
// a closed form, and those of loss.backward() on the default engine, bit for bit.

#include "itkAutogradBackward.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

TEST(AutogradBackward, GivesTheClosedFormGradient)
{
  const auto x = torch::tensor({ 1.0, -2.0, 3.0 }, torch::kFloat64);
  auto       w = torch::tensor({ 0.5, 0.25, -1.0 }, torch::dtype(torch::kFloat64).requires_grad(true));
  const auto s = (w * x).sum();
  itk::AutogradBackward(s * s); // d/dw (w.x)^2 = 2 (w.x) x
  EXPECT_TRUE(torch::equal(w.grad(), 2.0 * s.detach() * x));
}

TEST(AutogradBackward, EqualsBackwardOnTheDefaultEngine)
{
  torch::manual_seed(3);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)),
                            torch::nn::SiLU(),
                            torch::nn::Flatten(),
                            torch::nn::Linear(4 * 8 * 8, 2));
  const auto            input = torch::randn({ 5, 3, 8, 8 });
  const auto            target = torch::randn({ 5, 2 });

  torch::nn::functional::mse_loss(net->forward(input), target).backward();
  std::vector<torch::Tensor> reference;
  for (auto & p : net->parameters())
  {
    reference.push_back(p.grad().clone());
    p.mutable_grad().zero_();
  }
  itk::AutogradBackward(torch::nn::functional::mse_loss(net->forward(input), target));
  const auto parameters = net->parameters();
  ASSERT_EQ(parameters.size(), reference.size());
  for (std::size_t k = 0; k < parameters.size(); ++k)
  {
    EXPECT_TRUE(torch::equal(parameters[k].grad(), reference[k])) << "parameter " << k;
  }
  EXPECT_THROW(itk::AutogradBackward(torch::ones({ 2 }, torch::requires_grad())), c10::Error);
  EXPECT_THROW(itk::AutogradBackward(torch::ones({})), c10::Error);
}
