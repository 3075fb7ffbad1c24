#include "proformer/data/dataset.h"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "proformer/data/reader.h"

namespace pf::proformer {
namespace {

// ---- building from a TSV ----

// Lines read before the vectors are reserved from the mean line length.
constexpr int64_t kSizeSampleLines = 1000;

// Reserves room for the whole file once its first lines show the mean line
// length, so the 6.7 M-row file is not copied again and again while the
// vectors grow. Only uncompressed files have a known total size; gzip and
// stdin input grow geometrically instead.
void reserve_for_file(EncodedDataset& data, const LineReader& lines) {
  const std::optional<uint64_t> file_bytes = lines.plain_file_size();
  if (!file_bytes || lines.bytes_read() == 0) return;
  const double bytes_per_line = double(lines.bytes_read()) / double(lines.line_number());
  const auto rows = int64_t(1.02 * double(*file_bytes) / bytes_per_line) + 1;  // 2% slack for longer lines
  data.tokens.reserve(size_t(rows * data.row_tokens()));
  data.labels.reserve(size_t(rows));
}

// ---- binary cache ----

static_assert(std::endian::native == std::endian::little, "the dataset cache is written little-endian");

constexpr char kCacheMagic[8] = {'P', 'F', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr uint32_t kCacheVersion = 1;

struct CacheHeader {
  char magic[8];
  uint32_t version;
  uint32_t seq_len;
  int64_t rows;
  int64_t dropped_too_long;
};
static_assert(sizeof(CacheHeader) == 32, "CacheHeader must have no padding");

// Bytes per row in the cache: 2 * seq_len tokens and one float label.
uint64_t cache_row_bytes(uint32_t seq_len) { return 2 * uint64_t(seq_len) + sizeof(float); }

template <typename T>
void write_bytes(std::ofstream& out, const T* data, size_t count) {
  out.write(reinterpret_cast<const char*>(data), std::streamsize(count * sizeof(T)));
}

template <typename T>
void read_bytes(std::ifstream& in, T* data, size_t count) {
  in.read(reinterpret_cast<char*>(data), std::streamsize(count * sizeof(T)));
}

}  // namespace

EncodedDataset EncodedDataset::from_tsv(const std::string& path, int seq_len) {
  PF_CHECK(seq_len > 0, "EncodedDataset::from_tsv", "seq_len = ", seq_len, " (expected > 0)");
  EncodedDataset data;
  data.seq_len = seq_len;
  TrainingTsvReader reader(path);
  TrainingRecord record;
  for (int64_t records = 1; reader.next(record); ++records) {
    if (records == kSizeSampleLines) reserve_for_file(data, reader.lines());
    const std::string_view trimmed = strip_flanks(record.sequence);
    if (trimmed.size() > size_t(seq_len)) {
      ++data.dropped_too_long;
      continue;
    }
    if (trimmed.empty())
      PF_FAIL("read DREAM training file", reader.lines().where(),
              ": empty sequence once the flanks are removed (expected 1 to ", seq_len, " nt between them)");
    const size_t offset = data.tokens.size();
    data.tokens.resize(offset + size_t(data.row_tokens()));
    encode_promoter(trimmed, seq_len, data.tokens.data() + offset);  // [2 * seq_len]
    data.labels.push_back(record.expression);
  }
  return data;
}

void EncodedDataset::save_cache(const std::string& path) const {
  constexpr const char* op = "save dataset cache";
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    PF_CHECK(out.is_open(), op, temp, ": cannot open for writing (", std::strerror(errno), ")");
    CacheHeader header{};
    std::memcpy(header.magic, kCacheMagic, sizeof kCacheMagic);
    header.version = kCacheVersion;
    header.seq_len = uint32_t(seq_len);
    header.rows = size();
    header.dropped_too_long = dropped_too_long;
    write_bytes(out, &header, 1);
    write_bytes(out, tokens.data(), tokens.size());
    write_bytes(out, labels.data(), labels.size());
    out.close();
    if (!out) {
      std::filesystem::remove(temp);
      PF_FAIL(op, temp, ": write failed (", std::strerror(errno), ")");
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    std::filesystem::remove(temp);
    PF_FAIL(op, path, ": cannot rename ", temp, " to it (", error.message(), ")");
  }
}

EncodedDataset EncodedDataset::load_cache(const std::string& path) {
  constexpr const char* op = "load dataset cache";
  std::error_code error;
  const uint64_t file_bytes = std::filesystem::file_size(path, error);
  PF_CHECK(!error, op, path, ": cannot read (", error.message(), ")");
  PF_CHECK(file_bytes >= sizeof(CacheHeader), op, path, ": ", file_bytes,
           " bytes, too small for a dataset cache (expected at least ", sizeof(CacheHeader), ")");

  std::ifstream in(path, std::ios::binary);
  PF_CHECK(in.is_open(), op, path, ": cannot open (", std::strerror(errno), ")");
  CacheHeader header{};
  read_bytes(in, &header, 1);
  PF_CHECK(std::memcmp(header.magic, kCacheMagic, sizeof kCacheMagic) == 0, op, path,
           ": not a dataset cache (expected the magic bytes \"PFTOKENS\")");
  PF_CHECK(header.version == kCacheVersion, op, path, ": cache version ", header.version, " (expected ",
           kCacheVersion, ")");
  PF_CHECK(header.seq_len > 0 && header.seq_len <= (1u << 30) && header.rows >= 0 && header.dropped_too_long >= 0,
           op, path, ": corrupt header (seq_len ", header.seq_len, ", N ", header.rows, ")");
  // Compare by division first so a corrupt N cannot overflow the product.
  const uint64_t payload = file_bytes - sizeof(CacheHeader);
  const uint64_t row_bytes = cache_row_bytes(header.seq_len);
  const auto rows = uint64_t(header.rows);
  PF_CHECK(rows <= payload / row_bytes && rows * row_bytes == payload, op, path, ": ", file_bytes,
           " bytes (expected ", sizeof(CacheHeader), " + N * ", row_bytes, " for N = ", rows, ", seq_len = ",
           header.seq_len, "): truncated or corrupt");

  EncodedDataset data;
  data.seq_len = int(header.seq_len);
  data.dropped_too_long = header.dropped_too_long;
  data.tokens.resize(size_t(rows) * size_t(data.row_tokens()));
  data.labels.resize(size_t(rows));
  read_bytes(in, data.tokens.data(), data.tokens.size());
  read_bytes(in, data.labels.data(), data.labels.size());
  PF_CHECK(in.good(), op, path, ": read failed (", std::strerror(errno), ")");
  return data;
}

LabelStats label_stats(const std::vector<float>& labels, const std::vector<int64_t>& indices) {
  PF_CHECK(!indices.empty(), "label_stats", "no labels (expected at least one index)");
  // Two passes in double: the mean first, then the squared deviations from it.
  double sum = 0;
  for (int64_t i : indices) sum += labels.at(size_t(i));
  const double mean = sum / double(indices.size());
  double squares = 0;
  for (int64_t i : indices) squares += (labels[size_t(i)] - mean) * (labels[size_t(i)] - mean);
  const double deviation = std::sqrt(squares / double(indices.size()));
  PF_CHECK(deviation > 0, "label_stats", "all ", indices.size(), " labels equal ", mean,
           " (expected some variance to z-score them)");
  return LabelStats{mean, deviation};
}

void shuffle_indices(std::vector<int64_t>& indices, Generator& gen) {
  for (size_t i = indices.size(); i > 1; --i) std::swap(indices[i - 1], indices[gen.below(i)]);
}

TrainValSplit split_train_val(int64_t n, double val_fraction, uint64_t seed) {
  PF_CHECK(n >= 0, "split_train_val", "n = ", n, " (expected >= 0)");
  PF_CHECK(val_fraction >= 0 && val_fraction < 1, "split_train_val", "val_fraction = ", val_fraction,
           " (expected 0 <= val_fraction < 1)");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Generator gen(seed);
  shuffle_indices(order, gen);
  // The tolerance keeps products like 0.07 * 100 = 7.000000000000001 from rounding up to 8.
  const auto n_val = int64_t(std::ceil(val_fraction * double(n) - 1e-9));
  TrainValSplit split;
  split.train.assign(order.begin(), order.end() - n_val);
  split.val.assign(order.end() - n_val, order.end());
  return split;
}

}  // namespace pf::proformer
