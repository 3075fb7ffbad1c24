// docs/tour.md names files and symbols and quotes code; these tests keep it
// true to the code. The checker and its conventions: tests/docs/tour_check.h.
// Each check fails with one line per problem: rename a file or a function, or
// change code the tour quotes, without updating the tour and the test says
// where.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "docs/tour_check.h"
#include "test_util.h"

using namespace pf::test;

namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// The tour's line number (from 1) of the first line holding `part`.
int line_of(const std::string& text, const std::string& part) {
  const size_t at = text.find(part);
  REQUIRE(at != std::string::npos);
  return 1 + int(std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n'));
}

const fs::path kRoot = PF_SOURCE_DIR;

}  // namespace

TEST_CASE("tour: every file, name and excerpt in docs/tour.md matches the code") {
  const std::vector<std::string> problems = check_tour(kRoot / "docs/tour.md", kRoot);
  INFO(joined(problems));
  CHECK(problems.empty());
  // The tour does point at code and quote it: names on every stop, an excerpt on most.
  const std::string tour = read_text((kRoot / "docs/tour.md").string());
  CHECK(std::count(tour.begin(), tour.end(), '`') > 100);
  int fences = 0;
  for (size_t at = tour.find("\n```"); at != std::string::npos; at = tour.find("\n```", at + 1)) ++fences;
  CHECK(fences / 2 >= 10);
}

// An excerpt edited in the tour alone (or code changed under it): the real
// tour, with one quoted line doctored, fails on that line.
TEST_CASE("tour: the check names a doctored excerpt of the real tour") {
  const std::string tour = read_text((kRoot / "docs/tour.md").string());
  const std::string quoted = "Shape strides;       // in elements";
  const std::string doctored_line = "Shape strides;       // in bytes";
  REQUIRE_MESSAGE(contains(tour, quoted), "the tour no longer quotes ", quoted);
  std::string doctored = tour;
  doctored.replace(doctored.find(quoted), quoted.size(), doctored_line);
  CHECK(check_excerpts(tour, "tour.md", kRoot).empty());
  CHECK(joined(check_excerpts(doctored, "tour.md", kRoot)) ==
        "tour.md:" + std::to_string(line_of(doctored, doctored_line)) +
            ": excerpt differs from core/tensor.h here: " + doctored_line + "\n");
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
             "```cpp\n// lib/b.h\n// [lib/gone.h](../lib/gone.h) `in_a_code_block` is quoted, not a reference\n```\n");
  write_text(tmp.file("lib/a.h"), "struct Engine { void run(); };\nint helper();\n");
  write_text(tmp.file("lib/b.h"), "// [lib/gone.h](../lib/gone.h) `in_a_code_block` is quoted, not a reference\n");
  CHECK(joined(check_tour(tmp.path / "docs/tour.md", tmp.path)) == "");

  write_text(tmp.file("lib/a.h"), "struct Engine { void execute(); };\nint helpers();\n");
  const std::string problems = joined(check_tour(tmp.path / "docs/tour.md", tmp.path));
  CHECK(contains(problems, "tour.md:2: `Engine::run()` not found in lib/a.h"));
  CHECK(contains(problems, "tour.md:2: `helper` not found in lib/a.h"));

  fs::rename(tmp.file("lib/a.h"), tmp.file("lib/c.h"));
  CHECK(joined(check_tour(tmp.path / "docs/tour.md", tmp.path)) == "tour.md:2: lib/a.h: no such file\n");
}

// Excerpts on a small tree: whitespace and `// ...` gaps are allowed; an
// edited line, pieces out of order, an unnamed block, a missing file and an
// unclosed block are not.
TEST_CASE("tour: an excerpt must appear in the file it names, whitespace aside") {
  TempDir tmp("pf_test_tour");
  fs::create_directories(tmp.path / "lib");
  write_text(tmp.file("lib/k.cpp"),
             "int twice(int x) {\n  return 2 * x;\n}\n\nint thrice(int x) {\n  return 3 * x;\n}\n");
  const std::string good =
      "Reflowed:\n"
      "```cpp\n// lib/k.cpp\nint twice(int x) { return 2 * x; }\n```\n"
      "With a gap:\n"
      "```cpp\n  //   lib/k.cpp\nint twice(int x) {\n  // ...\nint thrice(int x) {\n    return   3 * x;\n```\n";
  CHECK(joined(check_excerpts(good, "tour.md", tmp.path)) == "");

  const std::string bad =
      "```cpp\n// lib/k.cpp\nint twice(int x) {\n  return 4 * x;\n}\n```\n"   // lines 1-6: line 4 edited
      "```cpp\n// lib/k.cpp\nint thrice(int x) {\n// ...\nint twice(int x) {\n```\n"  // 7-12: out of order
      "```cpp\nint twice(int x) {\n```\n"                                        // 13-15: names no file
      "```cpp\n// lib/gone.cpp\nint twice(int x) {\n```\n"                       // 16-19: no such file
      "```cpp\n// lib/k.cpp\n```\n"                                              // 20-22: empty
      "```cpp\n// lib/k.cpp\nint twice(int x) {\n";                              // 23-: never closed
  CHECK(joined(check_excerpts(bad, "tour.md", tmp.path)) ==
        "tour.md:4: excerpt differs from lib/k.cpp here: return 4 * x;\n"
        "tour.md:11: excerpt differs from lib/k.cpp here: int twice(int x) {\n"
        "tour.md:13: code block names no file (its first line: // path/from/the/root)\n"
        "tour.md:17: lib/gone.cpp: no such file\n"
        "tour.md:20: the excerpt of lib/k.cpp is empty\n"
        "tour.md:23: code block never closed\n");
}
