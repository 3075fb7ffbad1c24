// Variant records from a VCF or BCF file (plain or bgzip) through htslib,
// streamed from the start or, when the file has a tabix or CSI index,
// queried interval by interval.
//
//   VcfReader vcf("calls.vcf.gz");
//   VcfRecord r;
//   while (vcf.next(r)) ...                        // every record, in file order
//   if (vcf.indexed() && vcf.query("chrI", 0, 500))  // records overlapping chrI:1-500
//     while (vcf.next(r)) ...
//
// Records are plain strings: nothing outside this file sees htslib's types.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pf::proformer {

struct VcfRecord {
  std::string chrom;
  int64_t pos = 0;                // 1-based, as in the file
  std::string id;                 // "." when the file has none
  std::string ref;                // as in the file
  std::vector<std::string> alts;  // one per alternative allele; {"."} when ALT is "."
};

class VcfReader {
 public:
  // Opens `path` and reads its header; loads its index when it has one.
  // Throws pf::Error naming the file when it is not VCF/BCF or has no header
  // (expected "##fileformat=VCF..." and a "#CHROM" line), when a bgzip file
  // has no end-of-file marker (truncated), or when its index is older than it.
  explicit VcfReader(std::string path);
  ~VcfReader();
  VcfReader(const VcfReader&) = delete;
  VcfReader& operator=(const VcfReader&) = delete;

  const std::string& path() const { return path_; }
  bool indexed() const;
  // Chromosomes of the index, in its order (that of the file when sorted).
  std::vector<std::string> indexed_chromosomes() const;
  // Restricts next() to records overlapping [start, end) (0-based) of
  // `chrom`; false when the index has no such chromosome. Needs indexed().
  bool query(const std::string& chrom, int64_t start, int64_t end);
  // The next record; false at the end of the file or of the query. Throws
  // pf::Error naming the file and the record when it cannot be read.
  bool next(VcfRecord& record);
  // Fraction of the (compressed) file read so far, in [0, 1]; 0 when unknown.
  double fraction_read() const;

 private:
  struct Handles;  // htslib's file, header, index and iterator
  std::string path_;
  std::unique_ptr<Handles> h_;
  std::string query_;    // "CHROM:FROM-TO" of the current query, for messages
  int64_t records_ = 0;  // records streamed so far
  uint64_t file_size_ = 0;
};

}  // namespace pf::proformer
