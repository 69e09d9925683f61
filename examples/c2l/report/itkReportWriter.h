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
#ifndef itkReportWriter_h
#define itkReportWriter_h

// The evaluation report as one document written twice: report.md (Markdown, for reading in a
// repository) and report.html (self-contained but for its images, for a browser).

#include <string>
#include <vector>

namespace itk::report
{

/** Horizontal alignment of a table column. */
enum class Alignment
{
  Left,
  Center,
  Right
};

/** \class ReportDocument
 * \brief A report of headings, paragraphs, lists, tables, code blocks and figures, rendered as
 * Markdown and as HTML. All text is literal: Markdown and HTML special characters are escaped.
 * Images are referenced by paths relative to the folder the report is written to.
 */
class ReportDocument
{
public:
  explicit ReportDocument(std::string title);

  /** A section heading; level 2 to 6 (the document title is the only level 1). */
  void
  AddHeading(const std::string & text, int level = 2);

  void
  AddParagraph(const std::string & text);

  void
  AddBulletList(const std::vector<std::string> & items);

  /** A table. Rows shorter than the header are padded with empty cells; longer ones are an error.
   * alignment is empty (all left) or one entry per column. */
  void
  AddTable(const std::vector<std::string> & header, const std::vector<std::vector<std::string>> & rows,
           const std::vector<Alignment> & alignment = {}, const std::string & caption = {});

  /** Preformatted text, e.g. the command line that produced the report. */
  void
  AddCodeBlock(const std::string & text);

  /** A figure, numbered in order of addition: the image at relativePath and its caption. */
  void
  AddImage(const std::string & relativePath, const std::string & caption, const std::string & altText = {});

  std::string
  ToMarkdown() const;

  std::string
  ToHtml() const;

  /** Writes folder/<baseName>.md and folder/<baseName>.html, each atomically (temporary file and
   * rename); throws itk::report::ReportError when the folder is not writable. */
  void
  Write(const std::string & folder, const std::string & baseName = "report") const;

private:
  struct Block
  {
    enum class Kind
    {
      Heading,
      Paragraph,
      BulletList,
      Table,
      CodeBlock,
      Image
    };
    Kind                                  kind = Kind::Paragraph;
    int                                   level = 0;
    std::string                           text;
    std::vector<std::string>              items;
    std::vector<std::vector<std::string>> rows;
    std::vector<Alignment>                alignment;
  };

  std::string        m_Title;
  std::vector<Block> m_Blocks;
};

/** Text as literal Markdown inline content: backslash before the characters Markdown would read
 * as markup, line breaks as spaces. */
std::string
EscapeMarkdown(const std::string & text);

/** Text as HTML content or attribute value: & < > " ' as character references. */
std::string
EscapeHtml(const std::string & text);

/** A number with a fixed count of decimals, "nan"/"inf" spelled out; for table cells. */
std::string
FormatNumber(double value, int decimals = 3);

/** Writes text to path through a temporary file in the same folder and a rename, so that readers
 * never see a partial file. Throws itk::report::ReportError on failure. */
void
WriteTextFileAtomically(const std::string & path, const std::string & text);

} // namespace itk::report

#endif
