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
#ifndef itkTorchErrors_h
#define itkTorchErrors_h

#include <stdexcept>
#include <string>

namespace itk
{
namespace torchcore
{

/** Errors of the LibTorch engines (torchcore, diffusion, adaptation, regression, imputation),
 * which know no ITK; the ITK layer rethrows these as itk::ExceptionObject with the same message. */
class TorchError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** A model, checkpoint or safetensors file that is missing, truncated, hostile or inconsistent. */
class ModelFileError : public TorchError
{
public:
  using TorchError::TorchError;
};

/** A configuration (U-Net, scheduler, sampler, trainer) that cannot work. */
class ConfigurationError : public TorchError
{
public:
  using TorchError::TorchError;
};

} // namespace torchcore
} // namespace itk

#endif
