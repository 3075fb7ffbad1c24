// Fuzz target: the sequence readers of proformer/data/reader.h and the encoding
// of proformer/data/sequence.h, on one input file (plain, or gzip when it starts
// with 1f 8b) written to a memfd:
//   - LineReader, line by line (and the line count and byte count it reports);
//   - EncodedDataset::from_tsv, pf-train's path: TrainingTsvReader, then
//     strip_flanks and encode_promoter on every accepted promoter;
//   - SequenceReader in each InputFormat (kAuto, kFasta, kTsv, kLines), then
//     unpredictable_reason (find_invalid_base, strip_flanks, the length) and
//     encode_promoter on every valid record, as pf-infer does;
//   - EncodedDataset::load_cache, the binary token cache.
// A pf::Error is the expected answer to bad input, as one short line
// (fuzz/error_rule.h). Anything else is a bug: a
// crash, an ASan/UBSan report, another exception type, a timeout, an
// allocation over -rss_limit_mb, or an encoding that breaks its contract
// (checked below).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "proformer/data/dataset.h"
#include "proformer/inference/inference.h"
#include "proformer/data/reader.h"
#include "proformer/data/sequence.h"

using namespace pf::proformer;

namespace {

[[noreturn]] void fail(const char* what) { pf::fuzz::fail("fuzz_reader", what); }

// encode_promoter's contract: tokens kA..kN only, the second half the
// reverse complement of the first.
void check_encoding(const uint8_t* tokens, int seq_len) {
  for (int j = 0; j < seq_len; ++j) {
    const uint8_t forward = tokens[seq_len - 1 - j], reverse = tokens[seq_len + j];
    if (forward > kN || reverse > kN) fail("encode_promoter wrote a token outside kA..kN");
    if (reverse != (forward == kN ? uint8_t(kN) : uint8_t(kT - forward)))
      fail("encode_promoter: second half is not the reverse complement");
  }
}

// Every line, and the counts LineReader reports: for plain input, one line per
// '\n' (plus an unterminated last line) and every byte consumed.
void read_lines(const std::string& path, const uint8_t* data, size_t size) {
  LineReader lines(path);
  std::string line;
  int64_t count = 0;
  while (lines.next(line)) {
    ++count;
    if (line.find('\n') != std::string::npos) fail("LineReader returned a line with '\\n' in it");
  }
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (gzip) return;
  int64_t newlines = 0;
  for (size_t i = 0; i < size; ++i) newlines += data[i] == '\n';
  const int64_t expected = newlines + (size > 0 && data[size - 1] != '\n');
  if (count != expected || lines.line_number() != expected) fail("LineReader: wrong number of lines");
  if (lines.bytes_read() != size) fail("LineReader: bytes_read() differs from the file size");
}

void read_training(const std::string& path) {
  const EncodedDataset data = EncodedDataset::from_tsv(path, kSeqLen);
  if (data.tokens.size() != data.labels.size() * size_t(data.row_tokens())) fail("from_tsv: tokens and labels differ");
  for (int64_t i = 0; i < data.size(); ++i) check_encoding(data.row(i), data.seq_len);
}

void read_sequences(const std::string& path, InputFormat format) {
  SequenceReader reader(path, format);
  SequenceRecord record;
  std::vector<uint8_t> tokens(2 * kSeqLen);
  while (reader.next(record)) {
    if (!unpredictable_reason(record.sequence, kSeqLen).empty()) continue;
    encode_promoter(strip_flanks(record.sequence), kSeqLen, tokens.data());
    check_encoding(tokens.data(), kSeqLen);
  }
}

void read_cache(const std::string& path) {
  const EncodedDataset data = EncodedDataset::load_cache(path);
  if (data.tokens.size() != data.labels.size() * size_t(data.row_tokens())) fail("load_cache: tokens and labels differ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  file.set(data, size);
  const std::string& path = file.path();
  pf::fuzz::ok_or_error([&] { read_lines(path, data, size); });
  pf::fuzz::ok_or_error([&] { read_training(path); });
  for (InputFormat format : {InputFormat::kAuto, InputFormat::kFasta, InputFormat::kTsv, InputFormat::kLines})
    pf::fuzz::ok_or_error([&] { read_sequences(path, format); });
  pf::fuzz::ok_or_error([&] { read_cache(path); });
  return 0;
}
