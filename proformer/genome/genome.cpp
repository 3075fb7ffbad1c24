#include "proformer/genome/genome.h"

#include <htslib/faidx.h>
#include <htslib/hts_log.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace fs = std::filesystem;

namespace pf::proformer {

namespace {

// The index faidx reads: FASTA.fai, and for a bgzip FASTA also FASTA.gzi.
void check_index_matches(const std::string& path) {
  const std::string fai = path + ".fai";
  std::error_code error;
  PF_CHECK(fs::exists(fai, error), "genome", path, ": no index ", fai,
           " (expected a faidx index next to the FASTA; HINT: samtools faidx ", path, ")");
  PF_CHECK(fs::last_write_time(fai, error) >= fs::last_write_time(path, error), "genome", path, ": index ", fai,
           " is older than the FASTA and may not match it (HINT: samtools faidx ", path, ")");
}

}  // namespace

Genome::Genome(std::string path) : path_(std::move(path)) {
  hts_set_log_level(HTS_LOG_OFF);  // our own one-line errors replace htslib's messages
  std::error_code error;
  PF_CHECK(fs::is_regular_file(path_, error), "genome", path_, ": cannot open (expected a FASTA file)");
  check_index_matches(path_);
  index_ = fai_load3(path_.c_str(), nullptr, nullptr, 0);  // 0: never build an index behind the user's back
  PF_CHECK(index_ != nullptr, "genome", path_,
           ": cannot read it with its index (expected a plain or bgzip FASTA with FASTA.fai, and FASTA.gzi when "
           "bgzip; HINT: samtools faidx ",
           path_, ")");
}

Genome::~Genome() { fai_destroy(index_); }

bool Genome::has(const std::string& chrom) const { return faidx_has_seq(index_, chrom.c_str()) == 1; }

// faidx_seq_len returns int: htslib 1.16 has no 64-bit variant.
int64_t Genome::length(const std::string& chrom) const { return faidx_seq_len(index_, chrom.c_str()); }

std::string Genome::fetch(const std::string& chrom, int64_t start, int64_t end) const {
  if (start == end) return "";
  hts_pos_t got = 0;
  // faidx takes 0-based inclusive coordinates.
  std::unique_ptr<char, decltype(&std::free)> bases(faidx_fetch_seq64(index_, chrom.c_str(), start, end - 1, &got),
                                                    &std::free);
  PF_CHECK(bases != nullptr && got == end - start, "genome", path_, ": ", excerpt(chrom), ":", start + 1, "-", end,
           ": read ", (bases ? got : 0), " of ", end - start,
           " nt (expected the index to match the FASTA; HINT: samtools faidx ", path_, ")");
  std::string out(bases.get(), size_t(got));
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string reverse_complement(std::string_view dna) {
  std::string out(dna.size(), 'N');
  for (size_t i = 0; i < dna.size(); ++i) {
    const char c = char(std::toupper(static_cast<unsigned char>(dna[dna.size() - 1 - i])));
    out[i] = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : c == 'T' ? 'A' : 'N';
  }
  return out;
}

}  // namespace pf::proformer
