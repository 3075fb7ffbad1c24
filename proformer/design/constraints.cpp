#include "proformer/design/constraints.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "core/error.h"
#include "proformer/data/reader.h"

namespace pf::proformer::design {

namespace {

constexpr std::string_view kAcgt = "ACGT";

char complement(char base) {
  switch (base) {
    case 'A': return 'T';
    case 'C': return 'G';
    case 'G': return 'C';
    case 'T': return 'A';
    default: return 'N';
  }
}

std::string reverse_complement(std::string_view motif) {
  std::string out(motif.rbegin(), motif.rend());
  for (char& c : out) c = complement(c);
  return out;
}

bool is_gc(char base) { return base == 'G' || base == 'C'; }

// The avoided motifs and their reverse complements.
std::vector<std::string> both_strands(const std::vector<std::string>& motifs) {
  std::vector<std::string> out;
  for (const std::string& m : motifs) {
    out.push_back(m);
    out.push_back(reverse_complement(m));
  }
  return out;
}

bool gc_in_window(const Constraints& c, int gc_count, int length) {
  const double fraction = double(gc_count) / double(length);
  return fraction >= c.gc_min && fraction <= c.gc_max;
}

// The bases no promoter may hold: those of one-letter avoided motifs, both strands.
std::string forbidden_bases(const Constraints& c) {
  std::string out;
  for (const std::string& m : both_strands(c.avoid))
    if (m.size() == 1 && out.find(m[0]) == std::string::npos) out += m[0];
  return out;
}

// Whether some GC count in [gc, gc + remaining] that the allowed bases can
// reach lies in the window, for a promoter of `length` nt.
bool gc_reachable(const Constraints& c, const std::string& forbidden, int gc, int remaining, int length) {
  const bool gc_allowed = forbidden.find('G') == std::string::npos;  // G and C are forbidden together
  const bool at_allowed = forbidden.find('A') == std::string::npos;
  for (int extra = 0; extra <= remaining; ++extra) {
    if (!gc_allowed && extra > 0) break;
    if (!at_allowed && extra < remaining) continue;
    if (gc_in_window(c, gc + extra, length)) return true;
  }
  return false;
}

}  // namespace

bool Constraints::is_mutable(int position) const {
  if (mutable_ranges.empty()) return true;
  for (const auto& [first, last] : mutable_ranges)
    if (position + 1 >= first && position + 1 <= last) return true;
  return false;
}

std::vector<std::string> parse_motifs(std::string_view list, const std::string& option) {
  std::vector<std::string> motifs;
  for (std::string_view part : split(list, ',')) {
    PF_CHECK(!part.empty(), "design", option, ": empty motif in '", excerpt(list), "' (expected A, C, G, T motifs separated by commas)");
    std::string motif;
    for (size_t i = 0; i < part.size(); ++i) {
      const char base = char(std::toupper(static_cast<unsigned char>(part[i])));
      PF_CHECK(kAcgt.find(base) != std::string_view::npos, "design", option, ": motif '", excerpt(part), "' has '",
               excerpt(part.substr(i, 1)), "' at position ", i + 1, " (expected only A, C, G, T)");
      motif += base;
    }
    motifs.push_back(motif);
  }
  return motifs;
}

std::vector<std::pair<int, int>> parse_ranges(std::string_view list, const std::string& option) {
  auto number = [&](std::string_view text, std::string_view part) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    PF_CHECK(error == std::errc() && end == text.data() + text.size() && value >= 1, "design", option, ": '",
             excerpt(part), "' is not a position or range (expected 1-based positions like 1-20,35,60-80)");
    return value;
  };
  std::vector<std::pair<int, int>> ranges;
  for (std::string_view part : split(list, ',')) {
    const size_t dash = part.find('-');
    const int first = number(part.substr(0, dash), part);
    const int last = dash == std::string_view::npos ? first : number(part.substr(dash + 1), part);
    PF_CHECK(first <= last, "design", option, ": range '", excerpt(part), "' ends before it starts");
    ranges.emplace_back(first, last);
  }
  return ranges;
}

std::string sequence_violation(const Constraints& c, std::string_view promoter) {
  char text[160];
  for (const std::string& motif : c.avoid) {
    const std::string rc = reverse_complement(motif);
    for (const std::string* m : {&motif, &rc})
      if (const size_t at = promoter.find(*m); at != std::string_view::npos)
        return "contains " + *m + (m == &rc ? " (reverse complement of the avoided " + motif + ")" : " (avoided)") +
               " at position " + std::to_string(at + 1);
  }
  const int gc = int(std::count_if(promoter.begin(), promoter.end(), is_gc));
  if (!gc_in_window(c, gc, int(promoter.size()))) {
    std::snprintf(text, sizeof text, "GC content %.3f outside the window [%g, %g]", double(gc) / double(promoter.size()),
                  c.gc_min, c.gc_max);
    return text;
  }
  if (c.max_homopolymer > 0) {
    int run = 0;
    for (size_t i = 0; i < promoter.size(); ++i) {
      run = (i > 0 && promoter[i] == promoter[i - 1]) ? run + 1 : 1;
      if (run > c.max_homopolymer)
        return "run of " + std::to_string(run) + " " + promoter[i] + " ending at position " + std::to_string(i + 1) +
               " (longest allowed " + std::to_string(c.max_homopolymer) + ")";
    }
  }
  return "";
}

void check_satisfiable(const Constraints& c, int length) {
  const char* const no_promoter = "no promoter can meet the constraints: ";
  PF_CHECK(c.gc_min <= c.gc_max, "design", no_promoter, "the GC window [", c.gc_min, ", ", c.gc_max, "] is empty");
  const std::string forbidden = forbidden_bases(c);
  PF_CHECK(forbidden.size() < 4, "design", no_promoter, "the avoided motifs forbid every base");
  PF_CHECK(gc_reachable(c, forbidden, 0, length, length), "design", no_promoter, "no promoter of ", length,
           " nt has a GC content in [", c.gc_min, ", ", c.gc_max, "]",
           forbidden.empty() ? "" : " without the bases the avoided motifs forbid (" + forbidden + ")");
  for (const auto& [first, last] : c.mutable_ranges)
    PF_CHECK(first <= length, "design", "mutable range: position ", first, " is past the end of the ", length,
             " nt promoter");
}

std::string random_promoter(const Constraints& c, int length, Generator& gen) {
  const std::string forbidden = forbidden_bases(c);
  const std::vector<std::string> motifs = both_strands(c.avoid);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string promoter;
    int gc = 0;
    while (int(promoter.size()) < length) {
      std::string choices;  // the bases that keep every constraint satisfiable
      for (char base : kAcgt) {
        promoter += base;
        const int i = int(promoter.size());
        bool ok = gc_reachable(c, forbidden, gc + is_gc(base), length - i, length);
        for (const std::string& m : motifs) ok &= !promoter.ends_with(m);
        if (c.max_homopolymer > 0 && i > c.max_homopolymer)
          ok &= promoter.find_first_not_of(base, size_t(i - c.max_homopolymer - 1)) != std::string::npos;
        promoter.pop_back();
        if (ok) choices += base;
      }
      if (choices.empty()) break;  // a dead end: start again
      const char base = choices[gen.below(choices.size())];
      promoter += base;
      gc += is_gc(base);
    }
    if (int(promoter.size()) == length) return promoter;
  }
  PF_FAIL("design", "no random promoter of ", length, " nt met the constraints in 1000 attempts",
          " (HINT: widen the GC window, allow longer homopolymers or avoid fewer motifs)");
}

}  // namespace pf::proformer::design
