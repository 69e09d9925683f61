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

#include "itkReportWriter.h"

#include "itkReportFigures.h"

#include "itkAtomicFileWriting.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace itk::report
{
namespace
{
constexpr const char * kStyle = R"(body { font-family: "Helvetica Neue", Arial, sans-serif; max-width: 1100px;
  margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; background: #fff; }
h1, h2, h3 { line-height: 1.25; } h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .95em; }
th, td { border: 1px solid #ccc; padding: 4px 10px; } th { background: #f0f0f0; }
tbody tr:nth-child(even) td { background: #fafafa; }
caption { caption-side: bottom; color: #555; padding-top: .4em; text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .95em; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; }
.left { text-align: left; } .center { text-align: center; } .right { text-align: right; }
)";

const char *
AlignmentClass(Alignment alignment)
{
  return alignment == Alignment::Right ? "right" : alignment == Alignment::Center ? "center" : "left";
}

// A path as a URL in an attribute: escaped, with spaces percent-encoded.
std::string
HtmlPath(const std::string & path)
{
  std::string encoded;
  for (const char c : path)
  {
    encoded += c == ' ' ? std::string("%20") : std::string(1, c);
  }
  return EscapeHtml(encoded);
}

// A path as a Markdown link destination: in angle brackets when it holds spaces or parentheses.
std::string
MarkdownPath(const std::string & path)
{
  if (path.find_first_of(" ()<>") == std::string::npos)
  {
    return path;
  }
  std::string escaped;
  for (const char c : path)
  {
    if (c == '<' || c == '>')
    {
      escaped += '\\';
    }
    escaped += c;
  }
  return "<" + escaped + ">";
}

std::string
FigureLabel(int number)
{
  return "Figure " + std::to_string(number) + ".";
}
} // namespace

std::string
EscapeMarkdown(const std::string & text)
{
  std::string escaped;
  for (const char c : text)
  {
    switch (c)
    {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '#':
      case '|':
      case '!':
      case '~':
        escaped += '\\';
        escaped += c;
        break;
      case '&':
        // "&amp;"-like entities would otherwise be decoded.
        escaped += "&amp;";
        break;
      case '\n':
      case '\r':
        escaped += ' ';
        break;
      default:
        escaped += c;
    }
  }
  // A leading "-", "+" or "1. " would start a list (but "0.12" would not).
  if (!escaped.empty() && (escaped[0] == '-' || escaped[0] == '+'))
  {
    escaped.insert(0, "\\");
  }
  std::size_t digits = 0;
  while (digits < escaped.size() && std::isdigit(static_cast<unsigned char>(escaped[digits])))
  {
    ++digits;
  }
  if (digits > 0 && digits < escaped.size() && (escaped[digits] == '.' || escaped[digits] == ')') &&
      (digits + 1 == escaped.size() || escaped[digits + 1] == ' '))
  {
    escaped.insert(digits, "\\");
  }
  return escaped;
}

std::string
EscapeHtml(const std::string & text)
{
  std::string escaped;
  for (const char c : text)
  {
    switch (c)
    {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&#39;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string
FormatNumber(double value, int decimals)
{
  if (std::isnan(value))
  {
    return "nan";
  }
  if (std::isinf(value))
  {
    return value > 0 ? "inf" : "-inf";
  }
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", std::max(decimals, 0), value);
  return text;
}

void
WriteTextFileAtomically(const std::string & path, const std::string & text)
{
  try
  {
    atomic_file::Write(path, text, "the file");
  }
  catch (const atomic_file::WriteError & e)
  {
    throw ReportError(e.what());
  }
}

ReportDocument::ReportDocument(std::string title)
  : m_Title(std::move(title))
{}

void
ReportDocument::AddHeading(const std::string & text, int level)
{
  if (level < 2 || level > 6)
  {
    throw ReportError("Heading \"" + text + "\" has level " + std::to_string(level) +
                      "; use 2 to 6 (level 1 is the document title)");
  }
  Block block;
  block.kind = Block::Kind::Heading;
  block.level = level;
  block.text = text;
  m_Blocks.push_back(std::move(block));
}

void
ReportDocument::AddParagraph(const std::string & text)
{
  Block block;
  block.kind = Block::Kind::Paragraph;
  block.text = text;
  m_Blocks.push_back(std::move(block));
}

void
ReportDocument::AddBulletList(const std::vector<std::string> & items)
{
  Block block;
  block.kind = Block::Kind::BulletList;
  block.items = items;
  m_Blocks.push_back(std::move(block));
}

void
ReportDocument::AddTable(const std::vector<std::string> & header, const std::vector<std::vector<std::string>> & rows,
                         const std::vector<Alignment> & alignment, const std::string & caption)
{
  if (header.empty())
  {
    throw ReportError("A report table needs a header with at least one column");
  }
  if (!alignment.empty() && alignment.size() != header.size())
  {
    throw ReportError("A report table has " + std::to_string(header.size()) + " columns but " +
                      std::to_string(alignment.size()) + " alignments; give one per column or none");
  }
  Block block;
  block.kind = Block::Kind::Table;
  block.items = header;
  block.text = caption;
  block.alignment = alignment.empty() ? std::vector<Alignment>(header.size(), Alignment::Left) : alignment;
  for (std::size_t r = 0; r < rows.size(); ++r)
  {
    if (rows[r].size() > header.size())
    {
      throw ReportError("Row " + std::to_string(r) + " of a report table has " + std::to_string(rows[r].size()) +
                        " cells for " + std::to_string(header.size()) + " columns");
    }
    auto row = rows[r];
    row.resize(header.size());
    block.rows.push_back(std::move(row));
  }
  m_Blocks.push_back(std::move(block));
}

void
ReportDocument::AddCodeBlock(const std::string & text)
{
  Block block;
  block.kind = Block::Kind::CodeBlock;
  block.text = text;
  m_Blocks.push_back(std::move(block));
}

void
ReportDocument::AddImage(const std::string & relativePath, const std::string & caption, const std::string & altText)
{
  if (relativePath.empty())
  {
    throw ReportError("A report image needs a path (relative to the report's folder)");
  }
  Block block;
  block.kind = Block::Kind::Image;
  block.text = relativePath;
  block.items = { caption, altText.empty() ? caption : altText };
  m_Blocks.push_back(std::move(block));
}

std::string
ReportDocument::ToMarkdown() const
{
  std::ostringstream out;
  out << "# " << EscapeMarkdown(m_Title) << "\n";
  int figure = 0;
  for (const auto & block : m_Blocks)
  {
    out << "\n";
    switch (block.kind)
    {
      case Block::Kind::Heading:
        out << std::string(block.level, '#') << ' ' << EscapeMarkdown(block.text) << "\n";
        break;
      case Block::Kind::Paragraph:
        out << EscapeMarkdown(block.text) << "\n";
        break;
      case Block::Kind::BulletList:
        for (const auto & item : block.items)
        {
          out << "- " << EscapeMarkdown(item) << "\n";
        }
        break;
      case Block::Kind::Table: {
        const auto writeRow = [&out](const std::vector<std::string> & cells) {
          out << "|";
          for (const auto & cell : cells)
          {
            out << ' ' << EscapeMarkdown(cell) << " |";
          }
          out << "\n";
        };
        writeRow(block.items);
        out << "|";
        for (const auto alignment : block.alignment)
        {
          out << (alignment == Alignment::Left ? " :--- |" : alignment == Alignment::Center ? " :---: |" : " ---: |");
        }
        out << "\n";
        for (const auto & row : block.rows)
        {
          writeRow(row);
        }
        if (!block.text.empty())
        {
          out << "\n*" << EscapeMarkdown(block.text) << "*\n";
        }
        break;
      }
      case Block::Kind::CodeBlock: {
        // A fence longer than any backtick run inside.
        std::size_t longest = 0;
        std::size_t run = 0;
        for (const char c : block.text)
        {
          run = c == '`' ? run + 1 : 0;
          longest = std::max(longest, run);
        }
        const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
        out << fence << "\n"
            << block.text << (block.text.empty() || block.text.back() != '\n' ? "\n" : "") << fence << "\n";
        break;
      }
      case Block::Kind::Image:
        ++figure;
        out << "![" << EscapeMarkdown(block.items[1]) << "](" << MarkdownPath(block.text) << ")\n\n**"
            << FigureLabel(figure) << "** " << EscapeMarkdown(block.items[0]) << "\n";
        break;
    }
  }
  return out.str();
}

std::string
ReportDocument::ToHtml() const
{
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << EscapeHtml(m_Title) << "</title>\n<style>\n"
      << kStyle << "</style>\n</head>\n<body>\n<h1>" << EscapeHtml(m_Title) << "</h1>\n";
  int figure = 0;
  for (const auto & block : m_Blocks)
  {
    switch (block.kind)
    {
      case Block::Kind::Heading:
        out << "<h" << block.level << ">" << EscapeHtml(block.text) << "</h" << block.level << ">\n";
        break;
      case Block::Kind::Paragraph:
        out << "<p>" << EscapeHtml(block.text) << "</p>\n";
        break;
      case Block::Kind::BulletList:
        out << "<ul>\n";
        for (const auto & item : block.items)
        {
          out << "<li>" << EscapeHtml(item) << "</li>\n";
        }
        out << "</ul>\n";
        break;
      case Block::Kind::Table:
        out << "<table>\n";
        if (!block.text.empty())
        {
          out << "<caption>" << EscapeHtml(block.text) << "</caption>\n";
        }
        out << "<thead><tr>";
        for (std::size_t c = 0; c < block.items.size(); ++c)
        {
          out << "<th class=\"" << AlignmentClass(block.alignment[c]) << "\">" << EscapeHtml(block.items[c]) << "</th>";
        }
        out << "</tr></thead>\n<tbody>\n";
        for (const auto & row : block.rows)
        {
          out << "<tr>";
          for (std::size_t c = 0; c < row.size(); ++c)
          {
            out << "<td class=\"" << AlignmentClass(block.alignment[c]) << "\">" << EscapeHtml(row[c]) << "</td>";
          }
          out << "</tr>\n";
        }
        out << "</tbody>\n</table>\n";
        break;
      case Block::Kind::CodeBlock:
        out << "<pre><code>" << EscapeHtml(block.text) << "</code></pre>\n";
        break;
      case Block::Kind::Image:
        ++figure;
        out << "<figure>\n<img src=\"" << HtmlPath(block.text) << "\" alt=\"" << EscapeHtml(block.items[1])
            << "\">\n<figcaption><strong>" << FigureLabel(figure) << "</strong> " << EscapeHtml(block.items[0])
            << "</figcaption>\n</figure>\n";
        break;
    }
  }
  out << "</body>\n</html>\n";
  return out.str();
}

void
ReportDocument::Write(const std::string & folder, const std::string & baseName) const
{
  const std::string prefix = (folder.empty() ? std::string(".") : folder) + "/" + baseName;
  WriteTextFileAtomically(prefix + ".md", ToMarkdown());
  WriteTextFileAtomically(prefix + ".html", ToHtml());
}

} // namespace itk::report
