#include "proformer/inference/genome_variants.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "proformer/data/sequence.h"
#include "proformer/genome/alleles.h"
#include "proformer/inference/batcher.h"
#include "proformer/inference/ism.h"

namespace pf::proformer {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The rows of the effects through the Batcher: each region's reference, the
// first time a variant of it is added (predicted once), then the alt of each
// row; the Batcher hands them back in that order, so a region's reference is
// known before its first effect is made.
class EffectBatcher {
 public:
  EffectBatcher(const Ensemble& models, const std::vector<GenomeRegion>& regions, int64_t batch_size,
                std::function<void(const RegionVariantEffect&)> sink)
      : regions_(regions),
        sink_(std::move(sink)),
        seq_len_(int(models.seq_len())),
        reference_(regions.size()),
        reference_mean_(regions.size()),
        requested_(regions.size(), false),
        batcher_(models, batch_size, [this](const PredictedBatch<Row>& batch) { take(batch); }) {}

  // `row` with its alt prediction still to make from `alt_sequence` (the
  // edited region in the model's orientation).
  void add(RegionVariantEffect row, int64_t region, const std::string& alt_sequence) {
    if (!requested_[size_t(region)]) {
      requested_[size_t(region)] = true;
      encode_promoter(regions_[size_t(region)].sequence, seq_len_, batcher_.add({std::nullopt, region}));
    }
    encode_promoter(alt_sequence, seq_len_, batcher_.add({std::move(row), region}));
  }

  void flush() { batcher_.finish(); }

  int64_t reference_predictions() const { return reference_predictions_; }

 private:
  struct Row {
    std::optional<RegionVariantEffect> effect;  // none: the region's reference
    int64_t region;
  };

  void take(const PredictedBatch<Row>& batch) {
    const EnsemblePredictions& p = batch.predictions;
    for (size_t k = 0; k < batch.items.size(); ++k) {
      const Row& item = batch.items[k];
      const size_t region = size_t(item.region);
      const int64_t row = batch.first_row[k];
      if (!item.effect) {
        reference_[region] = p.row_values(row);
        reference_mean_[region] = p.spread[size_t(row)].mean;
        ++reference_predictions_;
        continue;
      }
      RegionVariantEffect effect = *item.effect;
      std::vector<double> differences = p.row_values(row);  // [M] alt, then alt - ref
      for (size_t m = 0; m < differences.size(); ++m) differences[m] -= reference_[region][m];
      effect.reference = reference_mean_[region];
      effect.alternative = p.spread[size_t(row)].mean;
      effect.spread = spread_over_members(differences);
      sink_(effect);
    }
  }

  const std::vector<GenomeRegion>& regions_;
  std::function<void(const RegionVariantEffect&)> sink_;
  int seq_len_;
  std::vector<std::vector<double>> reference_;  // [regions][M]: reference predictions, empty until made
  std::vector<double> reference_mean_;          // [regions]: their mean over the members
  std::vector<bool> requested_;                 // [regions]: the reference is in the Batcher
  int64_t reference_predictions_ = 0;
  Batcher<Row> batcher_;
};

// The ISM of each region that has an SNV, made once, and the rank of an SNV's
// |effect| among the |effects| of all the region's substitutions.
class EffectPercentiles {
 public:
  EffectPercentiles(const Ensemble& models, int64_t batch_size) : models_(models), batch_size_(batch_size) {}

  // Percentile of the substitution to `base` (model orientation) at 1-based
  // `offset` of the region.
  double of(const GenomeRegion& region, int64_t index, int64_t offset, char base) {
    auto it = ism_.find(index);
    if (it == ism_.end()) {
      IsmResult ism = in_silico_mutagenesis(models_, region.region.name, region.sequence, batch_size_);
      std::vector<double> sorted;  // |effect| of every substitution, ascending
      for (size_t i = 0; i < ism.effects.size(); ++i)
        for (size_t b = 0; b < 4; ++b)
          if (kBases[b] != ism.bases[i]) sorted.push_back(std::abs(ism.effects[i][b]));
      std::sort(sorted.begin(), sorted.end());
      it = ism_.emplace(index, Ranked{std::move(ism.effects), std::move(sorted)}).first;
    }
    const Ranked& ranked = it->second;
    const double magnitude = std::abs(ranked.effects[size_t(offset - 1)][size_t(token_of(base))]);
    const auto at_most =
        std::upper_bound(ranked.sorted.begin(), ranked.sorted.end(), magnitude) - ranked.sorted.begin();
    return 100.0 * double(at_most) / double(ranked.sorted.size());
  }

 private:
  struct Ranked {
    std::vector<std::array<double, 4>> effects;  // [L][A C G T]
    std::vector<double> sorted;
  };
  const Ensemble& models_;
  int64_t batch_size_;
  std::unordered_map<int64_t, Ranked> ism_;
};

// Turns each VCF record into rows (to the batcher) and skipped alleles.
class VariantScorer {
 public:
  VariantScorer(const Ensemble& models, const Genome& genome, const std::vector<GenomeRegion>& regions,
                const RegionIndex& index, const GenomeVariantOptions& options,
                const std::function<void(const RegionVariantEffect&)>& sink,
                const std::function<void(const SkippedVariant&)>& skip)
      : genome_(genome),
        regions_(regions),
        index_(index),
        options_(options),
        skip_(skip),
        seq_len_(models.seq_len()),
        batcher_(models, regions, options.batch_size,
                 [&](const auto& row) {
                   ++stats_.scored;
                   sink(row);
                 }),
        percentiles_(models, options.batch_size) {}

  void handle(const VcfRecord& record) {
    ++stats_.records;
    const int64_t start = record.pos - 1, end = start + std::max<int64_t>(1, int64_t(record.ref.size()));
    if (!genome_.has(record.chrom)) {
      ++stats_.records_on_missing_chromosomes;
      if (missing_chromosomes_.insert(record.chrom).second) stats_.missing_chromosomes.push_back(record.chrom);
      return skip_all(record, "chromosome missing from the genome");
    }
    const std::vector<int64_t> hits = index_.overlapping(record.chrom, start, end);
    if (hits.empty()) return skip_all(record, "outside every region");
    const std::string genome_ref =
        end <= genome_.length(record.chrom) ? genome_.fetch(record.chrom, start, end) : std::string("past the end");
    if (upper(record.ref) != genome_ref)
      return skip_all(record, "REF disagrees with the genome (" + excerpt(genome_ref) + "); no allele scored");
    for (const std::string& alt : record.alts) {
      if (const std::string reason = allele_unscorable_reason(alt); !reason.empty()) {
        skip(record, alt, "", reason);
        continue;
      }
      for (const int64_t hit : hits) score(record, upper(alt), start, end, hit);
    }
  }

  GenomeVariantStats finish() {
    batcher_.flush();
    stats_.reference_predictions = batcher_.reference_predictions();
    return stats_;
  }

  GenomeVariantStats& stats() { return stats_; }

 private:
  void score(const VcfRecord& record, const std::string& alt, int64_t start, int64_t end, int64_t hit) {
    const GenomeRegion& region = regions_[size_t(hit)];
    const Region& r = region.region;
    if (start < r.start || end > r.end) return skip(record, alt, r.name, "crosses the boundary of the region");
    const std::string edited = apply_allele(region.forward, r.start, start, size_t(end - start), alt);
    if (edited.empty()) return skip(record, alt, r.name, "deletes the whole region");
    if (int64_t(edited.size()) > seq_len_)
      return skip(record, alt, r.name,
                  "edited region of " + std::to_string(edited.size()) + " nt is longer than the model's input of " +
                      std::to_string(seq_len_) + " nt");
    RegionVariantEffect row{record.chrom, record.id, record.ref, alt, record.pos, &region};
    row.offset = r.strand == '+' ? start - r.start + 1 : r.end - end + 1;
    // Substitutions by A, C, G or T only: ISM has no column for N.
    if (options_.effect_percentiles && end - start == 1 && alt.size() == 1 && token_of(alt[0]) <= kT)
      row.percentile = percentiles_.of(region, hit, row.offset, r.strand == '+' ? alt[0] : reverse_complement(alt)[0]);
    batcher_.add(std::move(row), hit, oriented(r, edited));
  }

  void skip_all(const VcfRecord& record, const std::string& reason) {
    for (const std::string& alt : record.alts) skip(record, alt, "", reason);
  }

  void skip(const VcfRecord& record, const std::string& alt, const std::string& region, const std::string& reason) {
    ++stats_.skipped;
    skip_({record.chrom, record.id, record.ref, alt, region, reason, record.pos});
  }

  const Genome& genome_;
  const std::vector<GenomeRegion>& regions_;
  const RegionIndex& index_;
  const GenomeVariantOptions& options_;
  const std::function<void(const SkippedVariant&)>& skip_;
  int64_t seq_len_;
  GenomeVariantStats stats_;
  std::unordered_set<std::string> missing_chromosomes_;  // stats_.missing_chromosomes, to look up
  EffectBatcher batcher_;
  EffectPercentiles percentiles_;
};

// The progress hook, called at most every few seconds.
class VariantProgress {
 public:
  VariantProgress(const GenomeVariantOptions& options, int64_t total, const char* unit)
      : hook_(options.progress), total_(total), unit_(unit) {}
  void update(int64_t done, const GenomeVariantStats& stats) {
    const auto now = std::chrono::steady_clock::now();
    if (!hook_ || now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    hook_({done, total_, unit_, stats.scored, stats.skipped});
  }

 private:
  const std::function<void(const GenomeVariantProgress&)>& hook_;
  int64_t total_;
  const char* unit_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

bool overlaps(const VcfRecord& record, const std::pair<int64_t, int64_t>& interval) {
  const int64_t start = record.pos - 1, end = start + std::max<int64_t>(1, int64_t(record.ref.size()));
  return start < interval.second && end > interval.first;
}

}  // namespace

GenomeVariantStats score_genome_variants(const Ensemble& models, const Genome& genome,
                                         const std::vector<GenomeRegion>& regions, VcfReader& vcf,
                                         const GenomeVariantOptions& options,
                                         const std::function<void(const RegionVariantEffect&)>& sink,
                                         const std::function<void(const SkippedVariant&)>& skip) {
  PF_CHECK(options.batch_size > 0, "variants", "batch size must be positive, got ", options.batch_size);
  std::vector<Region> plain;
  for (const GenomeRegion& r : regions) plain.push_back(r.region);
  const RegionIndex index(plain);
  VariantScorer scorer(models, genome, regions, index, options, sink, skip);
  VcfRecord record;
  if (!vcf.indexed()) {
    // Streamed: progress is the share of the file read, in thousandths.
    VariantProgress progress(options, 1000, "VCF read (per mille)");
    while (vcf.next(record)) {
      scorer.handle(record);
      progress.update(int64_t(1000 * vcf.fraction_read()), scorer.stats());
    }
    return scorer.finish();
  }
  // Indexed: each merged interval queried once. A record that overlaps two
  // neighbouring intervals comes back from both queries; the second is dropped.
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> queries;
  const std::vector<std::string> index_chromosomes = vcf.indexed_chromosomes();
  for (const std::string& chrom : index_chromosomes)
    for (const auto& interval : index.merged(chrom)) queries.push_back({chrom, interval});
  VariantProgress progress(options, int64_t(queries.size()), "intervals queried");
  for (size_t q = 0; q < queries.size(); ++q) {
    const auto& [chrom, interval] = queries[q];
    const bool after_neighbour = q > 0 && queries[q - 1].first == chrom;
    if (vcf.query(chrom, interval.first, interval.second))
      while (vcf.next(record))
        if (!(after_neighbour && overlaps(record, queries[q - 1].second))) scorer.handle(record);
    progress.update(int64_t(q + 1), scorer.stats());
  }
  GenomeVariantStats stats = scorer.finish();
  stats.indexed = true;
  stats.index_chromosomes = int64_t(index_chromosomes.size());
  for (const std::string& chrom : index_chromosomes)
    if (!genome.has(chrom)) stats.missing_chromosomes.push_back(chrom);
  return stats;
}

namespace {

// The first three of `names`, then "..." when there are more: "I, II, III, ...".
std::string first_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 3;
  std::string out;
  for (size_t i = 0; i < std::min(names.size(), kShown); ++i) out += (i ? ", " : "") + excerpt(names[i]);
  return names.size() > kShown ? out + ", ..." : out;
}

}  // namespace

std::string chromosome_naming_warning(const GenomeVariantStats& stats, const Genome& genome) {
  const int64_t missing =
      stats.indexed ? int64_t(stats.missing_chromosomes.size()) : stats.records_on_missing_chromosomes;
  const int64_t all = stats.indexed ? stats.index_chromosomes : stats.records;
  if (2 * missing <= all) return "";
  const std::string what = stats.indexed ? " chromosomes in the VCF's index are ones the genome lacks"
                                         : " VCF records name chromosomes the genome lacks";
  return std::to_string(missing) + " of " + std::to_string(all) + what + " (VCF: " +
         first_names(stats.missing_chromosomes) + "; genome: " + first_names(genome.chromosomes()) +
         "): the two name chromosomes differently";
}

}  // namespace pf::proformer
