#include "proformer/inference/inference.h"

#include <cstdio>

#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"

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
      if (!options.skip_invalid)
        throw InvalidRecord("sequences: " + where + ": " + reason);
      std::fprintf(stderr, "%s: skipped: %s\n", where.c_str(), reason.c_str());
      ++skipped;
    }
  }
  return skipped;
}

InferenceStats run_inference(const Ensemble& models, const std::vector<std::string>& inputs,
                             const InferenceOptions& options, const std::function<void(const Prediction&)>& sink) {
  InferenceStats stats;
  Batcher<Prediction> batcher(models, options.batch_size, [&](const PredictedBatch<Prediction>& batch) {
    for (size_t k = 0; k < batch.items.size(); ++k) {
      Prediction p = batch.items[k];
      p.spread = batch.predictions.spread[size_t(batch.first_row[k])];
      p.value = p.spread.mean;
      p.z = models.label_stats().zscore(float(p.value));
      sink(p);
    }
    stats.predicted += int64_t(batch.items.size());
  });
  stats.skipped = for_each_valid_record(inputs, options, models.seq_len(), [&](const SequenceRecord& record) {
    encode_promoter(strip_flanks(record.sequence), int(models.seq_len()),
                    batcher.add({record.id, record.sequence, 0, 0, {}}));
  });
  batcher.finish();
  return stats;
}

}  // namespace pf::proformer
