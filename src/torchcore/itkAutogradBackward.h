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
#ifndef itkAutogradBackward_h
#define itkAutogradBackward_h

#include <torch/torch.h>

namespace itk
{

/** \brief loss.backward() on LibTorch's own autograd engine, whatever else is loaded.
 *
 * Once PyTorch's Python bindings are loaded in the process (a Python session that imports torch,
 * as ITK's Python package does when it is installed), they install their engine as the default
 * one, and that engine refuses to run while the calling thread holds Python's GIL, which it does
 * inside any wrapped ITK call. The module's graphs hold no Python hooks, so they run on the base
 * engine, which is the default one everywhere else: the gradients are the same (a test checks it).
 * \p loss must be a scalar that requires grad. */
void
AutogradBackward(const torch::Tensor & loss);

} // end namespace itk

#endif
