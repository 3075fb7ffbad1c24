#include "proformer/data/batches.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace pf::proformer {
namespace {

// Seed of an independent Philox stream for one purpose within an epoch: the
// first two words of Philox(seed, counter = epoch << 32 | slot). Slot 0 is the
// epoch's shuffle, slot k + 1 the masking of batch k.
uint64_t derive_seed(uint64_t seed, int64_t epoch, int64_t slot) {
  const Philox4 words = philox4x32(seed, (uint64_t(epoch) << 32) | uint64_t(slot));
  return (uint64_t(words.v[0]) << 32) | words.v[1];
}

}  // namespace

void mask_tokens(const uint8_t* tokens, int64_t n_tokens, double p, Generator& gen, uint8_t* masked_out,
                 float* mask_out) {
  PF_CHECK(p >= 0 && p <= 1, "mask_tokens", "p = ", p, " (expected 0 <= p <= 1)");
  const uint64_t offset = gen.next_offset(uint64_t(n_tokens));
  for (int64_t i = 0; i < n_tokens; ++i) {
    const bool masked = tokens[i] != kN && philox_uniform(gen.seed, offset, uint64_t(i)) < p;
    masked_out[i] = masked ? uint8_t(kMask) : tokens[i];
    mask_out[i] = masked ? 1.0f : 0.0f;
  }
}

Batch batch_rows(const Batch& batch, int64_t first, int64_t count) {
  PF_CHECK(first >= 0 && count >= 0 && first + count <= batch.size, "batch_rows", "rows ", first, "..", first + count,
           " of a batch of ", batch.size);
  const auto begin = size_t(first * batch.row_tokens), end = size_t((first + count) * batch.row_tokens);
  Batch rows;
  rows.position = batch.position;
  rows.size = count;
  rows.row_tokens = batch.row_tokens;
  rows.tokens.assign(batch.tokens.begin() + begin, batch.tokens.begin() + end);    // [count, T]
  rows.targets.assign(batch.targets.begin() + begin, batch.targets.begin() + end);  // [count, T]
  rows.mask.assign(batch.mask.begin() + begin, batch.mask.begin() + end);           // [count, T]
  rows.labels_z.assign(batch.labels_z.begin() + first, batch.labels_z.begin() + first + count);  // [count]
  return rows;
}

int64_t masked_count(const Batch& batch) { return int64_t(std::count(batch.mask.begin(), batch.mask.end(), 1.0f)); }

BatchIterator::BatchIterator(const EncodedDataset& data, std::vector<int64_t> indices, LabelStats stats,
                             BatchOptions options, BatchPosition start)
    : data_(&data), indices_(std::move(indices)), stats_(stats), options_(options), position_(start) {
  constexpr const char* op = "BatchIterator";
  const auto n = int64_t(indices_.size());
  const int64_t size = options_.batch_size;
  PF_CHECK(size > 0, op, "batch_size = ", size, " (expected > 0)");
  PF_CHECK(options_.mask_prob >= 0 && options_.mask_prob <= 1, op, "mask_prob = ", options_.mask_prob,
           " (expected 0 <= mask_prob <= 1)");
  batches_per_epoch_ = options_.drop_last ? n / size : (n + size - 1) / size;
  PF_CHECK(batches_per_epoch_ > 0, op, n, " indices make no batch of ", size,
           options_.drop_last ? " with drop_last (expected at least batch_size indices)" : " (expected indices)");
  for (int64_t i : indices_)
    PF_CHECK(i >= 0 && i < data.size(), op, "index ", i, " outside the dataset of ", data.size(), " rows");
  PF_CHECK(start.epoch >= 0 && start.batch >= 0 && start.batch < batches_per_epoch_, op, "start position (epoch ",
           start.epoch, ", batch ", start.batch, ") (expected epoch >= 0 and batch < ", batches_per_epoch_, ")");
}

BatchPosition BatchIterator::after(BatchPosition p) const {
  return p.batch + 1 < batches_per_epoch_ ? BatchPosition{p.epoch, p.batch + 1} : BatchPosition{p.epoch + 1, 0};
}

void BatchIterator::shuffle_epoch(int64_t epoch) {
  order_ = indices_;
  if (options_.shuffle) {
    Generator gen(derive_seed(options_.seed, epoch, 0));
    shuffle_indices(order_, gen);
  }
  order_epoch_ = epoch;
}

Batch BatchIterator::next() {
  if (order_epoch_ != position_.epoch) shuffle_epoch(position_.epoch);
  const int64_t first = position_.batch * options_.batch_size;
  const int row = data_->row_tokens();

  Batch batch;
  batch.position = position_;
  batch.size = std::min(options_.batch_size, int64_t(order_.size()) - first);
  batch.row_tokens = row;
  batch.targets.resize(size_t(batch.size * row));  // [B, T]
  batch.labels_z.resize(size_t(batch.size));       // [B]
  for (int64_t b = 0; b < batch.size; ++b) {
    const int64_t index = order_[size_t(first + b)];
    std::memcpy(batch.targets.data() + b * row, data_->row(index), size_t(row));
    batch.labels_z[size_t(b)] = stats_.zscore(data_->labels[size_t(index)]);
  }
  batch.tokens.resize(batch.targets.size());  // [B, T]
  batch.mask.resize(batch.targets.size());    // [B, T]
  Generator mask_gen(derive_seed(options_.seed, position_.epoch, position_.batch + 1));
  mask_tokens(batch.targets.data(), int64_t(batch.targets.size()), options_.mask_prob, mask_gen,
              batch.tokens.data(), batch.mask.data());

  position_ = after(position_);
  return batch;
}

}  // namespace pf::proformer
