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

// The Markdown/HTML report writer: literal text, tables with alignment, numbered figures, atomic
// writes of both files.

#include "itkReportFigures.h"
#include "itkReportWriter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace
{
using itk::report::Alignment;
using itk::report::ReportDocument;

std::string
ReadFile(const std::string & path)
{
  std::ifstream      stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

std::string
FreshFolder(const std::string & name)
{
  const std::string folder = std::string(REPORT_TEST_OUTPUT) + "/" + name;
  mkdir(folder.c_str(), 0755);
  return folder;
}

std::vector<std::string>
FilesIn(const std::string & folder)
{
  std::vector<std::string> names;
  if (DIR * directory = opendir(folder.c_str()))
  {
    while (const dirent * entry = readdir(directory))
    {
      const std::string name = entry->d_name;
      if (name != "." && name != "..")
      {
        names.push_back(name);
      }
    }
    closedir(directory);
  }
  return names;
}
} // namespace

TEST(ReportWriter, EscapesHtmlSpecialCharacters)
{
  EXPECT_EQ(itk::report::EscapeHtml("a<b> & \"c\" 'd'"), "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;");
  EXPECT_EQ(itk::report::EscapeHtml("plain text"), "plain text");
}

TEST(ReportWriter, EscapesMarkdownMarkupSoThatTextStaysLiteral)
{
  EXPECT_EQ(itk::report::EscapeMarkdown("*bold* _it_ `code` [link](x) a|b <tag> #1"),
            "\\*bold\\* \\_it\\_ \\`code\\` \\[link\\](x) a\\|b \\<tag\\> \\#1");
  EXPECT_EQ(itk::report::EscapeMarkdown("a\\b & c"), "a\\\\b &amp; c");
  // List markers at the start of a line.
  EXPECT_EQ(itk::report::EscapeMarkdown("- not a list"), "\\- not a list");
  EXPECT_EQ(itk::report::EscapeMarkdown("12. not a list"), "12\\. not a list");
  EXPECT_EQ(itk::report::EscapeMarkdown("0.125"), "0.125");
  EXPECT_EQ(itk::report::EscapeMarkdown("line\nbreak"), "line break");
}

TEST(ReportWriter, MarkdownHasTitleHeadingsParagraphsAndLists)
{
  ReportDocument document("Co-training <report>");
  document.AddHeading("Setup", 2);
  document.AddParagraph("MAE < 0.5 & r > 0.3");
  document.AddBulletList({ "first", "second_item" });
  document.AddCodeBlock("c2l evaluate --in a.h5ad");
  const std::string markdown = document.ToMarkdown();
  EXPECT_EQ(markdown.rfind("# Co-training \\<report\\>\n", 0), 0u) << markdown;
  EXPECT_NE(markdown.find("\n## Setup\n"), std::string::npos);
  EXPECT_NE(markdown.find("\nMAE \\< 0.5 &amp; r \\> 0.3\n"), std::string::npos);
  EXPECT_NE(markdown.find("\n- first\n- second\\_item\n"), std::string::npos);
  // Code is verbatim inside a fence.
  EXPECT_NE(markdown.find("\n```\nc2l evaluate --in a.h5ad\n```\n"), std::string::npos);
}

TEST(ReportWriter, MarkdownTableHasAlignmentRowAndPaddedEscapedCells)
{
  ReportDocument document("Tables");
  document.AddTable({ "gene", "MAE", "note" },
                    { { "ERBB2", "0.120", "a|b" }, { "GRB7" } },
                    { Alignment::Left, Alignment::Right, Alignment::Center },
                    "Errors per gene");
  const std::string markdown = document.ToMarkdown();
  EXPECT_NE(
    markdown.find("| gene | MAE | note |\n| :--- | ---: | :---: |\n| ERBB2 | 0.120 | a\\|b |\n| GRB7 |  |  |\n"),
    std::string::npos)
    << markdown;
  EXPECT_NE(markdown.find("*Errors per gene*"), std::string::npos);
}

TEST(ReportWriter, HtmlTableHasAlignedEscapedCells)
{
  ReportDocument document("Tables");
  document.AddTable({ "gene", "MAE" }, { { "<ERBB2>", "0.1" } }, { Alignment::Left, Alignment::Right });
  const std::string html = document.ToHtml();
  EXPECT_NE(html.find("<thead><tr><th class=\"left\">gene</th><th class=\"right\">MAE</th></tr></thead>"),
            std::string::npos)
    << html;
  EXPECT_NE(html.find("<tr><td class=\"left\">&lt;ERBB2&gt;</td><td class=\"right\">0.1</td></tr>"), std::string::npos);
  EXPECT_EQ(html.find("<ERBB2>"), std::string::npos);
}

TEST(ReportWriter, ImagesAreNumberedFiguresWithRelativePaths)
{
  ReportDocument document("Figures");
  document.AddImage("figures/spatial map.png", "Truth & prediction");
  document.AddImage("figures/mae.png", "Gene-wise MAE", "scatter of MAE");
  const std::string markdown = document.ToMarkdown();
  EXPECT_NE(
    markdown.find("![Truth &amp; prediction](<figures/spatial map.png>)\n\n**Figure 1.** Truth &amp; prediction"),
    std::string::npos)
    << markdown;
  EXPECT_NE(markdown.find("![scatter of MAE](figures/mae.png)\n\n**Figure 2.** Gene-wise MAE"), std::string::npos);
  const std::string html = document.ToHtml();
  EXPECT_NE(html.find("<img src=\"figures/spatial%20map.png\" alt=\"Truth &amp; prediction\">"), std::string::npos)
    << html;
  EXPECT_NE(html.find("<figcaption><strong>Figure 2.</strong> Gene-wise MAE</figcaption>"), std::string::npos);
}

TEST(ReportWriter, HtmlIsACompleteStyledDocument)
{
  ReportDocument document("A & B");
  document.AddParagraph("text");
  const std::string html = document.ToHtml();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("<title>A &amp; B</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1>A &amp; B</h1>"), std::string::npos);
  EXPECT_NE(html.find("<p>text</p>"), std::string::npos);
  EXPECT_NE(html.find("</body>\n</html>\n"), std::string::npos);
}

TEST(ReportWriter, WritesBothFilesAtomicallyReplacingOldOnes)
{
  const std::string folder = FreshFolder("writer-atomic");
  {
    std::ofstream old(folder + "/report.md");
    old << "old report";
  }
  ReportDocument document("New");
  document.AddParagraph("fresh");
  document.Write(folder);
  EXPECT_EQ(ReadFile(folder + "/report.md"), document.ToMarkdown());
  EXPECT_EQ(ReadFile(folder + "/report.html"), document.ToHtml());
  // No temporary file stays behind.
  for (const auto & name : FilesIn(folder))
  {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
}

TEST(ReportWriter, UnwritableFolderThrowsAndLeavesNoPartialFile)
{
  ReportDocument document("X");
  EXPECT_THROW(document.Write(std::string(REPORT_TEST_OUTPUT) + "/no-such-folder/deeper"), itk::report::ReportError);
  EXPECT_THROW(itk::report::WriteTextFileAtomically(std::string(REPORT_TEST_OUTPUT) + "/no-such-folder/a.md", "x"),
               itk::report::ReportError);
}

TEST(ReportWriter, RejectsMalformedContent)
{
  ReportDocument document("X");
  EXPECT_THROW(document.AddHeading("title again", 1), itk::report::ReportError);
  EXPECT_THROW(document.AddHeading("too deep", 7), itk::report::ReportError);
  EXPECT_THROW(document.AddTable({}, {}), itk::report::ReportError);
  EXPECT_THROW(document.AddTable({ "a" }, { { "1", "2" } }), itk::report::ReportError);
  EXPECT_THROW(document.AddTable({ "a", "b" }, {}, { Alignment::Left }), itk::report::ReportError);
  EXPECT_THROW(document.AddImage("", "caption"), itk::report::ReportError);
}

TEST(ReportWriter, FormatsNumbersForTables)
{
  EXPECT_EQ(itk::report::FormatNumber(0.123456, 3), "0.123");
  EXPECT_EQ(itk::report::FormatNumber(-2.0, 1), "-2.0");
  EXPECT_EQ(itk::report::FormatNumber(std::nan(""), 2), "nan");
  EXPECT_EQ(itk::report::FormatNumber(-HUGE_VAL, 2), "-inf");
}
