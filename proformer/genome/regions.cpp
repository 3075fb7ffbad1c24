#include "proformer/genome/regions.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "core/error.h"
#include "proformer/data/reader.h"

namespace pf::proformer {

namespace {

std::vector<std::string> split_whitespace(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

int64_t parse_coordinate(const LineReader& lines, const char* column, const std::string& text) {
  int64_t value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  PF_CHECK(error == std::errc() && end == text.data() + text.size() && value >= 0, "regions", lines.where(), ": ",
           column, " '", excerpt(text), "' (expected an integer >= 0)");
  return value;
}

}  // namespace

std::vector<Region> read_bed(const std::string& path) {
  LineReader lines(path);
  std::vector<Region> regions;
  std::string line;
  while (lines.next(line)) {
    if (line.empty() || line[0] == '#' || line.rfind("track", 0) == 0 || line.rfind("browser", 0) == 0) continue;
    const std::vector<std::string> fields = split_whitespace(line);
    if (fields.empty()) continue;
    PF_CHECK(fields.size() == 6, "regions", lines.where(), ": ", fields.size(),
             " columns (expected BED6: chrom, start, end, name, score, strand)");
    Region region;
    region.chrom = fields[0];
    region.start = parse_coordinate(lines, "start", fields[1]);
    region.end = parse_coordinate(lines, "end", fields[2]);
    PF_CHECK(region.start < region.end, "regions", lines.where(), ": start ", region.start, " is not below end ",
             region.end, " (expected 0-based half-open coordinates, start < end)");
    region.name = fields[3];
    PF_CHECK(fields[5] == "+" || fields[5] == "-", "regions", lines.where(), ": strand '", excerpt(fields[5]),
             "' (expected + or -)");
    region.strand = fields[5][0];
    region.line = lines.line_number();
    regions.push_back(std::move(region));
  }
  PF_CHECK(!regions.empty(), "regions", path, ": no regions (expected BED6 lines)");
  return regions;
}

RegionIndex::RegionIndex(const std::vector<Region>& regions) {
  for (size_t i = 0; i < regions.size(); ++i)
    by_chrom_[regions[i].chrom].push_back({regions[i].start, regions[i].end, 0, int64_t(i)});
  for (auto& [chrom, entries] : by_chrom_) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.start != b.start ? a.start < b.start : a.region < b.region;
    });
    int64_t max_end = 0;
    for (Entry& e : entries) e.max_end = max_end = std::max(max_end, e.end);
  }
}

std::vector<int64_t> RegionIndex::overlapping(const std::string& chrom, int64_t start, int64_t end) const {
  std::vector<int64_t> found;
  const auto it = by_chrom_.find(chrom);
  if (it == by_chrom_.end()) return found;
  const std::vector<Entry>& entries = it->second;
  const int64_t last = std::max(end, start + 1);  // an empty interval stands for its position
  // Entries starting at or after `last` cannot overlap; walk back from there
  // while some entry at or before this one still reaches past `start`.
  auto stop = std::lower_bound(entries.begin(), entries.end(), last,
                               [](const Entry& e, int64_t value) { return e.start < value; });
  for (auto e = stop; e != entries.begin();) {
    --e;
    if (e->max_end <= start) break;
    if (e->end > start) found.push_back(e->region);
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::pair<int64_t, int64_t>> RegionIndex::merged(const std::string& chrom) const {
  std::vector<std::pair<int64_t, int64_t>> intervals;
  const auto it = by_chrom_.find(chrom);
  if (it == by_chrom_.end()) return intervals;
  for (const Entry& e : it->second) {
    if (!intervals.empty() && e.start <= intervals.back().second)
      intervals.back().second = std::max(intervals.back().second, e.end);
    else
      intervals.push_back({e.start, e.end});
  }
  return intervals;
}

}  // namespace pf::proformer
