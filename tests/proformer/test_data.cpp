// Tests of the DREAM data pipeline: encoding, readers, dataset and cache,
// split, masking, batch stream and prefetching.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "proformer/data/batches.h"
#include "proformer/data/dataset.h"
#include "proformer/data/prefetcher.h"
#include "proformer/data/reader.h"
#include "proformer/data/sequence.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf::proformer;
using namespace pf::test;

namespace {

const std::string kDemoTrain = std::string(PF_SOURCE_DIR) + "/data/demo/demo_train.txt";

// Tokens as letters, for readable expectations: A C G T N M.
std::string letters(const uint8_t* tokens, size_t n) {
  std::string text(n, '?');
  for (size_t i = 0; i < n; ++i) text[i] = "ACGTNM"[tokens[i]];
  return text;
}

std::string encode_letters(const std::string& trimmed, int seq_len) {
  std::vector<uint8_t> tokens(2 * size_t(seq_len));
  encode_promoter(trimmed, seq_len, tokens.data());
  return letters(tokens.data(), tokens.size());
}

// n rows of seq_len 100 whose label is the row index, so labels_z (with mean 0,
// std 1) tells which rows a batch holds. Row i has a few N tokens.
EncodedDataset numbered_dataset(int64_t n) {
  EncodedDataset data;
  data.tokens.resize(size_t(n * data.row_tokens()));
  for (size_t i = 0; i < data.tokens.size(); ++i) data.tokens[i] = uint8_t((i * 7 + i / 200) % 5);
  data.labels.resize(size_t(n));
  std::iota(data.labels.begin(), data.labels.end(), 0.0f);
  return data;
}

void check_same_batch(const Batch& a, const Batch& b) {
  CHECK(a.position == b.position);
  CHECK(a.size == b.size);
  CHECK(a.row_tokens == b.row_tokens);
  CHECK(a.tokens == b.tokens);
  CHECK(a.targets == b.targets);
  CHECK(a.mask == b.mask);
  CHECK(a.labels_z == b.labels_z);
}

}  // namespace

TEST_CASE("data: encode_promoter centres with N and appends the reverse complement") {
  // L = 3 (odd): left pad (10 - 3) / 2 = 3, right pad 4.
  CHECK(encode_letters("ACG", 10) == "NNNACGNNNN" "NNNNCGTNNN");
  // L = 4 (even): pads 3 and 3.
  CHECK(encode_letters("AACG", 10) == "NNNAACGNNN" "NNNCGTTNNN");
  // L = seq_len: no padding; lower case is accepted; N complements to N.
  CHECK(encode_letters("acgtnacgta", 10) == "ACGTNACGTA" "TACGTNACGT");
  // Default model length: 80 nt get 10 N on each side.
  const std::string eighty(80, 'C');
  CHECK(encode_letters(eighty, kSeqLen) ==
        std::string(10, 'N') + eighty + std::string(20, 'N') + std::string(80, 'G') + std::string(10, 'N'));

  std::vector<uint8_t> out(20);
  CHECK(contains(error_of([&] { encode_promoter("", 10, out.data()); }), "empty sequence"));
  CHECK(contains(error_of([&] { encode_promoter("ACGTACGTACG", 10, out.data()); }), "11 nt"));
  CHECK(contains(error_of([&] { encode_promoter("ACXG", 10, out.data()); }), "'X' at position 2"));
}

TEST_CASE("data: strip_flanks and base validation") {
  const std::string core = "ACGTN";
  CHECK(strip_flanks(std::string(kFlank5) + core + std::string(kFlank3)) == core);
  CHECK(strip_flanks(std::string(kFlank5) + core) == core);
  CHECK(strip_flanks(core + std::string(kFlank3)) == core);
  CHECK(strip_flanks(core) == core);
  CHECK(strip_flanks("tgcatttttttcacatcACGTggttacggctgtt") == "ACGT");
  CHECK(strip_flanks(kFlank5.substr(1)) == kFlank5.substr(1));  // too short to hold the flank

  CHECK(find_invalid_base("ACGTNacgtn") == std::string_view::npos);
  CHECK(find_invalid_base("ACGU") == 3);
  CHECK(token_of('g') == kG);
  CHECK(token_of('-') == -1);
  CHECK(describe_char('\t') == "'\\x09'");
}

TEST_CASE("data: demo_train.txt has 6,370 lines, 3 too long, 6,367 encoded") {
  const EncodedDataset data = EncodedDataset::from_tsv(kDemoTrain);
  CHECK(data.size() == 6367);
  CHECK(data.dropped_too_long == 3);
  CHECK(data.size() + data.dropped_too_long == 6370);
  CHECK(data.tokens.size() == 6367u * 200u);
  // Line 1: 110 nt with flanks -> 80 nt -> 10 N, then "CTTCAACC...".
  CHECK(letters(data.row(0), 14) == "NNNNNNNNNNCTTC");
  CHECK(data.labels[0] == doctest::Approx(15.1823836007871));
  CHECK(data.labels[1] == 12.0f);
}

TEST_CASE("data: gzip input reads the same as plain text") {
  TempDir dir;
  const std::string gz = dir.file("train.txt.gz");
  write_gzip(gz, read_text(kDemoTrain));
  const EncodedDataset plain = EncodedDataset::from_tsv(kDemoTrain);
  const EncodedDataset zipped = EncodedDataset::from_tsv(gz);
  CHECK(zipped.tokens == plain.tokens);
  CHECK(zipped.labels == plain.labels);
  CHECK(zipped.dropped_too_long == plain.dropped_too_long);

  LineReader plain_lines(kDemoTrain), zipped_lines(gz);
  CHECK(plain_lines.plain_file_size().has_value());
  CHECK_FALSE(zipped_lines.plain_file_size().has_value());
}

TEST_CASE("data: a truncated gzip file is an error naming the file") {
  TempDir dir;
  const std::string gz = dir.file("cut.txt.gz");
  write_gzip(gz, read_text(kDemoTrain));
  fs::resize_file(gz, fs::file_size(gz) / 2);
  const std::string message = error_of([&] { EncodedDataset::from_tsv(gz); });
  CHECK(contains(message, gz));
  CHECK(contains(message, "unexpected end of file"));

  // Cutting only the 8-byte trailer (CRC and length) is caught too.
  write_gzip(gz, "ACGT\t1\n");
  fs::resize_file(gz, fs::file_size(gz) - 4);
  CHECK(contains(error_of([&] { EncodedDataset::from_tsv(gz); }), gz));
}

TEST_CASE("data: LineReader handles CRLF, long lines and a missing final newline") {
  TempDir dir;
  const std::string path = dir.file("lines.txt");
  const std::string longest(200000, 'A');  // several read chunks
  write_text(path, "one\r\n\r\n" + longest + "\nlast\r");
  LineReader lines(path);
  std::string line;
  REQUIRE(lines.next(line));
  CHECK(line == "one");
  REQUIRE(lines.next(line));
  CHECK(line.empty());
  REQUIRE(lines.next(line));
  CHECK(line == longest);
  REQUIRE(lines.next(line));
  CHECK(line == "last");
  CHECK(lines.where() == path + ":4");
  CHECK_FALSE(lines.next(line));
  CHECK(contains(error_of([&] { LineReader missing(dir.file("absent.txt")); }), "absent.txt: cannot open"));
}

// Excel and some Windows tools start a text file with a UTF-8 byte-order mark;
// it was read as part of the first sequence ("invalid character '\xef'").
TEST_CASE("data: a UTF-8 byte-order mark at the start of a file is skipped") {
  TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  const std::string train = dir.file("bom.txt");
  write_text(train, bom + read_text(kDemoTrain));
  const EncodedDataset a = EncodedDataset::from_tsv(kDemoTrain), b = EncodedDataset::from_tsv(train);
  CHECK(a.tokens == b.tokens);
  CHECK(a.labels == b.labels);

  const std::string fasta = dir.file("bom.fa"), gz_lines = dir.file("bom.txt.gz");
  write_text(fasta, bom + ">first\nACGT\n");
  write_gzip(gz_lines, bom + "ACGT\n");
  for (const std::string& path : {fasta, gz_lines}) {
    SequenceReader reader(path);
    SequenceRecord record;
    REQUIRE(reader.next(record));
    CHECK(record.sequence == "ACGT");
  }
  // Only at the start: a mark inside the data is still an error.
  write_text(train, "ACGT\t1\n" + bom + "ACGT\t2\n");
  CHECK(contains(error_of([&] { EncodedDataset::from_tsv(train); }), train + ":2: invalid character"));
}

TEST_CASE("data: CRLF training files give the same dataset") {
  TempDir dir;
  const std::string text = read_text(kDemoTrain);
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const std::string path = dir.file("crlf.txt");
  write_text(path, crlf);
  const EncodedDataset a = EncodedDataset::from_tsv(kDemoTrain), b = EncodedDataset::from_tsv(path);
  CHECK(a.tokens == b.tokens);
  CHECK(a.labels == b.labels);
}

TEST_CASE("data: training file errors name FILE:LINE and what was expected") {
  TempDir dir;
  const std::string path = dir.file("bad.txt");
  auto error_for = [&](const std::string& text) {
    write_text(path, text);
    return error_of([&] { EncodedDataset::from_tsv(path); });
  };
  const std::string bad_char = error_for("ACGT\t1\n\nACGT\t2\nACXT\t3\n");
  CHECK(contains(bad_char, path + ":4: invalid character 'X' at column 3 (expected A, C, G, T or N)"));
  CHECK(contains(error_for("ACGT\t1\nACGT\tabc\n"), path + ":2: non-numeric expression label 'abc'"));
  CHECK(contains(error_for("ACGT\t1.5x\n"), path + ":1: non-numeric expression label"));
  CHECK(contains(error_for("ACGT\t1\nACGT\n"),
                 path + ":2: missing expression label (expected SEQUENCE<TAB>EXPRESSION)"));
  CHECK(contains(error_for("ACGT\t\n"), path + ":1: missing expression label"));
  CHECK(contains(error_for("ACGT\t1\t2\n"), path + ":1: more than two columns"));
  CHECK(contains(error_for(std::string(kFlank5) + std::string(kFlank3) + "\t1\n"), path + ":1: empty sequence"));
}

TEST_CASE("data: inference input as FASTA, DREAM txt/tsv or one sequence per line") {
  TempDir dir;
  auto read_all = [](const std::string& path, InputFormat format = InputFormat::kAuto) {
    SequenceReader reader(path, format);
    std::vector<SequenceRecord> records;
    SequenceRecord record;
    while (reader.next(record)) records.push_back(record);
    return records;
  };

  const std::string fasta = dir.file("in.fa");
  write_text(fasta, "\n>first promoter one\r\nACGT\r\nacgn\n\n>second\nTTTT\n");
  auto records = read_all(fasta);
  REQUIRE(records.size() == 2);
  CHECK(records[0].id == "first");
  CHECK(records[0].sequence == "ACGTacgn");
  CHECK(records[0].line == 2);
  CHECK(records[1].id == "second");
  CHECK(records[1].sequence == "TTTT");
  CHECK(records[1].line == 6);

  const std::string tsv = dir.file("in.tsv");
  write_text(tsv, "ACGT\t1.0\n\nGGGG\t2.0\n");
  records = read_all(tsv);
  REQUIRE(records.size() == 2);
  CHECK(records[1].id == "1");
  CHECK(records[1].sequence == "GGGG");
  CHECK(records[1].line == 3);

  const std::string gz_lines = dir.file("in.txt.gz");
  write_gzip(gz_lines, "ACGT\nCCCC\nGGGG");
  records = read_all(gz_lines);
  REQUIRE(records.size() == 3);
  CHECK(records[2].id == "2");
  CHECK(records[2].sequence == "GGGG");

  const std::string plain = dir.file("plain.txt");
  write_text(plain, "ACGT\n>late\nACGT\n");
  records = read_all(plain);  // characters are checked by the caller (run_inference), not the reader
  REQUIRE(records.size() == 3);
  CHECK(records[1].sequence == ">late");
  CHECK(contains(error_of([&] { read_all(plain, InputFormat::kFasta); }),
                 plain + ":1: sequence line before any header"));
  write_text(fasta, ">a\nACGT\nAC GT\n");
  records = read_all(fasta);
  REQUIRE(records.size() == 1);
  CHECK(records[0].sequence == "ACGTAC GT");
  write_text(fasta, ">a\n>b\nACGT\n");
  CHECK(contains(error_of([&] { read_all(fasta); }), fasta + ":1: record 'a' has no sequence"));
  write_text(fasta, "> a\nACGT\n");
  CHECK(contains(error_of([&] { read_all(fasta); }), fasta + ":1: empty header"));
}

TEST_CASE("data: dataset cache round trip and corrupt caches") {
  TempDir dir;
  const EncodedDataset data = EncodedDataset::from_tsv(kDemoTrain);
  const std::string cache = dir.file("demo.cache");
  data.save_cache(cache);
  CHECK_FALSE(fs::exists(cache + ".tmp"));
  const EncodedDataset loaded = EncodedDataset::load_cache(cache);
  CHECK(loaded.seq_len == data.seq_len);
  CHECK(loaded.tokens == data.tokens);
  CHECK(loaded.labels == data.labels);
  CHECK(loaded.dropped_too_long == 3);

  fs::resize_file(cache, fs::file_size(cache) - 1);
  CHECK(contains(error_of([&] { EncodedDataset::load_cache(cache); }), cache + ": "));
  CHECK(contains(error_of([&] { EncodedDataset::load_cache(cache); }), "truncated or corrupt"));
  CHECK(contains(error_of([&] { EncodedDataset::load_cache(kDemoTrain); }), "not a dataset cache"));
  CHECK(contains(error_of([&] { EncodedDataset::load_cache(dir.file("none")); }), "none: cannot read"));
}

TEST_CASE("data: label statistics and z-scores") {
  const std::vector<float> labels = {1, 2, 3, 4, 100};
  const LabelStats stats = label_stats(labels, {0, 1, 2, 3});
  CHECK(stats.mean == doctest::Approx(2.5));
  CHECK(stats.std == doctest::Approx(std::sqrt(1.25)));
  CHECK(stats.zscore(2.5f) == doctest::Approx(0.0));
  CHECK(stats.unzscore(stats.zscore(3.7f)) == doctest::Approx(3.7));
  CHECK(contains(error_of([&] { label_stats(labels, {4}); }), "labels equal"));
  CHECK(contains(error_of([&] { label_stats(labels, {}); }), "no labels"));
}

TEST_CASE("data: split_train_val is a deterministic seeded partition") {
  const TrainValSplit split = split_train_val(1000, 0.05, 42);
  CHECK(split.train.size() == 950);
  CHECK(split.val.size() == 50);
  std::vector<int64_t> all = split.train;
  all.insert(all.end(), split.val.begin(), split.val.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), int64_t{0});
  CHECK(all == expected);

  CHECK(split_train_val(1000, 0.05, 42).val == split.val);
  CHECK(split_train_val(1000, 0.05, 43).val != split.val);
  CHECK(split_train_val(101, 0.05, 1).val.size() == 6);   // ceil(5.05)
  CHECK(split_train_val(100, 0.07, 1).val.size() == 7);   // 0.07 * 100 is 7.000000000000001 in double
  CHECK(split_train_val(10, 0.0, 1).val.empty());
  CHECK(contains(error_of([] { split_train_val(10, 1.0, 1); }), "val_fraction"));
}

TEST_CASE("data: masking hits about 5% of nucleotides and never N") {
  const EncodedDataset data = EncodedDataset::from_tsv(kDemoTrain);
  const auto n = int64_t(data.tokens.size());
  std::vector<uint8_t> masked(static_cast<size_t>(n));
  std::vector<float> mask(static_cast<size_t>(n));
  pf::Generator gen(7);
  mask_tokens(data.tokens.data(), n, 0.05, gen, masked.data(), mask.data());
  CHECK(gen.offset == uint64_t(n));

  int64_t nucleotides = 0, hits = 0, masked_n = 0, wrong_output = 0;
  for (size_t i = 0; i < size_t(n); ++i) {
    const bool is_masked = mask[i] == 1.0f;
    const bool is_n = data.tokens[i] == kN;
    masked_n += is_n && is_masked;
    nucleotides += !is_n;
    hits += is_masked;
    wrong_output += masked[i] != (is_masked ? uint8_t(kMask) : data.tokens[i]);
  }
  CHECK(masked_n == 0);
  CHECK(wrong_output == 0);
  // ~1 M nucleotides: the standard error of the rate is about 0.0002.
  CHECK(double(hits) / double(nucleotides) == doctest::Approx(0.05).epsilon(0.02));

  pf::Generator again(7);
  std::vector<uint8_t> masked_again(static_cast<size_t>(n));
  mask_tokens(data.tokens.data(), n, 0.05, again, masked_again.data(), mask.data());
  CHECK(masked_again == masked);
}

TEST_CASE("data: batch order is deterministic per (seed, epoch) and resumable") {
  const EncodedDataset data = numbered_dataset(100);
  std::vector<int64_t> indices(100);
  std::iota(indices.begin(), indices.end(), int64_t{0});
  const LabelStats identity{0, 1};  // labels_z == row index
  BatchOptions options;
  options.batch_size = 32;
  options.seed = 5;
  options.mask_prob = 0.2;

  BatchIterator train(data, indices, identity, options);
  CHECK(train.batches_per_epoch() == 3);  // 100 / 32, last partial batch dropped
  std::vector<Batch> stream;
  for (int i = 0; i < 9; ++i) stream.push_back(train.next());
  CHECK(train.position() == BatchPosition{3, 0});
  CHECK(stream[4].position == BatchPosition{1, 1});
  CHECK(stream[0].labels_z != stream[3].labels_z);  // each epoch has its own order

  for (const Batch& batch : stream) {
    CHECK(batch.size == 32);
    for (size_t b = 0; b < size_t(batch.size); ++b) {
      const auto row = size_t(batch.labels_z[b]);
      CHECK(std::equal(batch.targets.begin() + long(b * 200), batch.targets.begin() + long((b + 1) * 200),
                       data.row(int64_t(row))));
    }
    int64_t wrong_tokens = 0;
    for (size_t i = 0; i < batch.tokens.size(); ++i)
      wrong_tokens += batch.tokens[i] != (batch.mask[i] == 1.0f ? uint8_t(kMask) : batch.targets[i]);
    CHECK(wrong_tokens == 0);
  }

  BatchIterator same(data, indices, identity, options);
  for (const Batch& expected : stream) check_same_batch(same.next(), expected);

  BatchIterator resumed(data, indices, identity, options, BatchPosition{1, 2});
  for (size_t i = 5; i < stream.size(); ++i) check_same_batch(resumed.next(), stream[i]);

  options.seed = 6;
  CHECK(BatchIterator(data, indices, identity, options).next().labels_z != stream[0].labels_z);

  // Evaluation: given order, no masking, the partial batch kept.
  options.shuffle = false;
  options.drop_last = false;
  options.mask_prob = 0;
  BatchIterator eval(data, indices, identity, options);
  CHECK(eval.batches_per_epoch() == 4);
  std::vector<float> seen;
  for (int64_t i = 0; i < eval.batches_per_epoch(); ++i) {
    const Batch batch = eval.next();
    CHECK(batch.tokens == batch.targets);
    seen.insert(seen.end(), batch.labels_z.begin(), batch.labels_z.end());
  }
  CHECK(seen.size() == 100);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(eval.position() == BatchPosition{1, 0});

  CHECK(contains(error_of([&] { BatchIterator(data, {0, 1, 200}, identity, options); }), "index 200 outside"));
  CHECK(contains(error_of([&] { BatchIterator(data, indices, identity, options, BatchPosition{0, 4}); }),
                 "start position"));
}

TEST_CASE("data: prefetched batches equal synchronous ones") {
  const EncodedDataset data = EncodedDataset::from_tsv(kDemoTrain);
  const TrainValSplit split = split_train_val(data.size(), 0.05, 1);
  const LabelStats stats = label_stats(data.labels, split.train);
  BatchOptions options;
  options.batch_size = 512;
  options.seed = 11;

  BatchIterator sync(data, split.train, stats, options);
  const int64_t total = 2 * sync.batches_per_epoch() + 3;  // crosses two epoch boundaries
  {
    Prefetcher prefetched(BatchIterator(data, split.train, stats, options), 2);
    for (int64_t i = 0; i < total; ++i) {
      const Batch expected = sync.next();
      check_same_batch(prefetched.next(), expected);
      CHECK(prefetched.position() == sync.position());
    }
  }  // destroyed while the worker waits on a full queue

  // Resuming a prefetcher at a saved position continues the same stream.
  Prefetcher resumed(BatchIterator(data, split.train, stats, options, sync.position()), 3);
  check_same_batch(resumed.next(), sync.next());
  resumed.stop();
  CHECK(contains(error_of([&] { resumed.next(); }), "after stop()"));
}
