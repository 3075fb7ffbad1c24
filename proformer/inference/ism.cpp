#include "proformer/inference/ism.h"

#include <cctype>
#include <cstdio>

#include "proformer/inference/inference.h"
#include "proformer/data/sequence.h"

namespace pf::proformer {

IsmResult in_silico_mutagenesis(const Ensemble& models, std::string id, std::string_view sequence,
                                int64_t batch_size) {
  const int64_t seq_len = models.seq_len(), T = 2 * seq_len;
  const std::string reason = unpredictable_reason(sequence, seq_len);
  PF_CHECK(reason.empty(), "ism", "sequence '", excerpt(id), "': ", reason);
  const std::string_view trimmed = strip_flanks(sequence);
  const int L = int(trimmed.size());

  std::vector<uint8_t> reference(static_cast<size_t>(T));  // [T]
  encode_promoter(trimmed, int(seq_len), reference.data());
  // Row 0 is the reference; then one row per substitution, in (position, base) order.
  std::vector<uint8_t> tokens = reference;  // [1 + substitutions, T]
  struct Substitution {
    int position, base;
  };
  std::vector<Substitution> substitutions;
  for (int i = 0; i < L; ++i)
    for (int b = kA; b <= kT; ++b) {
      if (b == token_of(trimmed[size_t(i)])) continue;
      substitutions.push_back({i, b});
      tokens.insert(tokens.end(), reference.begin(), reference.end());
      substitute_base(tokens.data() + tokens.size() - size_t(T), int(seq_len), L, i, uint8_t(b));
    }
  const EnsemblePredictions p = models.predict(tokens.data(), int64_t(tokens.size()) / T, batch_size);

  IsmResult result;
  result.id = std::move(id);
  for (char c : trimmed) result.bases += char(std::toupper(static_cast<unsigned char>(c)));
  result.reference = p.spread[0].mean;
  result.members = p.members;
  result.effects.assign(size_t(L), {0, 0, 0, 0});
  result.effect_sd.assign(size_t(L), {0, 0, 0, 0});
  for (size_t k = 0; k < substitutions.size(); ++k) {
    const MemberSpread effect = spread_over_members(p.differences(0, int64_t(k) + 1));
    const size_t i = size_t(substitutions[k].position), b = size_t(substitutions[k].base);
    result.effects[i][b] = effect.mean;
    result.effect_sd[i][b] = effect.sd;
  }
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
