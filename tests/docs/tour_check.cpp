// The tour's two checks (tour_check.h): names after links, and excerpts in
// fenced blocks.
#include "docs/tour_check.h"

#include <cctype>
#include <optional>
#include <regex>
#include <sstream>

#include "test_util.h"

namespace pf::test {

namespace {

struct Line {
  int number;  // in the tour, from 1
  std::string text;
};

std::vector<Line> lines_of(const std::string& text) {
  std::vector<Line> lines;
  std::istringstream in(text);
  int number = 0;
  for (std::string line; std::getline(in, line);) lines.push_back({++number, line});
  return lines;
}

bool is_fence(const std::string& line) { return line.starts_with("```"); }

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

// The references of one line outside code blocks: each linked file exists and
// holds the names that follow its link.
void check_line_references(const std::string& line, const std::string& where, const fs::path& folder,
                           const fs::path& root, std::vector<std::string>& problems) {
  static const std::regex kLink(R"(\[[^\]]*\]\(([^)\s]+)\))");
  static const std::regex kCode("`([^`]+)`");
  std::vector<std::smatch> links;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), kLink); it != std::sregex_iterator(); ++it)
    links.push_back(*it);
  for (size_t i = 0; i < links.size(); ++i) {
    std::string target = links[i][1].str();
    if (target.starts_with("http") || target.starts_with("#")) continue;
    target = target.substr(0, target.find('#'));
    const fs::path file = (folder / target).lexically_normal();
    const std::string shown = file.lexically_relative(root).generic_string();
    if (!fs::exists(file)) {
      problems.push_back(where + shown + ": no such file");
      continue;
    }
    if (fs::is_directory(file)) continue;
    // The names between this link and the next one on the line.
    const auto from = links[i].suffix().first;
    const auto to = i + 1 < links.size() ? links[i + 1].prefix().second : line.cend();
    const std::string content = read_text(file.string());
    for (auto it = std::sregex_iterator(from, to, kCode); it != std::sregex_iterator(); ++it)
      for (const std::string& part : name_parts((*it)[1].str()))
        if (!has_word(content, part)) problems.push_back(where + "`" + (*it)[1].str() + "` not found in " + shown);
  }
}

std::string without_whitespace(const std::string& text) {
  std::string out;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// One fenced block: `fence` is the opening ``` line, `body` the lines inside.
struct Block {
  Line fence;
  std::vector<Line> body;
};

// The excerpt in `block` against the file its first line names. Problems go
// to `problems`, prefixed with the tour's name and line.
void check_excerpt(const Block& block, const std::string& name, const fs::path& root,
                   std::vector<std::string>& problems) {
  auto at = [&](const Line& line) { return name + ":" + std::to_string(line.number) + ": "; };
  static const std::regex kFileName(R"(\s*//\s*(\S+)\s*)");
  std::smatch named;
  if (block.body.empty() || !std::regex_match(block.body[0].text, named, kFileName)) {
    problems.push_back(at(block.fence) + "code block names no file (its first line: // path/from/the/root)");
    return;
  }
  const std::string shown = named[1].str();
  const fs::path file = root / shown;
  if (!fs::is_regular_file(file)) {
    problems.push_back(at(block.body[0]) + shown + ": no such file");
    return;
  }
  const std::string content = without_whitespace(read_text(file.string()));
  // The pieces between `// ...` lines, each found after the one before it.
  std::vector<std::vector<Line>> pieces(1);
  for (size_t i = 1; i < block.body.size(); ++i) {
    if (trimmed(block.body[i].text) == "// ...")
      pieces.emplace_back();
    else
      pieces.back().push_back(block.body[i]);
  }
  size_t from = 0;
  bool empty = true;
  for (const std::vector<Line>& piece : pieces) {
    std::string code;
    for (const Line& line : piece) code += without_whitespace(line.text);
    if (code.empty()) continue;
    empty = false;
    const size_t found = content.find(code, from);
    if (found != std::string::npos) {
      from = found + code.size();
      continue;
    }
    // Name the first line at which the piece stops matching the file.
    std::string prefix;
    for (const Line& line : piece) {
      prefix += without_whitespace(line.text);
      if (content.find(prefix, from) == std::string::npos) {
        problems.push_back(at(line) + "excerpt differs from " + shown + " here: " + trimmed(line.text));
        return;
      }
    }
  }
  if (empty) problems.push_back(at(block.fence) + "the excerpt of " + shown + " is empty");
}

}  // namespace

std::vector<std::string> check_excerpts(const std::string& text, const std::string& name, const fs::path& root) {
  std::vector<std::string> problems;
  std::optional<Block> open;
  for (const Line& line : lines_of(text)) {
    if (!is_fence(line.text)) {
      if (open) open->body.push_back(line);
      continue;
    }
    if (open) {
      check_excerpt(*open, name, root, problems);
      open.reset();
    } else {
      open = Block{line, {}};
    }
  }
  if (open) problems.push_back(name + ":" + std::to_string(open->fence.number) + ": code block never closed");
  return problems;
}

std::vector<std::string> check_tour(const fs::path& tour, const fs::path& root) {
  const std::string text = read_text(tour.string());
  REQUIRE_MESSAGE(!text.empty(), tour.string(), " is missing or empty");
  const std::string name = tour.filename().string();
  std::vector<std::string> problems;
  bool in_code_block = false;
  for (const Line& line : lines_of(text)) {
    if (is_fence(line.text)) in_code_block = !in_code_block;
    if (in_code_block) continue;
    check_line_references(line.text, name + ":" + std::to_string(line.number) + ": ", tour.parent_path(), root,
                          problems);
  }
  for (std::string& problem : check_excerpts(text, name, root)) problems.push_back(std::move(problem));
  return problems;
}

}  // namespace pf::test
