#include "proformer/inference/genome_regions.h"

#include <cstdio>

#include "proformer/data/sequence.h"
#include "proformer/inference/batcher.h"

namespace pf::proformer {

std::vector<GenomeRegion> read_genome_regions(const Genome& genome, const std::string& bed_path, int64_t seq_len) {
  std::vector<GenomeRegion> out;
  for (Region& region : read_bed(bed_path)) {
    const std::string where = bed_path + ":" + std::to_string(region.line) + ": region '" + excerpt(region.name) + "'";
    PF_CHECK(genome.has(region.chrom), "regions", where, " is on chromosome '", excerpt(region.chrom),
             "', which the genome ", genome.path(), " lacks (expected one of its FASTA sequence names)");
    const int64_t chrom_length = genome.length(region.chrom);
    PF_CHECK(region.end <= chrom_length, "regions", where, " ends at ", region.end, ", past the end of ",
             excerpt(region.chrom), " (", chrom_length, " nt)");
    PF_CHECK(region.length() <= seq_len, "regions", where, " is ", region.length(),
             " nt, longer than the model's input of ", seq_len, " nt");
    std::string forward = genome.fetch(region.chrom, region.start, region.end);
    const size_t bad = find_invalid_base(forward);
    PF_CHECK(bad == std::string::npos, "regions", where, ": the genome has ", describe_char(forward[bad]), " at ",
             excerpt(region.chrom), ":", region.start + int64_t(bad) + 1, " (expected A, C, G, T or N)");
    std::string sequence = oriented(region, forward);
    out.push_back({std::move(region), std::move(forward), std::move(sequence)});
  }
  return out;
}

std::string oriented(const Region& region, std::string forward) {
  return region.strand == '-' ? reverse_complement(forward) : forward;
}

void predict_regions(const Ensemble& models, const std::vector<GenomeRegion>& regions, int64_t batch_size,
                     const std::function<void(const RegionPrediction&)>& sink) {
  Batcher<const GenomeRegion*> batcher(models, batch_size, [&](const PredictedBatch<const GenomeRegion*>& batch) {
    for (size_t k = 0; k < batch.items.size(); ++k) {
      const MemberSpread& spread = batch.predictions.spread[size_t(batch.first_row[k])];
      sink({batch.items[k], spread.mean, spread});
    }
  });
  for (const GenomeRegion& region : regions)
    encode_promoter(region.sequence, int(models.seq_len()), batcher.add(&region));
  batcher.finish();
}

}  // namespace pf::proformer
