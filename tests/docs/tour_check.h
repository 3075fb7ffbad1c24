// The checker that keeps docs/tour.md true to the code (tests/docs/test_tour.cpp
// runs it on the real tour and on doctored copies).
//
// References. A link to a file of the repository, [core/tensor.h](../core/tensor.h),
// followed on the same line by names in backticks, `Tensor`, `Storage::data`,
// `backward()`, says that each name appears in that file. A name is an
// identifier, optionally qualified with :: and followed by (); each part must
// occur in the file as a whole word. Other code in backticks (shapes,
// expressions) is not a name and is not checked.
//
// Excerpts. Every fenced code block is an excerpt of one file, named by the
// block's first line, a comment holding the path from the repository root:
//
//   ```cpp
//   // core/ops.cpp
//   Tensor unary(UnaryOp op, const Tensor& x) {
//   ...
//   ```
//
// The rest of the block must appear in that file, whitespace aside (all of it
// removed before comparing, so indentation and line breaks may differ). A line
// that is only `// ...` leaves lines out: the pieces around it must appear in
// the file in that order.
//
// Each problem is one line, "tour.md:LINE: what", LINE the tour's line, so a
// rename in the code or an edit of an excerpt points at what to fix.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace pf::test {

// Both checks of the tour at `tour` (its links are relative to its folder)
// against the files under `root`.
std::vector<std::string> check_tour(const std::filesystem::path& tour, const std::filesystem::path& root);

// The excerpt check alone, on the text of a tour called `name` in the messages.
std::vector<std::string> check_excerpts(const std::string& text, const std::string& name,
                                        const std::filesystem::path& root);

}  // namespace pf::test
