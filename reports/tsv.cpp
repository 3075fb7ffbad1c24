#include "reports/tsv.h"

#include <cstdio>

namespace pf::proformer {

std::string spread_tsv_header(const std::string& quantity, int64_t members, bool sign) {
  if (members == 1) return "";
  return "\t" + quantity + "_sd\tn" + (sign ? "\tsign_agreement" : "");
}

std::string spread_tsv_columns(const MemberSpread& spread, bool sign) {
  if (spread.n == 1) return "";
  char text[64];
  std::snprintf(text, sizeof text, "\t%.6g\t%ld", spread.sd, long(spread.n));
  std::string out = text;
  if (sign) {
    std::snprintf(text, sizeof text, "\t%.6g", spread.sign_agreement);
    out += text;
  }
  return out;
}

std::string variant_tsv_header(int64_t members) {
  return "id\tref\talt\talt_minus_ref" + spread_tsv_header("alt_minus_ref", members, true) + "\n";
}

std::string variant_tsv_row(const VariantEffect& effect) {
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, "%.6g\t%.6g\t%.6g", effect.ref, effect.alt, effect.effect());
  return effect.id + "\t" + numbers + spread_tsv_columns(effect.spread, true) + "\n";
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

std::string region_prediction_tsv_header(int64_t members) {
  return "name\tchrom\tstart\tend\tstrand\tsequence\tprediction" + spread_tsv_header("prediction", members, false) +
         "\n";
}

std::string region_prediction_tsv_row(const RegionPrediction& prediction) {
  const Region& r = prediction.region->region;
  char number[32];
  std::snprintf(number, sizeof number, "%.6g", prediction.value);
  return r.name + "\t" + r.chrom + "\t" + std::to_string(r.start) + "\t" + std::to_string(r.end) + "\t" + r.strand +
         "\t" + prediction.region->sequence + "\t" + number + spread_tsv_columns(prediction.spread, false) + "\n";
}

std::string genome_variant_tsv_header(bool percentiles, int64_t members) {
  return "chrom\tpos\tid\tref\talt\tregion\tstrand\toffset\tref_prediction\talt_prediction\teffect" +
         spread_tsv_header("effect", members, true) + (percentiles ? "\teffect_percentile\n" : "\n");
}

std::string genome_variant_tsv_row(const RegionVariantEffect& row, bool percentiles) {
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "%.6g\t%.6g\t%.6g", row.reference, row.alternative, row.effect());
  std::string out = row.chrom + "\t" + std::to_string(row.pos) + "\t" + row.id + "\t" + row.ref + "\t" + row.alt +
                    "\t" + row.region->region.name + "\t" + row.region->region.strand + "\t" +
                    std::to_string(row.offset) + "\t" + numbers + spread_tsv_columns(row.spread, true);
  if (percentiles) {
    std::snprintf(numbers, sizeof numbers, "%.4g", row.percentile);
    out += '\t';
    out += row.percentile < 0 ? "NA" : numbers;
  }
  return out + "\n";
}

std::string skipped_variant_tsv_header() { return "chrom\tpos\tid\tref\talt\tregion\treason\n"; }

std::string skipped_variant_tsv_row(const SkippedVariant& s) {
  const std::string region = s.region.empty() ? "." : s.region;  // "." for a skip that concerns no single region
  return s.chrom + "\t" + std::to_string(s.pos) + "\t" + s.id + "\t" + s.ref + "\t" + s.alt + "\t" + region + "\t" +
         s.reason + "\n";
}

}  // namespace pf::proformer
