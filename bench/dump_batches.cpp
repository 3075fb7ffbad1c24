// Dumps the C++ training data stream, so bench/learning_check.py can check its
// Python re-implementation (tests/reference/data_stream.py) byte for byte.
// It builds the stream exactly as proformer/training/trainer.cpp does: from_tsv, the
// max_lines cut, split_train_val, label_stats over the training indices, and
// a BatchIterator with the training options (shuffle, drop_last, masking).
//
// No CMake target: it needs only the data pipeline sources and zlib.
//   c++ -std=c++20 -O1 -I. bench/dump_batches.cpp proformer/data/batches.cpp
//       proformer/data/dataset.cpp proformer/data/reader.cpp proformer/data/sequence.cpp -lz -o dump_batches
//   dump_batches TRAIN SEQ_LEN MAX_LINES VAL_FRACTION SPLIT_SEED SEED BATCH_SIZE MASK_PROB COUNT OUT_DIR
//
// Writes into OUT_DIR (raw little-endian arrays):
//   summary.txt   "rows R dropped D train A val V mean M std S batches_per_epoch K" (%.17g)
//   tokens.u8 [R, 2 * SEQ_LEN], labels.f32 [R], train.i64 [A], val.i64 [V]
//   batch_tokens.u8, batch_targets.u8 [COUNT, B, T], batch_mask.f32 [COUNT, B, T],
//   batch_labels.f32 [COUNT, B], batch_positions.i64 [COUNT, 2] (epoch, batch)
#include <cstdio>
#include <string>
#include <vector>

#include "proformer/data/batches.h"

using namespace pf::proformer;

namespace {

template <typename T>
void write(const std::string& path, const T* data, size_t count) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, sizeof(T), count, f) != count) {
    std::fprintf(stderr, "dump_batches: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

template <typename T>
void write(const std::string& path, const std::vector<T>& v) {
  write(path, v.data(), v.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 11) {
    std::fprintf(stderr,
                 "usage: dump_batches TRAIN SEQ_LEN MAX_LINES VAL_FRACTION SPLIT_SEED SEED BATCH_SIZE MASK_PROB "
                 "COUNT OUT_DIR\n");
    return 2;
  }
  const std::string train_path = argv[1];
  const int seq_len = std::stoi(argv[2]);
  const int64_t max_lines = std::stoll(argv[3]);
  const double val_fraction = std::stod(argv[4]);
  const uint64_t split_seed = std::stoull(argv[5]);
  BatchOptions options;  // the trainer's: shuffle, drop_last
  options.seed = std::stoull(argv[6]);
  options.batch_size = std::stoll(argv[7]);
  options.mask_prob = std::stod(argv[8]);
  const int64_t count = std::stoll(argv[9]);
  const std::string out = std::string(argv[10]) + "/";

  EncodedDataset data = EncodedDataset::from_tsv(train_path, seq_len);
  if (max_lines > 0 && data.size() > max_lines) {  // as in trainer.cpp
    data.tokens.resize(size_t(max_lines * data.row_tokens()));
    data.labels.resize(size_t(max_lines));
  }
  const TrainValSplit split = split_train_val(data.size(), val_fraction, split_seed);
  const LabelStats stats = label_stats(data.labels, split.train);
  BatchIterator batches(data, split.train, stats, options);

  std::vector<uint8_t> tokens, targets;
  std::vector<float> mask, labels;
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < count; ++i) {
    const Batch b = batches.next();
    tokens.insert(tokens.end(), b.tokens.begin(), b.tokens.end());
    targets.insert(targets.end(), b.targets.begin(), b.targets.end());
    mask.insert(mask.end(), b.mask.begin(), b.mask.end());
    labels.insert(labels.end(), b.labels_z.begin(), b.labels_z.end());
    positions.push_back(b.position.epoch);
    positions.push_back(b.position.batch);
  }

  write(out + "tokens.u8", data.tokens);
  write(out + "labels.f32", data.labels);
  write(out + "train.i64", split.train);
  write(out + "val.i64", split.val);
  write(out + "batch_tokens.u8", tokens);
  write(out + "batch_targets.u8", targets);
  write(out + "batch_mask.f32", mask);
  write(out + "batch_labels.f32", labels);
  write(out + "batch_positions.i64", positions);
  std::FILE* f = std::fopen((out + "summary.txt").c_str(), "w");
  std::fprintf(f, "rows %ld dropped %ld train %zu val %zu mean %.17g std %.17g batches_per_epoch %ld\n",
               long(data.size()), long(data.dropped_too_long), split.train.size(), split.val.size(), stats.mean,
               stats.std, long(batches.batches_per_epoch()));
  std::fclose(f);
  return 0;
}
