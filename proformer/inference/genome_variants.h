// Variant effects from a VCF and a genome (pf-infer --vcf --genome --regions):
// for every (variant, region) pair the prediction of the region as the genome
// has it (ref) and with the alternative allele applied (alt), and alt - ref.
//
//   - Regions come from read_genome_regions (genome_regions.h): cut from the
//     genome, reverse-complemented on the minus strand. The allele is applied
//     to the + strand bases, then the edited region is oriented the same way.
//   - A multi-allelic record gives one row per alternative allele.
//   - Each region's reference prediction is computed once, however many
//     variants fall in it; alt predictions go through the model in batches.
//   - Rows are handed to the sink as they are ready, in VCF order (then
//     region order), so nothing grows with the size of the VCF.
//   - An indexed VCF (tabix or CSI) is queried for the merged intervals of
//     the regions, chromosome by chromosome in the index's order; an
//     unindexed one is streamed and each record looked up in an interval
//     index of the regions. Both give the same rows for a sorted VCF; only
//     the streamed one sees, and reports as skipped, records outside every
//     region (and so on chromosomes the genome lacks).
//   - Every alternative allele that is not scored goes to the skip sink with
//     its reason (see SkippedVariant).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proformer/inference/batcher.h"
#include "proformer/inference/ensemble.h"
#include "proformer/genome/vcf.h"
#include "proformer/inference/genome_regions.h"

namespace pf::proformer {

// How far score_genome_variants has come: `done` of `total` in `unit` (the
// share of a streamed VCF read, per mille, or the index queries made), and
// the rows scored and alleles skipped so far.
struct GenomeVariantProgress {
  int64_t done = 0, total = 0;
  const char* unit = "";
  int64_t scored = 0, skipped = 0;
};

struct GenomeVariantOptions {
  int64_t batch_size = kDefaultBatchSize;
  bool effect_percentiles = false;  // also rank each SNV effect in its region's ISM
  // Called every few seconds while the VCF is read (pf-infer shows variants/s and ETA).
  std::function<void(const GenomeVariantProgress&)> progress;
};

// One output row: an alternative allele of a VCF record in one region.
struct RegionVariantEffect {
  std::string chrom, id, ref, alt;  // as in the VCF
  int64_t pos = 0;                  // 1-based, as in the VCF
  const GenomeRegion* region = nullptr;
  // 1-based position, in the region's sequence as the model reads it (5' to 3'
  // on the region's strand), of the REF allele's 5'-most base: for an SNV the
  // position of the matching pf-infer --ism row.
  int64_t offset = 0;
  double reference = 0, alternative = 0;  // predictions, training label scale (an ensemble's means)
  double effect() const { return alternative - reference; }
  MemberSpread spread = {};  // of the members' effects (sd 0, n 1 for one model)
  // With effect_percentiles, for SNVs to A, C, G or T: the percentage of the region's
  // single-nucleotide substitutions whose |effect| (from the region's ISM) is
  // at most this one's; -1 otherwise.
  double percentile = -1;
};

// An alternative allele that was not scored, and why: the chromosome is
// missing from the genome; the record is outside every region; REF disagrees
// with the genome (then no allele of the record is scored); a symbolic,
// breakend, '*' or '.' allele; the variant crosses a region's boundary; the
// edited region is longer than the model's input. `region` is empty unless
// the reason concerns one region.
struct SkippedVariant {
  std::string chrom, id, ref, alt, region, reason;
  int64_t pos = 0;
};

struct GenomeVariantStats {
  int64_t records = 0;                // VCF records read
  // Streamed: of the records, those on a chromosome the genome lacks. An
  // indexed VCF is queried for the regions' chromosomes alone and reads no
  // such record: it counts the chromosomes its index lists instead.
  int64_t records_on_missing_chromosomes = 0;
  int64_t index_chromosomes = 0;
  // The chromosomes the genome lacks, each once, in VCF (or index) order:
  // those of the records, or those the index lists (see chromosome_naming_warning).
  std::vector<std::string> missing_chromosomes;
  int64_t scored = 0;                 // rows handed to the sink
  int64_t skipped = 0;                // alleles (or allele-region pairs) handed to the skip sink
  int64_t reference_predictions = 0;  // one per region that had a scored variant
  bool indexed = false;               // the VCF was queried through its index
};

// Every member of `models` scores every row; rows carry the members' means and
// the spread of their effects, and percentiles rank the mean effect in the
// region's mean ISM.
GenomeVariantStats score_genome_variants(const Ensemble& models, const Genome& genome,
                                         const std::vector<GenomeRegion>& regions, VcfReader& vcf,
                                         const GenomeVariantOptions& options,
                                         const std::function<void(const RegionVariantEffect&)>& sink,
                                         const std::function<void(const SkippedVariant&)>& skip);

// When more than half of the records read (of an indexed VCF, of the
// chromosomes its index lists) are on chromosomes the genome lacks, the VCF
// and the genome most likely name chromosomes differently ("I" against
// "chrI"): one line that says so with a few names of each, e.g.
//   12 of 13 VCF records name chromosomes the genome lacks (VCF: I, II, III, ...;
//   genome: chrI, chrII, chrIII, ...): the two name chromosomes differently
// (on one line), for the caller to show. Empty otherwise.
std::string chromosome_naming_warning(const GenomeVariantStats& stats, const Genome& genome);

}  // namespace pf::proformer
