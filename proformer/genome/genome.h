// A genome FASTA (plain or bgzip) read through its faidx index with htslib:
// pieces of chromosomes by 0-based half-open coordinates, as the model reads
// DNA (upper case), and their reverse complement for minus-strand regions.
// A FASTA without its index gets one built (see IndexBuild), said in one line.
//
//   Genome genome("sacCer3.fa");                    // reads sacCer3.fa.fai (+ .gzi when bgzip), or builds it
//   std::string s = genome.fetch("chrI", 100, 180);  // 80 nt, upper case
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct faidx_t;

namespace pf::proformer {

// Where the index of a FASTA that has none is built.
enum class IndexBuild {
  // FASTA.fai (and FASTA.gzi when bgzip) beside the FASTA, kept for the next
  // run, when the FASTA's directory is writable; else as `temporary`.
  beside_when_writable,
  // In a temporary directory, removed once the index is read: nothing is
  // written beside the FASTA.
  temporary,
};

// Receives the one line that says an index was built ("genome: built ...").
using GenomeNote = std::function<void(const std::string& line)>;
// The default GenomeNote: the line and a newline on stderr.
void note_on_stderr(const std::string& line);

class Genome {
 public:
  // Opens `path` and its index, building the index where `build` says when
  // there is none and telling `note`. Throws pf::Error naming the file when
  // the FASTA cannot be read or indexed (gzip that is not bgzip, lines of
  // unequal length), or its index does not match it (older than the FASTA,
  // or sequences past its end).
  explicit Genome(std::string path, IndexBuild build = IndexBuild::beside_when_writable,
                  const GenomeNote& note = note_on_stderr);
  ~Genome();
  Genome(const Genome&) = delete;
  Genome& operator=(const Genome&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& chrom) const;
  // The names of the chromosomes, in the FASTA's order.
  std::vector<std::string> chromosomes() const;
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
