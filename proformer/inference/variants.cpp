#include "proformer/inference/variants.h"

#include <charconv>
#include <cstdio>
#include <vector>

#include "proformer/inference/inference.h"
#include "proformer/data/reader.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"

namespace pf::proformer {

namespace {

enum class Layout { kUnknown, kSequences, kPosition };

const char* const kSequenceColumns = "id, ref_seq, alt_seq";
const char* const kPositionColumns = "id, ref_seq, position, alt_base";

std::string joined(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ", ") + f;
  return out;
}

// Reads the pairs of a variants file, one per call, checking every field.
class VariantReader {
 public:
  VariantReader(const std::string& path, int64_t seq_len) : lines_(path), seq_len_(seq_len) {}

  // Fills `pair` with the next pair; false at the end of the file.
  bool next(Pair& pair) {
    std::string line;
    while (lines_.next(line)) {
      if (line.empty()) continue;
      std::vector<std::string> fields;
      for (std::string_view field : split(line, '\t')) fields.emplace_back(field);
      if (layout_ == Layout::kUnknown && read_layout(fields)) continue;  // it was the header
      const size_t expected = layout_ == Layout::kSequences ? 3 : 4;
      PF_CHECK(fields.size() == expected, "variants", lines_.where(), ": ", fields.size(), " columns (expected ",
               expected, ": ", layout_ == Layout::kSequences ? kSequenceColumns : kPositionColumns, ")");
      pair.id = fields[0];
      pair.ref = fields[1];
      check_sequence("ref_seq", pair.ref);
      pair.alt = layout_ == Layout::kSequences ? fields[2] : substituted(pair.ref, fields[2], fields[3]);
      check_sequence("alt_seq", pair.alt);
      return true;
    }
    return false;
  }

 private:
  // Sets the layout from the first line. Returns true when it is a header.
  bool read_layout(const std::vector<std::string>& fields) {
    if (fields[0] == "id") {
      const std::string names = joined(fields);
      PF_CHECK(names == kSequenceColumns || names == kPositionColumns, "variants", lines_.where(), ": header '",
               excerpt(names), "' (expected ", kSequenceColumns, " or ", kPositionColumns, ")");
      layout_ = names == kSequenceColumns ? Layout::kSequences : Layout::kPosition;
      return true;
    }
    PF_CHECK(fields.size() == 3 || fields.size() == 4, "variants", lines_.where(), ": ", fields.size(),
             " columns (expected 3: ", kSequenceColumns, ", or 4: ", kPositionColumns, ")");
    layout_ = fields.size() == 3 ? Layout::kSequences : Layout::kPosition;
    return false;
  }

  void check_sequence(const char* column, const std::string& sequence) const {
    const std::string reason = unpredictable_reason(sequence, seq_len_);
    PF_CHECK(reason.empty(), "variants", lines_.where(), ": ", column, ": ", reason);
  }

  // `ref` with base `position` (1-based, flanks counted) replaced by `base`.
  std::string substituted(const std::string& ref, const std::string& position, const std::string& base) const {
    int64_t pos = 0;
    const auto [end, error] = std::from_chars(position.data(), position.data() + position.size(), pos);
    PF_CHECK(error == std::errc() && end == position.data() + position.size(), "variants", lines_.where(),
             ": position '", excerpt(position), "' is not an integer");
    PF_CHECK(pos >= 1 && pos <= int64_t(ref.size()), "variants", lines_.where(), ": position ", pos,
             " outside ref_seq (1 to ", ref.size(), ")");
    PF_CHECK(base.size() == 1 && token_of(base[0]) >= 0, "variants", lines_.where(), ": alt_base '", excerpt(base),
             "' (expected one of A, C, G, T, N)");
    // The model never sees the flanks, so a change there would have no effect.
    const std::string_view promoter = strip_flanks(ref);
    const int64_t first = promoter.data() - ref.data() + 1, last = first + int64_t(promoter.size()) - 1;
    PF_CHECK(pos >= first && pos <= last, "variants", lines_.where(), ": position ", pos,
             " is in a plasmid flank (the promoter is positions ", first, " to ", last, " of ref_seq)");
    std::string alt = ref;
    alt[size_t(pos - 1)] = base[0];
    return alt;
  }

  LineReader lines_;
  int64_t seq_len_;
  Layout layout_ = Layout::kUnknown;
};

}  // namespace

int64_t predict_variants(const Ensemble& models, const std::string& path, int64_t batch_size,
                         const std::function<void(const VariantEffect&)>& sink) {
  VariantReader reader(path, models.seq_len());
  return predict_pairs(models, batch_size, [&](Pair& pair) { return reader.next(pair); }, sink);
}

int64_t predict_pairs(const Ensemble& models, int64_t batch_size, const std::function<bool(Pair&)>& next,
                      const std::function<void(const VariantEffect&)>& sink) {
  const int seq_len = int(models.seq_len());
  int64_t pairs = 0;
  // Two rows per pair: ref, alt.
  Batcher<std::string> batcher(models, batch_size, [&](const PredictedBatch<std::string>& batch) {
    const EnsemblePredictions& p = batch.predictions;
    for (size_t k = 0; k < batch.items.size(); ++k) {
      const int64_t ref = batch.first_row[k], alt = ref + 1;
      sink({batch.items[k], p.spread[size_t(ref)].mean, p.spread[size_t(alt)].mean,
            spread_over_members(p.differences(ref, alt))});
    }
    pairs += int64_t(batch.items.size());
  });
  for (Pair pair; next(pair);) {
    uint8_t* rows = batcher.add(pair.id, 2);  // [2, T]
    encode_promoter(strip_flanks(pair.ref), seq_len, rows);
    encode_promoter(strip_flanks(pair.alt), seq_len, rows + 2 * seq_len);
  }
  batcher.finish();
  return pairs;
}

}  // namespace pf::proformer
