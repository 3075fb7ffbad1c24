// A genome FASTA (plain or bgzip) read through its faidx index with htslib:
// pieces of chromosomes by 0-based half-open coordinates, as the model reads
// DNA (upper case), and their reverse complement for minus-strand regions.
//
//   Genome genome("sacCer3.fa");                    // needs sacCer3.fa.fai (+ .gzi when bgzip)
//   std::string s = genome.fetch("chrI", 100, 180);  // 80 nt, upper case
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

struct faidx_t;

namespace pf::proformer {

class Genome {
 public:
  // Opens `path` and its index. Throws pf::Error naming the file when the
  // FASTA cannot be read, has no index (HINT: samtools faidx), or its index
  // does not match it (older than the FASTA, or sequences past its end).
  explicit Genome(std::string path);
  ~Genome();
  Genome(const Genome&) = delete;
  Genome& operator=(const Genome&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& chrom) const;
  // Length of `chrom` in nt; it must exist (has()).
  int64_t length(const std::string& chrom) const;
  // Bases [start, end) of `chrom`, upper case; 0 <= start <= end <= length.
  // Throws pf::Error naming the genome when fewer bases come back.
  std::string fetch(const std::string& chrom, int64_t start, int64_t end) const;

 private:
  std::string path_;
  faidx_t* index_ = nullptr;
};

// The reverse complement of `dna` (A<->T, C<->G, N and anything else -> N).
std::string reverse_complement(std::string_view dna);

}  // namespace pf::proformer
