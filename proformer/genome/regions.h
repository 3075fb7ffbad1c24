// Promoter regions from a BED6 file (chrom, start, end, name, score, strand;
// 0-based half-open, tab or space separated), and an interval index that
// finds the regions a variant overlaps.
//
// Lines that are empty or start with '#', "track" or "browser" are skipped.
// Bad lines throw pf::Error with FILE:LINE and what was expected.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pf::proformer {

struct Region {
  std::string chrom;
  int64_t start = 0, end = 0;  // 0-based, half-open
  std::string name;
  char strand = '+';  // '+' or '-'
  int64_t line = 0;   // line of the BED file, for messages
  int64_t length() const { return end - start; }
};

// Reads every region of a BED6 file (plain or gzip).
std::vector<Region> read_bed(const std::string& path);

// The regions of each chromosome sorted by start, with the running maximum of
// their ends, so that overlaps are found by a binary search and a short scan.
class RegionIndex {
 public:
  explicit RegionIndex(const std::vector<Region>& regions);
  // Indices (into the vector given to the constructor) of the regions that
  // overlap [start, end) of `chrom`, in increasing order. An empty interval
  // (start == end) overlaps the regions that contain its position.
  std::vector<int64_t> overlapping(const std::string& chrom, int64_t start, int64_t end) const;
  // Disjoint intervals of each chromosome that cover every region (overlapping
  // regions merged), sorted by start: what an indexed VCF is queried for.
  std::vector<std::pair<int64_t, int64_t>> merged(const std::string& chrom) const;

 private:
  struct Entry {
    int64_t start, end, max_end;  // max_end: the largest end of this entry and those before it
    int64_t region;
  };
  std::map<std::string, std::vector<Entry>> by_chrom_;
};

}  // namespace pf::proformer
