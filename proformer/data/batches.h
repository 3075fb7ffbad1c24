// Masking for the masked-nucleotide objective and the stream of batches that
// feeds training and evaluation.
//
// Reproducibility: every random choice comes from a Philox stream whose seed is
// derived from (options.seed, epoch) for the shuffle and from
// (options.seed, epoch, batch index) for the masking. Batch k of epoch e is
// therefore the same whether the run started at (0, 0) or resumed at (e, k),
// and whether or not batches are built ahead on another thread.
#pragma once
#include <cstdint>
#include <vector>

#include "core/philox.h"
#include "proformer/data/dataset.h"

namespace pf::proformer {

// Replaces each non-N token by kMask with probability p (0 <= p <= 1),
// independently per position; N tokens are never masked.
//   tokens      [n_tokens] input Token ids
//   masked_out  [n_tokens] tokens with the masked positions set to kMask
//   mask_out    [n_tokens] 1 where masked, else 0
// Randomness: one gen.next_offset(n_tokens) call per invocation; position i
// compares philox_uniform(gen.seed, offset, i) with p, so the result depends
// only on gen's (seed, offset) and not on how positions are visited.
void mask_tokens(const uint8_t* tokens, int64_t n_tokens, double p, Generator& gen, uint8_t* masked_out,
                 float* mask_out);

// Where a batch sits in the stream: batch index `batch` of epoch `epoch`.
// Checkpoints store the position to resume from.
struct BatchPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
  bool operator==(const BatchPosition&) const = default;
};

// One batch of B sequences of T = 2 * seq_len tokens each, row-major.
struct Batch {
  BatchPosition position;       // of this batch
  int64_t size = 0;             // B
  int row_tokens = 2 * kSeqLen; // T
  std::vector<uint8_t> tokens;  // [B, T] model input: targets with masked positions set to kMask
  std::vector<uint8_t> targets; // [B, T] original tokens
  std::vector<float> mask;      // [B, T] 1 where masked, else 0
  std::vector<float> labels_z;  // [B] z-scored expression labels
};

// Rows [first, first + count) of a batch, with its position: a rank's share
// of a global batch, or one micro-batch of it.
Batch batch_rows(const Batch& batch, int64_t first, int64_t count);
// The number of masked positions in a batch: the token loss divides by it + 1.
int64_t masked_count(const Batch& batch);

struct BatchOptions {
  int64_t batch_size = 512;
  uint64_t seed = 0;        // drives the per-epoch shuffle and the masking
  bool shuffle = true;      // false: every epoch visits the indices in the given order
  bool drop_last = true;    // drop the last partial batch of each epoch
  double mask_prob = 0.05;  // masking probability; 0 for evaluation
};
// Training uses the defaults; evaluation sets shuffle = false, drop_last =
// false and mask_prob = 0, and reads batches_per_epoch() batches.

// An endless stream of batches over `indices` (rows of a dataset), epoch
// after epoch. Not thread-safe; Prefetcher runs one on a worker thread.
class BatchIterator {
 public:
  // `data` must outlive the iterator. Labels are z-scored with `stats`. The
  // first batch returned is the one at `start`. Throws pf::Error for an empty
  // epoch, an index outside data, or a start beyond the epoch.
  BatchIterator(const EncodedDataset& data, std::vector<int64_t> indices, LabelStats stats, BatchOptions options,
                BatchPosition start = {});

  // Batches per epoch: floor(n / B) with drop_last, else ceil(n / B).
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Position of the batch the next call to next() returns.
  BatchPosition position() const { return position_; }
  // The position that follows `p` (the first batch of the next epoch after the last one).
  BatchPosition after(BatchPosition p) const;
  // Builds the batch at position() and advances.
  Batch next();

 private:
  void shuffle_epoch(int64_t epoch);  // fills order_ with the visiting order of `epoch`

  const EncodedDataset* data_;
  std::vector<int64_t> indices_;
  LabelStats stats_;
  BatchOptions options_;
  int64_t batches_per_epoch_ = 0;
  BatchPosition position_;
  std::vector<int64_t> order_;  // indices_ in the visiting order of epoch order_epoch_
  int64_t order_epoch_ = -1;
};

}  // namespace pf::proformer
