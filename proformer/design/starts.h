// Where pf-design's searches begin: sequences read from files (any input
// pf-infer reads) or random promoters. A start keeps the plasmid flanks it was
// given with, so that a design can be written back with them; only the
// promoter between them is designed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "proformer/data/reader.h"
#include "proformer/design/constraints.h"

namespace pf::proformer::design {

struct Start {
  std::string id;
  std::string flank5, flank3;  // the plasmid flanks as given ("" when absent)
  std::string promoter;        // flanks removed, upper case: what the model reads and the search changes

  // The sequence of a design of this start: flanks as given around `designed`.
  std::string sequence(const std::string& designed) const { return flank5 + designed + flank3; }
};

// A start from one record, checked as read_starts checks it; `where` names
// the record in errors ("starts.fa:12", "sequence 3").
Start start_of(const SequenceRecord& record, const std::string& where, int64_t seq_len,
               const Constraints& constraints);

// Every record of `inputs` (DREAM txt/tsv, FASTA or one sequence per line;
// plain or gzip). Throws pf::Error with FILE:LINE for a record the model
// cannot read (see unpredictable_reason), one shorter than a mutable range
// or one that breaks a sequence constraint, and without it for constraints
// no promoter of its length can meet (check_satisfiable).
std::vector<Start> read_starts(const std::vector<std::string>& inputs, InputFormat format, int64_t seq_len,
                               const Constraints& constraints);

// n random promoters of `length` nt meeting the constraints (random_promoter),
// ids random_1 .. random_n, drawn from `seed` alone.
std::vector<Start> random_starts(int64_t n, int length, const Constraints& constraints, uint64_t seed);

}  // namespace pf::proformer::design
