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
#include "itkAutogradBackward.h"

#include <torch/csrc/autograd/engine.h>

namespace itk
{

void
AutogradBackward(const torch::Tensor & loss)
{
  // What torch::autograd::backward does for one scalar output, on the base engine.
  TORCH_CHECK(loss.numel() == 1, "AutogradBackward takes a scalar loss");
  auto root = torch::autograd::impl::gradient_edge(loss);
  TORCH_CHECK(root.function, "AutogradBackward: the loss does not require grad");
  torch::autograd::Engine::get_base_engine().execute(
    { root }, { torch::ones_like(loss, at::MemoryFormat::Preserve) }, false, false, true);
}

} // end namespace itk
