// Fuzz target: BED6 regions (proformer/genome/regions.h). The input is a BED
// file (plain, or gzip when it starts with 1f 8b) on a memfd. What read_bed
// accepts must be well formed (start < end, strand + or -), and the
// RegionIndex over it must agree with a linear scan: overlapping() gives
// exactly the regions that overlap, in increasing order, an empty interval
// the regions that contain its position, and merged() disjoint sorted
// intervals that cover every region. A pf::Error is the expected answer to
// bad input, as one short line (fuzz/error_rule.h); anything else is a bug.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "proformer/genome/regions.h"

using namespace pf::proformer;
using pf::fuzz::fail;

namespace {

constexpr size_t kMaxQueries = 64;  // regions queried per input: keeps the linear scans cheap

// The regions a linear scan finds for [start, end) of `chrom` (an empty
// interval: those containing `start`).
std::vector<int64_t> scan(const std::vector<Region>& regions, const std::string& chrom, int64_t start, int64_t end) {
  std::vector<int64_t> found;
  for (size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    const bool hit = start == end ? r.start <= start && start < r.end : r.start < end && start < r.end;
    if (r.chrom == chrom && hit) found.push_back(int64_t(i));
  }
  return found;
}

void check_merged(const RegionIndex& index, const std::vector<Region>& regions, const std::string& chrom) {
  const std::vector<std::pair<int64_t, int64_t>> merged = index.merged(chrom);
  for (size_t k = 0; k < merged.size(); ++k) {
    if (merged[k].first >= merged[k].second) fail("fuzz_bed", "merged: an empty interval");
    if (k > 0 && merged[k - 1].second > merged[k].first) fail("fuzz_bed", "merged: intervals overlap or are unsorted");
  }
  for (const Region& r : regions) {
    if (r.chrom != chrom) continue;
    const bool covered = std::any_of(merged.begin(), merged.end(),
                                     [&](const auto& m) { return m.first <= r.start && r.end <= m.second; });
    if (!covered) fail("fuzz_bed", "merged: a region is not covered");
  }
}

void check_regions(const std::vector<Region>& regions) {
  for (const Region& r : regions)
    if (!(r.start >= 0 && r.start < r.end && (r.strand == '+' || r.strand == '-')))
      fail("fuzz_bed", "read_bed accepted a malformed region");
  const RegionIndex index(regions);
  for (size_t i = 0; i < std::min(regions.size(), kMaxQueries); ++i) {
    const Region& r = regions[i];
    for (const auto& [start, end] : {std::pair{r.start, r.end}, std::pair{r.start, r.start}, std::pair{r.end, r.end}})
      if (index.overlapping(r.chrom, start, end) != scan(regions, r.chrom, start, end))
        fail("fuzz_bed", "RegionIndex::overlapping differs from a linear scan");
    check_merged(index, regions, r.chrom);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  file.set(data, size);
  std::vector<Region> regions;
  if (pf::fuzz::ok_or_error([&] { regions = read_bed(file.path()); })) check_regions(regions);
  return 0;
}
