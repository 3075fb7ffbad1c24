#include "proformer/inference/ism.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "proformer/inference/inference.h"
#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"

namespace pf::proformer {

// One promoter's rows: row 0 the reference, then one per substitution, in
// (position, base) order.
struct Mutants {
  std::string id;
  std::string bases;  // flanks removed, upper case
  struct Substitution {
    int position, base;
  };
  std::vector<Substitution> substitutions;
};

namespace {

Mutants mutants_of(const std::string& id, std::string_view sequence, int64_t seq_len) {
  const std::string reason = unpredictable_reason(sequence, seq_len);
  PF_CHECK(reason.empty(), "ism", "sequence '", excerpt(id), "': ", reason);
  Mutants m{id, "", {}};
  for (char c : strip_flanks(sequence)) m.bases += char(std::toupper(static_cast<unsigned char>(c)));
  for (int i = 0; i < int(m.bases.size()); ++i)
    for (int b = kA; b <= kT; ++b)
      if (b != token_of(m.bases[size_t(i)])) m.substitutions.push_back({i, b});
  return m;
}

IsmResult effects_of(const Mutants& m, const EnsemblePredictions& p, int64_t first_row) {
  IsmResult result;
  result.id = m.id;
  result.bases = m.bases;
  result.reference = p.spread[size_t(first_row)].mean;
  result.members = p.members;
  result.effects.assign(m.bases.size(), {0, 0, 0, 0});
  result.effect_sd.assign(m.bases.size(), {0, 0, 0, 0});
  for (size_t k = 0; k < m.substitutions.size(); ++k) {
    const MemberSpread effect = spread_over_members(p.differences(first_row, first_row + int64_t(k) + 1));
    const size_t i = size_t(m.substitutions[k].position), b = size_t(m.substitutions[k].base);
    result.effects[i][b] = effect.mean;
    result.effect_sd[i][b] = effect.sd;
  }
  return result;
}

}  // namespace

Mutagenesis::Mutagenesis(const Ensemble& models, int64_t batch_size, std::function<void(const IsmResult&)> sink)
    : models_(models),
      batcher_(std::make_unique<Batcher<Mutants>>(models, batch_size, [sink = std::move(sink)](const PredictedBatch<Mutants>& batch) {
        for (size_t k = 0; k < batch.items.size(); ++k)
          sink(effects_of(batch.items[k], batch.predictions, batch.first_row[k]));
      })) {}

Mutagenesis::~Mutagenesis() = default;

void Mutagenesis::add(const std::string& id, std::string_view sequence) {
  const int seq_len = int(models_.seq_len());
  Mutants m = mutants_of(id, sequence, seq_len);
  const int L = int(m.bases.size());
  const std::vector<Mutants::Substitution> substitutions = m.substitutions;
  uint8_t* rows = batcher_->add(std::move(m), 1 + int64_t(substitutions.size()));  // [1 + substitutions, T]
  encode_promoter(strip_flanks(sequence), seq_len, rows);
  const size_t T = size_t(2 * seq_len);
  for (size_t k = 0; k < substitutions.size(); ++k) {
    uint8_t* row = rows + (k + 1) * T;
    std::copy(rows, rows + T, row);
    substitute_base(row, seq_len, L, substitutions[k].position, uint8_t(substitutions[k].base));
  }
}

void Mutagenesis::finish() { batcher_->finish(); }

IsmResult in_silico_mutagenesis(const Ensemble& models, std::string id, std::string_view sequence,
                                int64_t batch_size) {
  IsmResult result;
  Mutagenesis ism(models, batch_size, [&](const IsmResult& r) { result = r; });
  ism.add(id, sequence);
  ism.finish();
  return result;
}

}  // namespace pf::proformer
