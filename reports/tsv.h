// The TSV that pf-infer writes, one header and one row function per mode, on
// the library's results (proformer/inference/): tab-separated, numbers with 6
// significant digits, and for an ensemble the members' spread after the mean
// (spread_tsv_*). Users' scripts read these columns: change them only on
// purpose (scripts/compare-app-outputs.sh compares two builds' outputs).
#pragma once
#include <cstdint>
#include <string>

#include "proformer/inference/ensemble.h"
#include "proformer/inference/genome_regions.h"
#include "proformer/inference/genome_variants.h"
#include "proformer/inference/ism.h"
#include "proformer/inference/variants.h"

namespace pf::proformer {

// Output columns for several members: "\t" + the quantity's sd, n and, with
// sign, sign_agreement; "" for one member, so that a single model's output
// keeps its columns.
std::string spread_tsv_header(const std::string& quantity, int64_t members, bool sign);
std::string spread_tsv_columns(const MemberSpread& spread, bool sign);

// The TSV header of pf-infer --variants output: "id  ref  alt  alt_minus_ref",
// and for several members "alt_minus_ref_sd  n  sign_agreement".
std::string variant_tsv_header(int64_t members);

// One TSV row: id, ref, alt, alt - ref (and the spread of the effect).
std::string variant_tsv_row(const VariantEffect& effect);

// The header of pf-infer --ism output: comment lines that explain the columns,
// then "id  position  ref_base  A  C  G  T" (tab-separated), and for several
// members "A_sd  C_sd  G_sd  T_sd  n".
std::string ism_tsv_header(int64_t members);

// One TSV row per position of `result`: id, 1-based position (flanks removed),
// reference base, then the effects for A, C, G, T (and their sd and n).
std::string ism_tsv_rows(const IsmResult& result);

// pf-infer --genome --regions output: name, chrom, start, end, strand,
// sequence, prediction (start and end as in the BED file; for several members
// then prediction_sd and n).
std::string region_prediction_tsv_header(int64_t members);
std::string region_prediction_tsv_row(const RegionPrediction& prediction);

// Output columns: chrom, pos, id, ref, alt, region, strand, offset,
// ref_prediction, alt_prediction, effect (for several members then effect_sd,
// n, sign_agreement; with percentiles then effect_percentile).
std::string genome_variant_tsv_header(bool percentiles, int64_t members);
std::string genome_variant_tsv_row(const RegionVariantEffect& row, bool percentiles);

// skipped.tsv columns: chrom, pos, id, ref, alt, region, reason.
std::string skipped_variant_tsv_header();
std::string skipped_variant_tsv_row(const SkippedVariant& skipped);

}  // namespace pf::proformer
