#include "proformer/inference/inference.h"

#include <cstdio>

#include "proformer/data/sequence.h"

namespace pf::proformer {

std::string unpredictable_reason(std::string_view sequence, int64_t seq_len) {
  if (sequence.empty()) return "empty sequence";
  const size_t bad = find_invalid_base(sequence);
  if (bad != std::string_view::npos)
    return "invalid character " + describe_char(sequence[bad]) + " at position " + std::to_string(bad + 1) +
           " (expected A, C, G, T or N)";
  const std::string_view trimmed = strip_flanks(sequence);
  if (trimmed.empty()) return "nothing left after removing the plasmid flanks";
  if (int64_t(trimmed.size()) > seq_len)
    return "sequence of " + std::to_string(trimmed.size()) + " nt (flanks removed) is longer than the model's " +
           std::to_string(seq_len);
  return "";
}

int64_t for_each_valid_record(const std::vector<std::string>& inputs, const InferenceOptions& options, int64_t seq_len,
                              const std::function<void(const SequenceRecord&)>& visit) {
  int64_t skipped = 0;
  for (const std::string& path : inputs) {
    SequenceReader reader(path, options.format);
    SequenceRecord record;
    while (reader.next(record)) {
      const std::string reason = unpredictable_reason(record.sequence, seq_len);
      if (reason.empty()) {
        visit(record);
        continue;
      }
      const std::string where = (path == "-" ? std::string("<stdin>") : path) + ":" + std::to_string(record.line);
      PF_CHECK(options.skip_invalid, "pf-infer", where, ": ", reason, " (HINT: --skip-invalid skips such records)");
      std::fprintf(stderr, "%s: skipped: %s\n", where.c_str(), reason.c_str());
      ++skipped;
    }
  }
  return skipped;
}

InferenceStats run_inference(const Ensemble& models, const std::vector<std::string>& inputs,
                             const InferenceOptions& options, const std::function<void(const Prediction&)>& sink) {
  const int64_t seq_len = models.seq_len(), T = 2 * seq_len;
  InferenceStats stats;
  std::vector<Prediction> pending;  // records of the batch being filled
  std::vector<uint8_t> tokens;      // [pending, T]
  auto flush = [&] {
    if (pending.empty()) return;
    const EnsemblePredictions p = models.predict(tokens.data(), int64_t(pending.size()), options.batch_size);
    for (size_t i = 0; i < pending.size(); ++i) {
      pending[i].spread = p.spread[i];
      pending[i].value = pending[i].spread.mean;
      pending[i].z = models.label_stats().zscore(float(pending[i].value));
      sink(pending[i]);
    }
    stats.predicted += int64_t(pending.size());
    pending.clear();
    tokens.clear();
  };
  stats.skipped = for_each_valid_record(inputs, options, seq_len, [&](const SequenceRecord& record) {
    tokens.resize(tokens.size() + size_t(T));
    encode_promoter(strip_flanks(record.sequence), int(seq_len), tokens.data() + tokens.size() - size_t(T));
    pending.push_back({record.id, record.sequence, 0, 0, {}});
    if (int64_t(pending.size()) == options.batch_size) flush();
  });
  flush();
  return stats;
}

}  // namespace pf::proformer
