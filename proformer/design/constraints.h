// What a designed promoter must satisfy (pf-design's constraints). Positions
// are 1-based in the promoter with the plasmid flanks removed, the part the
// model reads; the flanks are never changed.
//
//   avoid            motifs absent from both strands (a restriction site a
//                    cloning protocol needs absent: --avoid GGTCTC,GAGACC)
//   gc_min, gc_max   the fraction of G and C, inclusive window
//   max_homopolymer  no run of one base longer than this (0: no limit)
//   max_edits        substitutions against the start (-1: no limit)
//   mutable_ranges   the only positions that may change (empty: all)
//
// The first three are properties of a sequence (sequence_violation); the last
// two relate a design to its start and are kept by the search (search.h).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/philox.h"

namespace pf::proformer::design {

struct Constraints {
  std::vector<std::string> avoid;  // upper-case A/C/G/T motifs, as given (reverse complements checked too)
  double gc_min = 0, gc_max = 1;
  int max_homopolymer = 0;
  int64_t max_edits = -1;
  std::vector<std::pair<int, int>> mutable_ranges;  // [first, last], 1-based, inclusive

  // Whether position (0-based in the promoter) may be changed.
  bool is_mutable(int position) const;
};

// The motifs of a comma-separated list ("GGTCTC,gaattc"), upper case. Throws
// pf::Error naming `option` for an empty motif or a letter other than A, C, G, T.
std::vector<std::string> parse_motifs(std::string_view list, const std::string& option);

// The ranges of a comma-separated list of 1-based positions and ranges
// ("1-20,35,60-80"). Throws pf::Error naming `option` for anything else, a
// position below 1 or a range whose end comes before its start.
std::vector<std::pair<int, int>> parse_ranges(std::string_view list, const std::string& option);

// Why `promoter` (upper case, flanks removed) breaks a sequence constraint
// (an avoided motif on either strand, the GC window, the homopolymer limit),
// or "" when it breaks none.
std::string sequence_violation(const Constraints& constraints, std::string_view promoter);

// Throws pf::Error when no promoter of `length` nt can meet the constraints
// for a reason that shows without searching: a GC window without any
// achievable fraction, avoided motifs that forbid every base, a mutable range
// past the end, no mutable position at all.
void check_satisfiable(const Constraints& constraints, int length);

// A random promoter of `length` nt that meets the sequence constraints, built
// base by base from `gen` (each base uniform among those that keep the
// constraints satisfiable). Throws pf::Error when 1000 attempts all run into
// a dead end.
std::string random_promoter(const Constraints& constraints, int length, Generator& gen);

}  // namespace pf::proformer::design
