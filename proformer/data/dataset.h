// The encoded DREAM training set in memory, its binary cache, label
// statistics for z-scoring, and the seeded train/validation split.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/philox.h"
#include "proformer/data/sequence.h"

namespace pf::proformer {

// N promoters encoded as in encode_promoter, with their expression labels.
struct EncodedDataset {
  int seq_len = kSeqLen;        // positions per strand; a row has 2 * seq_len tokens
  std::vector<uint8_t> tokens;  // [N, 2 * seq_len] row-major, Token ids
  std::vector<float> labels;    // [N] expression, as in the file (not z-scored)
  int64_t dropped_too_long = 0; // lines skipped: longer than seq_len once the flanks are removed

  int64_t size() const { return int64_t(labels.size()); }
  int row_tokens() const { return 2 * seq_len; }
  const uint8_t* row(int64_t i) const { return tokens.data() + i * row_tokens(); }

  // Streams a DREAM training file (plain, gzip or "-" for stdin; see
  // TrainingTsvReader): removes the flanks, drops promoters longer than
  // seq_len (counted in dropped_too_long) and encodes the rest. Only the
  // encoded rows are kept, never the lines. Throws pf::Error with FILE:LINE for
  // a bad line.
  static EncodedDataset from_tsv(const std::string& path, int seq_len = kSeqLen);

  // Binary cache, so a large file is parsed once. Layout (host byte order,
  // little-endian on every supported machine):
  //   char[8] "PFTOKENS" | u32 version = 1 | u32 seq_len | i64 N | i64 dropped_too_long
  //   | u8 tokens[N * 2 * seq_len] | f32 labels[N]
  // save_cache writes `path`.tmp and renames it over `path`, so a crash never
  // leaves a half-written cache. load_cache checks the magic, version and file
  // size and throws pf::Error naming the file if they are wrong.
  void save_cache(const std::string& path) const;
  static EncodedDataset load_cache(const std::string& path);
};

// Population mean and standard deviation of a set of labels; the model is
// trained on z = (label - mean) / std and predictions are mapped back.
struct LabelStats {
  double mean = 0;
  double std = 1;

  float zscore(float label) const { return float((label - mean) / std); }
  float unzscore(float z) const { return float(z * std + mean); }
};

// Statistics of labels[i] for i in `indices` (for example the training split).
// Throws pf::Error if `indices` is empty or all those labels are equal.
LabelStats label_stats(const std::vector<float>& labels, const std::vector<int64_t>& indices);

// Fisher-Yates shuffle of `indices` in place, one gen.below() draw per swap
// (from the last element down), so the order depends only on gen's (seed, offset).
void shuffle_indices(std::vector<int64_t>& indices, Generator& gen);

struct TrainValSplit {
  std::vector<int64_t> train;  // row indices, in shuffled order
  std::vector<int64_t> val;
};

// Shuffles 0..n-1 with Fisher-Yates driven by pf::Generator(seed) and puts the
// last ceil(val_fraction * n) indices in `val`, the rest in `train`. The same
// (n, val_fraction, seed) always gives the same split. val_fraction in [0, 1).
TrainValSplit split_train_val(int64_t n, double val_fraction, uint64_t seed);

}  // namespace pf::proformer
