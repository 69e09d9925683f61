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
#include "itkTextTable.h"
#include "itkReadableFile.h"

#include "itkMacro.h"

#include <zlib.h>

#include <cerrno>
#include <cstdlib>

namespace itk
{
namespace text
{

struct LineReader::Impl
{
  gzFile      file{ nullptr };
  std::string path;
};

LineReader::LineReader(const std::string & path)
  : m_Impl(std::make_unique<Impl>())
{
  m_Impl->path = path;
  const std::string problem = ReadableFileProblem(path);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot open " << path << ": " << problem);
  }
  // gzopen reads plain files unchanged, so one code path serves both.
  m_Impl->file = gzopen(path.c_str(), "rb");
  if (m_Impl->file == nullptr)
  {
    itkGenericExceptionMacro(<< "Cannot open " << path << ": no such file, or not readable");
  }
  gzbuffer(m_Impl->file, 1 << 17);
}

LineReader::~LineReader()
{
  if (m_Impl->file != nullptr)
  {
    gzclose(m_Impl->file);
  }
}

bool
LineReader::Next(std::string & line)
{
  line.clear();
  char buffer[1 << 16];
  bool readSomething = false;
  while (gzgets(m_Impl->file, buffer, sizeof(buffer)) != nullptr)
  {
    readSomething = true;
    line += buffer;
    if (!line.empty() && line.back() == '\n')
    {
      break;
    }
  }
  int error = Z_OK;
  gzerror(m_Impl->file, &error);
  if (error != Z_OK && error != Z_STREAM_END)
  {
    itkGenericExceptionMacro(<< "Cannot read " << m_Impl->path << " past line " << m_LineNumber
                             << ": the file is damaged or truncated");
  }
  if (!readSomething)
  {
    return false;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
  {
    line.pop_back();
  }
  ++m_LineNumber;
  return true;
}

char
DetectDelimiter(const std::string & line)
{
  return line.find('\t') != std::string::npos ? '\t' : ',';
}

std::vector<std::string>
SplitFields(const std::string & line, char delimiter)
{
  std::vector<std::string> fields;
  std::size_t              start = 0;
  while (true)
  {
    const std::size_t end = line.find(delimiter, start);
    std::string       field = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
    {
      field = field.substr(1, field.size() - 2);
    }
    fields.push_back(std::move(field));
    if (end == std::string::npos)
    {
      return fields;
    }
    start = end + 1;
  }
}

double
ParseNumber(const std::string & text, const std::string & path, std::size_t line)
{
  const char * begin = text.c_str();
  char *       end = nullptr;
  errno = 0;
  const double value = std::strtod(begin, &end);
  if (end == begin || *end != '\0' || errno == ERANGE)
  {
    itkGenericExceptionMacro(<< path << " line " << line << ": \"" << text << "\" is not a number");
  }
  return value;
}

} // end namespace text
} // end namespace itk
