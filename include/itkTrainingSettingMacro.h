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
#ifndef itkTrainingSettingMacro_h
#define itkTrainingSettingMacro_h

/** Set/Get of one field of a training filter's settings (m_TrainingSettings: PretrainingSettings,
 * AdaptationSettings or RegressorTrainingSettings), as itkSetMacro and itkGetConstMacro do for a
 * member of the filter's own: Set calls Modified() only when the value changes. The filter keeps
 * one struct, the type its trainer, MethodStepRunner and the pipeline share, and still offers one
 * Set/Get per setting.
 * \ingroup SpatialTranscriptomics */
#define itkTrainingSettingMacro(name, type)                                                                            \
  virtual void Set##name(const type & _arg)                                                                            \
  {                                                                                                                    \
    if (this->m_TrainingSettings.name != _arg)                                                                         \
    {                                                                                                                  \
      this->m_TrainingSettings.name = _arg;                                                                            \
      this->Modified();                                                                                                \
    }                                                                                                                  \
  }                                                                                                                    \
  virtual type Get##name() const                                                                                       \
  {                                                                                                                    \
    return this->m_TrainingSettings.name;                                                                              \
  }

#endif
