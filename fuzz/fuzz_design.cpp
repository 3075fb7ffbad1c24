// Fuzz target: pf-design's inputs (proformer/design/constraints.h, starts.h).
// The input is four parts cut at NUL bytes:
//   1. the --avoid motif list (parse_motifs)
//   2. the --mutable range list (parse_ranges)
//   3. four bytes: gc_min, gc_max (each / 255), the homopolymer limit, a length
//   4. a starts file (read_starts, format detected; plain or gzip) on a memfd
// Contracts checked: parsed motifs are non-empty A/C/G/T, parsed ranges have
// 1 <= first <= last; a promoter random_promoter builds for satisfiable
// constraints has the length asked and breaks none of them; every start
// read_starts returns meets the sequence constraints, has a promoter that
// reaches the first position of every mutable range, and spells its
// sequence as flanks around it. A pf::Error is the expected answer to bad input, as one short line.
#include <cstdint>
#include <string>
#include <vector>

#include "core/philox.h"
#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "proformer/data/sequence.h"
#include "proformer/design/constraints.h"
#include "proformer/design/starts.h"

using namespace pf::proformer;
using namespace pf::proformer::design;
using pf::fuzz::fail;
using pf::fuzz::ok_or_error;

namespace {

bool is_acgt(const std::string& s) { return !s.empty() && s.find_first_not_of("ACGT") == std::string::npos; }

// Constraints from the first three parts; false when a list is refused.
bool constraints_from(const std::vector<std::string>& parts, Constraints& c, int& length) {
  if (!ok_or_error([&] { c.avoid = parse_motifs(parts[0], "--avoid"); })) return false;
  for (const std::string& motif : c.avoid)
    if (!is_acgt(motif)) fail("fuzz_design", "parse_motifs kept a motif that is not A/C/G/T: " + motif);
  if (!ok_or_error([&] { c.mutable_ranges = parse_ranges(parts[1], "--mutable"); })) return false;
  for (const auto& [first, last] : c.mutable_ranges)
    if (!(1 <= first && first <= last)) fail("fuzz_design", "parse_ranges kept a range outside 1 <= first <= last");
  const auto byte = [&](size_t k) { return k < parts[2].size() ? uint8_t(parts[2][k]) : uint8_t(0); };
  c.gc_min = byte(0) / 255.0;
  c.gc_max = parts[2].size() > 1 ? byte(1) / 255.0 : 1.0;
  c.max_homopolymer = byte(2) % 12;
  length = 1 + byte(3) % 120;
  return true;
}

void check_random_promoter(const Constraints& c, int length) {
  if (!ok_or_error([&] { check_satisfiable(c, length); })) return;
  pf::Generator gen(7);
  std::string promoter;
  if (!ok_or_error([&] { promoter = random_promoter(c, length, gen); })) return;
  if (int(promoter.size()) != length) fail("fuzz_design", "random_promoter: the wrong length");
  const std::string violation = sequence_violation(c, promoter);
  if (!violation.empty()) fail("fuzz_design", "random_promoter broke a constraint: " + violation);
}

void check_starts(const std::vector<Start>& starts, const Constraints& c) {
  for (const Start& s : starts) {
    if (!sequence_violation(c, s.promoter).empty())
      fail("fuzz_design", "read_starts kept a start that breaks a constraint");
    for (const auto& range : c.mutable_ranges)  // a range may run past the end, not start there
      if (int64_t(s.promoter.size()) < range.first)
        fail("fuzz_design", "read_starts kept a start that a range begins after");
    if (s.sequence(s.promoter) != s.flank5 + s.promoter + s.flank3) fail("fuzz_design", "Start::sequence");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  const std::vector<std::string> parts = pf::fuzz::split_parts(data, size, 4);
  Constraints c;
  int length = 0;
  if (!constraints_from(parts, c, length)) return 0;
  check_random_promoter(c, length);
  file.set(reinterpret_cast<const uint8_t*>(parts[3].data()), parts[3].size());
  std::vector<Start> starts;
  if (ok_or_error([&] { starts = read_starts({file.path()}, InputFormat::kAuto, kSeqLen, c); }))
    check_starts(starts, c);
  return 0;
}
