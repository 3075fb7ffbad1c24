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

std::string ism_tsv_header(int64_t members) {
  return "# in-silico mutagenesis: effect = prediction(mutant) - prediction(reference), training label scale;\n"
         "# one row per position of the promoter with the plasmid flanks removed (1-based), 0 for the reference base\n"
         "id\tposition\tref_base\tA\tC\tG\tT" +
         std::string(members == 1 ? "" : "\tA_sd\tC_sd\tG_sd\tT_sd\tn") + "\n";
}

std::string ism_tsv_rows(const IsmResult& result) {
  std::string out;
  char numbers[96];
  for (size_t i = 0; i < result.effects.size(); ++i) {
    const auto& e = result.effects[i];
    std::snprintf(numbers, sizeof numbers, "%.6g\t%.6g\t%.6g\t%.6g", e[0], e[1], e[2], e[3]);
    out += result.id + "\t" + std::to_string(i + 1) + "\t" + result.bases[i] + "\t" + numbers;
    if (result.members > 1) {
      const auto& sd = result.effect_sd[i];
      std::snprintf(numbers, sizeof numbers, "\t%.6g\t%.6g\t%.6g\t%.6g\t%ld", sd[0], sd[1], sd[2], sd[3],
                    long(result.members));
      out += numbers;
    }
    out += "\n";
  }
  return out;
}

}  // namespace pf::proformer
