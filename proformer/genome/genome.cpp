#include "proformer/genome/genome.h"

#include <htslib/bgzf.h>
#include <htslib/faidx.h>
#include <htslib/hts_log.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace fs = std::filesystem;

namespace pf::proformer {

namespace {

// How a FASTA is stored: faidx reads plain and bgzip FASTA, not gzip.
enum class Compression { none, bgzip, gzip };

Compression compression_of(const std::string& path) {
  BGZF* file = bgzf_open(path.c_str(), "r");
  PF_CHECK(file != nullptr, "genome", path, ": cannot open (expected a FASTA file)");
  const Compression compression =
      !file->is_compressed ? Compression::none : file->is_gzip ? Compression::gzip : Compression::bgzip;
  bgzf_close(file);
  return compression;
}

bool directory_writable(const std::string& path) {
  const fs::path directory = fs::path(path).parent_path();
  return access(directory.empty() ? "." : directory.c_str(), W_OK) == 0;
}

// A fresh directory under the system's temporary directory, removed with
// its contents at scope exit.
struct TemporaryDirectory {
  fs::path path;
  TemporaryDirectory() {
    std::string name = (fs::temp_directory_path() / "pf_genome_index_XXXXXX").string();
    PF_CHECK(mkdtemp(name.data()) != nullptr, "genome", "cannot create a temporary directory for an index in ",
             fs::temp_directory_path().string());
    path = name;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
};

// faidx's index of the FASTA at `path` written to `fai` (and for a bgzip
// FASTA its block index to `gzi`).
void build_index(const std::string& path, const std::string& fai, const std::string& gzi) {
  PF_CHECK(fai_build3(path.c_str(), fai.c_str(), gzi.c_str()) == 0, "genome", path,
           ": cannot build its index into ", fai,
           " (expected a FASTA, plain or bgzip, each sequence in lines of one length)");
}

faidx_t* load_index(const std::string& path, const std::string& fai, const std::string& gzi) {
  faidx_t* index = fai_load3(path.c_str(), fai.c_str(), gzi.c_str(), 0);  // 0: build nothing
  PF_CHECK(index != nullptr, "genome", path,
           ": cannot read it with its index (expected a plain or bgzip FASTA with FASTA.fai, and FASTA.gzi when "
           "bgzip; HINT: samtools faidx ",
           path, ")");
  return index;
}

}  // namespace

void note_on_stderr(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

// An index older than its FASTA may not match it: refused rather than rebuilt,
// so that a FASTA replaced by another is noticed.
Genome::Genome(std::string path, IndexBuild build, const GenomeNote& note) : path_(std::move(path)) {
  hts_set_log_level(HTS_LOG_OFF);  // our own one-line errors replace htslib's messages
  std::error_code error;
  PF_CHECK(fs::is_regular_file(path_, error), "genome", path_, ": cannot open (expected a FASTA file)");
  const Compression compression = compression_of(path_);
  PF_CHECK(compression != Compression::gzip, "genome", path_,
           ": is compressed with gzip, which cannot be indexed (expected a plain FASTA or one compressed with bgzip)");
  const std::string fai = path_ + ".fai", gzi = path_ + ".gzi";
  if (fs::exists(fai, error)) {
    PF_CHECK(fs::last_write_time(fai, error) >= fs::last_write_time(path_, error), "genome", path_, ": index ", fai,
             " is older than the FASTA and may not match it (HINT: samtools faidx ", path_, ")");
    index_ = load_index(path_, fai, gzi);
  } else if (build == IndexBuild::beside_when_writable && directory_writable(path_)) {
    // Built under names of this process's own, then renamed: a run killed
    // meanwhile, or another one building too, leaves no half-written index.
    const std::string partial = ".tmp" + std::to_string(getpid());
    build_index(path_, fai + partial, gzi + partial);
    if (compression == Compression::bgzip) fs::rename(gzi + partial, gzi);
    fs::rename(fai + partial, fai);
    index_ = load_index(path_, fai, gzi);
    note("genome: built the index " + fai + (compression == Compression::bgzip ? " and " + gzi : ""));
  } else {
    const TemporaryDirectory temporary;
    const std::string temporary_fai = (temporary.path / "index.fai").string();
    const std::string temporary_gzi = (temporary.path / "index.gzi").string();
    build_index(path_, temporary_fai, temporary_gzi);
    index_ = load_index(path_, temporary_fai, temporary_gzi);  // read whole: the files can go
    note("genome: built the index of " + path_ + " in a temporary directory, removed once read" +
         (build == IndexBuild::temporary ? "" : " (the FASTA's directory is not writable)"));
  }
}

Genome::~Genome() { fai_destroy(index_); }

bool Genome::has(const std::string& chrom) const { return faidx_has_seq(index_, chrom.c_str()) == 1; }

std::vector<std::string> Genome::chromosomes() const {
  std::vector<std::string> names;
  for (int i = 0; i < faidx_nseq(index_); ++i) names.emplace_back(faidx_iseq(index_, i));
  return names;
}

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
