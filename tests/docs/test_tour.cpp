// docs/tour.md names files and symbols; this test keeps it true to the code.
//
// The convention (stated at the top of the tour): a link to a file of the
// repository, [core/tensor.h](../core/tensor.h), followed on the same line by
// names in backticks, `Tensor`, `Storage::data`, `backward()`, says that each
// name appears in that file. A name is an identifier, optionally qualified
// with :: and followed by (); each part must occur in the file as a whole
// word. Other code in backticks (shapes, expressions) is not a name and is not
// checked; nor are code blocks. The check fails with one line per missing
// file or name: rename a file or a function without updating the tour and
// this test says which.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf::test;

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Does `word` occur in `text` with no identifier character on either side?
bool has_word(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const size_t end = at + word.size();
    if ((at == 0 || !is_word_char(text[at - 1])) && (end == text.size() || !is_word_char(text[end]))) return true;
  }
  return false;
}

// The parts of a name in backticks (`a::b`, `f()`) that must be words of the
// file, or nothing when the code is not a name.
std::vector<std::string> name_parts(std::string code) {
  static const std::regex kName(R"(~?[A-Za-z_]\w*(::~?[A-Za-z_]\w*)*(\(\))?)");
  if (!std::regex_match(code, kName)) return {};
  if (code.ends_with("()")) code.resize(code.size() - 2);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t sep = code.find("::", start);
    std::string part = code.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    if (part.starts_with("~")) part.erase(0, 1);
    parts.push_back(part);
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  return parts;
}

// Checks the tour at `tour` (its links are relative to its folder) against the
// files under `root`. Returns one line per problem: "tour.md:LINE: ...".
std::vector<std::string> check_tour(const fs::path& tour, const fs::path& root) {
  static const std::regex kLink(R"(\[[^\]]*\]\(([^)\s]+)\))");
  static const std::regex kCode("`([^`]+)`");
  std::vector<std::string> problems;
  const std::string text = read_text(tour.string());
  REQUIRE_MESSAGE(!text.empty(), tour.string(), " is missing or empty");
  std::istringstream lines(text);
  bool in_code_block = false;
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.starts_with("```")) in_code_block = !in_code_block;
    if (in_code_block) continue;
    const std::string where = tour.filename().string() + ":" + std::to_string(number) + ": ";
    std::vector<std::smatch> links;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), kLink); it != std::sregex_iterator(); ++it)
      links.push_back(*it);
    for (size_t i = 0; i < links.size(); ++i) {
      std::string target = links[i][1].str();
      if (target.starts_with("http") || target.starts_with("#")) continue;
      target = target.substr(0, target.find('#'));
      const fs::path file = (tour.parent_path() / target).lexically_normal();
      const std::string shown = file.lexically_relative(root).generic_string();
      if (!fs::exists(file)) {
        problems.push_back(where + shown + ": no such file");
        continue;
      }
      // The names between this link and the next one on the line.
      const auto from = links[i].suffix().first;
      const auto to = i + 1 < links.size() ? links[i + 1].prefix().second : line.cend();
      if (fs::is_directory(file)) continue;
      const std::string content = read_text(file.string());
      for (auto it = std::sregex_iterator(from, to, kCode); it != std::sregex_iterator(); ++it)
        for (const std::string& part : name_parts((*it)[1].str()))
          if (!has_word(content, part))
            problems.push_back(where + "`" + (*it)[1].str() + "` not found in " + shown);
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

const fs::path kRoot = PF_SOURCE_DIR;

}  // namespace

TEST_CASE("tour: every file and name that docs/tour.md points to exists") {
  const std::vector<std::string> problems = check_tour(kRoot / "docs/tour.md", kRoot);
  INFO(joined(problems));
  CHECK(problems.empty());
  // The tour does point at code: a stop per layer, the names in it checked.
  const std::string tour = read_text((kRoot / "docs/tour.md").string());
  CHECK(std::count(tour.begin(), tour.end(), '`') > 100);
}

// Renaming, seen from the tour: the tour names a file or a function that the
// code does not have, as after a rename in the code alone.
TEST_CASE("tour: the check names a renamed file or function") {
  TempDir tmp("pf_test_tour");
  const std::string tour = read_text((kRoot / "docs/tour.md").string());
  auto problems_after = [&](const std::string& from, const std::string& to) {
    std::string doctored = tour;
    REQUIRE_MESSAGE(contains(doctored, from), "the tour no longer contains ", from);
    for (size_t at = doctored.find(from); at != std::string::npos; at = doctored.find(from, at + to.size()))
      doctored.replace(at, from.size(), to);
    fs::create_directories(tmp.path / "docs");
    write_text(tmp.file("docs/tour.md"), doctored);
    // Links are resolved from the copy's folder: point them at the repository.
    return joined(check_tour(tmp.path / "docs/tour.md", tmp.path));
  };
  // The copy sits in tmp/docs, so ../core/... resolves under tmp: mirror the
  // two files the cases below need.
  for (const char* file : {"autograd/engine.cpp", "autograd/node.h"}) {
    fs::create_directories((tmp.path / file).parent_path());
    fs::copy_file(kRoot / file, tmp.path / file);
  }
  const std::string renamed_file = problems_after("(../autograd/engine.cpp)", "(../autograd/graph.cpp)");
  CHECK(contains(renamed_file, "autograd/graph.cpp: no such file"));
  const std::string renamed_function = problems_after("`record`", "`record_node`");
  CHECK(contains(renamed_function, "`record_node` not found in autograd/node.h"));
}

// Renaming in the code: a small tree whose header renames the function the
// tour names.
TEST_CASE("tour: the check fails when the code renames what the tour names") {
  TempDir tmp("pf_test_tour");
  fs::create_directories(tmp.path / "docs");
  fs::create_directories(tmp.path / "lib");
  write_text(tmp.file("docs/tour.md"),
             "Intro, `not_checked` (no link before it).\n"
             "See [lib/a.h](../lib/a.h): `Engine::run()`, `helper`, shapes `[B, T]` are not names.\n"
             "```\n[lib/gone.h](../lib/gone.h) `in_a_code_block`\n```\n");
  write_text(tmp.file("lib/a.h"), "struct Engine { void run(); };\nint helper();\n");
  CHECK(check_tour(tmp.path / "docs/tour.md", tmp.path).empty());

  write_text(tmp.file("lib/a.h"), "struct Engine { void execute(); };\nint helpers();\n");
  const std::string problems = joined(check_tour(tmp.path / "docs/tour.md", tmp.path));
  CHECK(contains(problems, "tour.md:2: `Engine::run()` not found in lib/a.h"));
  CHECK(contains(problems, "tour.md:2: `helper` not found in lib/a.h"));

  fs::rename(tmp.file("lib/a.h"), tmp.file("lib/b.h"));
  CHECK(joined(check_tour(tmp.path / "docs/tour.md", tmp.path)) == "tour.md:2: lib/a.h: no such file\n");
}
