// Promoter regions of a genome as the model reads them (pf-infer --genome
// --regions): each BED6 region is cut out of the genome FASTA, reverse-
// complemented on the minus strand, and checked against the model's input
// length; without a VCF each one is predicted ("native promoters").
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proformer/inference/ensemble.h"
#include "proformer/genome/genome.h"
#include "proformer/genome/regions.h"

namespace pf::proformer {

struct GenomeRegion {
  Region region;
  std::string forward;   // the genome's + strand bases of the region, upper case
  std::string sequence;  // as the model reads it: `forward`, reverse-complemented on the minus strand
};

// Reads every region of `bed_path` from `genome`. Throws pf::Error naming the
// BED file, line and region for a chromosome the genome lacks, an end past
// the chromosome's end, a region longer than seq_len, or a base other than
// A, C, G, T, N in the genome.
std::vector<GenomeRegion> read_genome_regions(const Genome& genome, const std::string& bed_path, int64_t seq_len);

// A region's sequence in the model's orientation, for a + strand piece of DNA.
std::string oriented(const Region& region, std::string forward);

// The prediction of one region (training label scale; an ensemble's mean).
struct RegionPrediction {
  const GenomeRegion* region = nullptr;
  double value = 0;
  MemberSpread spread = {};  // over the members (sd 0, n 1 for one model)
};

// Predicts every region with every member, batch_size at a time, handing each
// to `sink` in BED order.
void predict_regions(const Ensemble& models, const std::vector<GenomeRegion>& regions, int64_t batch_size,
                     const std::function<void(const RegionPrediction&)>& sink);

}  // namespace pf::proformer
