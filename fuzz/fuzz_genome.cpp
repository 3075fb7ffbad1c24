// Fuzz target: the genome regions and alleles logic (proformer/genome/
// genome.h, alleles.h; proformer/inference/genome_regions.h) over a small
// genome FASTA written once per process (htslib reads a FASTA, and its .fai,
// from files only). The input is a BED file, then after a NUL byte the
// variants to apply, three bytes each (offset into the region, REF length,
// ALT length) followed by the ALT's characters.
//
// Contracts checked: each region read_genome_regions accepts is the genome's
// fetch() of it, upper case A/C/G/T/N, oriented by its strand (the reverse
// complement on '-', which undoes itself); apply_allele replaces exactly REF
// by ALT inside the region and refuses, with pf::Error, a REF that leaves
// it; allele_unscorable_reason accepts exactly the non-empty A/C/G/T/N
// alleles. A pf::Error is the expected answer to bad input, as one short line.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "proformer/genome/alleles.h"
#include "proformer/genome/genome.h"
#include "proformer/inference/genome_regions.h"

using namespace pf::proformer;
using pf::fuzz::fail;

namespace {

constexpr int64_t kRegionLength = 80;  // the model's input length for these regions: longer ones are refused
constexpr size_t kMaxRegions = 64;    // regions checked per input

struct Chromosome {
  std::string name, bases;
  size_t line_bases;  // the FASTA's line width
};

// Mixed case and Ns (fetch() returns upper case), three line widths, a
// one-base chromosome.
const std::vector<Chromosome>& chromosomes() {
  static const std::vector<Chromosome> list = {
      {"chrI",
       "ACGTACGTTTGACAnnnnACGTGGCCAATTgcgcatatTATAAAAGGCCGCGCTTAGCATCGATCGACTAGCTAGCTAGGGATCCGAATTCNNNN"
       "acgtgtgtgtACACACACGTTTTTTTTTTGGGGGGCCCCCCAAAAAATTTTTgactgactgactGACTGACTAGCTTAGGCATGCATGCA",
       60},
      {"chrII", "TTAGGGTTAGGGTTAGGGNACGTACGTACGTCCCTAA", 10},
      {"chrM", "G", 50},
  };
  return list;
}

// Writes the FASTA and its .fai (name, length, offset of the first base,
// bases per line, bytes per line) into a fresh temporary directory; returns
// the FASTA's path.
std::string write_genome() {
  char dir[] = "/tmp/pf_fuzz_genome_XXXXXX";
  if (mkdtemp(dir) == nullptr) fail("fuzz_genome", "mkdtemp failed");
  const std::string fasta = std::string(dir) + "/genome.fa";
  std::string text, index;
  for (const Chromosome& c : chromosomes()) {
    text += ">" + c.name + " test chromosome\n";
    index += c.name + "\t" + std::to_string(c.bases.size()) + "\t" + std::to_string(text.size()) + "\t" +
             std::to_string(c.line_bases) + "\t" + std::to_string(c.line_bases + 1) + "\n";
    for (size_t i = 0; i < c.bases.size(); i += c.line_bases) text += c.bases.substr(i, c.line_bases) + "\n";
  }
  for (const auto& [path, contents] : {std::pair{fasta, text}, std::pair{fasta + ".fai", index}}) {
    FILE* f = std::fopen(path.c_str(), "w");  // the .fai after the FASTA: not older than it
    if (f == nullptr || std::fwrite(contents.data(), 1, contents.size(), f) != contents.size() || std::fclose(f))
      fail("fuzz_genome", "cannot write " + path);
  }
  return fasta;
}

const Genome& genome() {
  static const Genome g(write_genome());  // once per process
  return g;
}

bool is_dna(const std::string& s) { return s.find_first_not_of("ACGTN") == std::string::npos; }

void check_region(const GenomeRegion& g) {
  const Region& r = g.region;
  if (int64_t(g.forward.size()) != r.length() || r.length() > kRegionLength)
    fail("fuzz_genome", "a region of the wrong length");
  if (g.forward != genome().fetch(r.chrom, r.start, r.end)) fail("fuzz_genome", "forward is not the genome's bases");
  if (!is_dna(g.forward)) fail("fuzz_genome", "forward is not upper-case A/C/G/T/N");
  const std::string expected = r.strand == '-' ? reverse_complement(g.forward) : g.forward;
  if (g.sequence != expected || g.sequence != oriented(r, g.forward))
    fail("fuzz_genome", "sequence is not forward oriented by the strand");
  if (reverse_complement(reverse_complement(g.forward)) != g.forward)
    fail("fuzz_genome", "reverse_complement does not undo itself");
}

// Applies the variants spelled by `variants` (3 bytes, then the ALT) to the region.
void check_alleles(const GenomeRegion& g, const std::string& variants, size_t& at) {
  if (at + 3 > variants.size()) return;
  const auto byte = [&](size_t k) { return size_t(uint8_t(variants[at + k])); };
  const size_t length = g.forward.size();
  const size_t offset = byte(0) % (length + 2);  // past the end too: apply_allele must refuse it
  const size_t ref_length = byte(1) % 8;
  const std::string alt = variants.substr(at + 3, byte(2) % 8);
  at += 3 + alt.size();
  const bool scorable = allele_unscorable_reason(alt).empty();
  if (scorable != (!alt.empty() && alt.find_first_not_of("ACGTNacgtn") == std::string::npos))
    fail("fuzz_genome", "allele_unscorable_reason disagrees with A/C/G/T/N: '" + alt + "'");
  const int64_t variant_start = g.region.start + int64_t(offset);
  std::string edited;
  const bool inside = offset + ref_length <= length;
  const bool applied =
      pf::fuzz::ok_or_error([&] { edited = apply_allele(g.forward, g.region.start, variant_start, ref_length, alt); });
  if (applied != inside) fail("fuzz_genome", "apply_allele took a REF outside the region, or refused one inside");
  if (applied && edited != g.forward.substr(0, offset) + alt + g.forward.substr(offset + ref_length))
    fail("fuzz_genome", "apply_allele did not replace exactly REF by ALT");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile bed;
  const std::vector<std::string> parts = pf::fuzz::split_parts(data, size, 2);  // BED, variants
  bed.set(reinterpret_cast<const uint8_t*>(parts[0].data()), parts[0].size());
  std::vector<GenomeRegion> regions;
  if (!pf::fuzz::ok_or_error([&] { regions = read_genome_regions(genome(), bed.path(), kRegionLength); })) return 0;
  size_t at = 0;
  for (size_t i = 0; i < regions.size() && i < kMaxRegions; ++i) {
    check_region(regions[i]);
    check_alleles(regions[i], parts[1], at);
  }
  return 0;
}
