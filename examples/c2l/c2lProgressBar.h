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
#ifndef c2lProgressBar_h
#define c2lProgressBar_h

#include "itkCommand.h"
#include "itkProcessObject.h"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace c2l
{

/** Draws a filter's ProgressEvent as a bar on standard error, when standard error is a terminal. */
class ProgressBar : public itk::Command
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ProgressBar);
  using Self = ProgressBar;
  using Pointer = itk::SmartPointer<Self>;
  itkNewMacro(Self);

  /** Observe \p filter, labelling the bar with \p label (empty: the filter's ObjectName, which a
   * MethodStepRunner sets to the step it runs). */
  void
  Watch(itk::ProcessObject * filter, const std::string & label)
  {
    m_Label = label;
    m_LastPercent = -1;
    if (m_Enabled)
    {
      filter->AddObserver(itk::ProgressEvent(), this);
      filter->AddObserver(itk::EndEvent(), this);
    }
  }

  void
  Execute(itk::Object * caller, const itk::EventObject & event) override
  {
    Execute(static_cast<const itk::Object *>(caller), event);
  }

  void
  Execute(const itk::Object * caller, const itk::EventObject & event) override
  {
    const auto * filter = dynamic_cast<const itk::ProcessObject *>(caller);
    if (filter == nullptr)
    {
      return;
    }
    const std::string label = m_Label.empty() ? filter->GetObjectName() : m_Label;
    if (label != m_Shown)
    {
      m_Shown = label;
      m_LastPercent = -1;
    }
    const bool done = itk::EndEvent().CheckEvent(&event);
    const int  percent = done ? 100 : static_cast<int>(100.0f * filter->GetProgress());
    if (percent == m_LastPercent)
    {
      return;
    }
    m_LastPercent = percent;
    const int width = 30;
    const int filled = percent * width / 100;
    std::fprintf(stderr,
                 "\r%-12s [%s%s] %3d%%%s",
                 label.c_str(),
                 std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(),
                 percent,
                 done ? "\n" : "");
    std::fflush(stderr);
  }

protected:
  ProgressBar() = default;

private:
  std::string m_Label;
  std::string m_Shown;
  int         m_LastPercent{ -1 };
  bool        m_Enabled{ isatty(fileno(stderr)) != 0 };
};

} // namespace c2l

#endif
