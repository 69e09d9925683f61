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
#ifndef itkTextTable_h
#define itkTextTable_h

// Private to the library: line-by-line reading of plain or gzip-compressed text tables (10x
// features.tsv.gz, matrix.mtx.gz, spot and count tables), and field splitting.

#include <memory>
#include <string>
#include <vector>

namespace itk
{
namespace text
{

/** Reads lines of a text file, decompressing gzip transparently (detected by its magic bytes). */
class LineReader
{
public:
  /** Throws itk::ExceptionObject naming \p path if it cannot be opened. */
  explicit LineReader(const std::string & path);
  ~LineReader();
  LineReader(const LineReader &) = delete;
  LineReader &
  operator=(const LineReader &) = delete;

  /** The next line without its line ending; false at the end of the file. */
  bool
  Next(std::string & line);
  /** 1-based number of the last line read, for messages. */
  std::size_t
  LineNumber() const
  {
    return m_LineNumber;
  }

private:
  struct Impl;
  std::unique_ptr<Impl> m_Impl;
  std::size_t           m_LineNumber{ 0 };
};

/** Tab if the line holds one, else comma. */
char
DetectDelimiter(const std::string & line);

/** Fields of a delimited line; double quotes around a field are removed. */
std::vector<std::string>
SplitFields(const std::string & line, char delimiter);

/** A number, or an itk::ExceptionObject naming the file, line and text. */
double
ParseNumber(const std::string & text, const std::string & path, std::size_t line);

} // end namespace text
} // end namespace itk

#endif
