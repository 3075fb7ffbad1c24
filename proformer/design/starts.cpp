#include "proformer/design/starts.h"

#include <cctype>

#include "core/error.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/inference.h"

namespace pf::proformer::design {

Start start_of(const SequenceRecord& record, const std::string& where, int64_t seq_len,
               const Constraints& constraints) {
  const std::string unreadable = unpredictable_reason(record.sequence, seq_len);
  PF_CHECK(unreadable.empty(), "design", where, ": ", unreadable);
  const std::string_view promoter = strip_flanks(record.sequence);
  const size_t before = size_t(promoter.data() - record.sequence.data());
  Start start{record.id, record.sequence.substr(0, before), record.sequence.substr(before + promoter.size()), ""};
  for (char c : promoter) start.promoter += char(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& [first, last] : constraints.mutable_ranges)
    PF_CHECK(first <= int(start.promoter.size()), "design", where, ": mutable position ", first,
             " is past the end of this ", start.promoter.size(), " nt promoter (flanks removed)");
  check_satisfiable(constraints, int(start.promoter.size()));
  const std::string broken = sequence_violation(constraints, start.promoter);
  PF_CHECK(broken.empty(), "design", where, ": the start sequence ", broken,
           " (HINT: a design keeps every constraint, so its start must meet them too)");
  return start;
}

std::vector<Start> read_starts(const std::vector<std::string>& inputs, InputFormat format, int64_t seq_len,
                               const Constraints& constraints) {
  std::vector<Start> starts;
  for (const std::string& path : inputs) {
    SequenceReader reader(path, format);
    for (SequenceRecord record; reader.next(record);)
      starts.push_back(start_of(record, (path == "-" ? std::string("<stdin>") : path) + ":" + std::to_string(record.line),
                                seq_len, constraints));
  }
  return starts;
}

std::vector<Start> random_starts(int64_t n, int length, const Constraints& constraints, uint64_t seed) {
  check_satisfiable(constraints, length);
  Generator gen(seed);
  std::vector<Start> starts;
  for (int64_t i = 0; i < n; ++i)
    starts.push_back({"random_" + std::to_string(i + 1), "", "", random_promoter(constraints, length, gen)});
  return starts;
}

}  // namespace pf::proformer::design
