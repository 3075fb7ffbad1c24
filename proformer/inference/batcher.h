// The one encode -> batch -> predict loop of every prediction mode (sequences,
// variant pairs, genome regions, ISM, the Python module's arrays): items are
// added with the rows they need, encoded by the caller in place. Whenever
// batch_size rows are waiting, every member predicts them in one forward pass
// each (Ensemble::predict), so every pass is full but the last one of
// finish(); an item's rows may span two passes. As soon as all rows of the
// oldest items are predicted, `done` gets those items with their rows'
// predictions, in the order they were added. Memory stays flat in the number
// of items.
//
//   Batcher<std::string> batcher(models, 32, [&](const PredictedBatch<std::string>& batch) {
//     for (size_t k = 0; k < batch.items.size(); ++k)
//       use(batch.items[k], batch.predictions.spread[batch.first_row[k]]);
//   });
//   encode_promoter(promoter, seq_len, batcher.add(id));      // one row  [T]
//   uint8_t* rows = batcher.add(pair_id, 2);                   // two rows [2, T]
//   batcher.finish();                                          // the rows still waiting
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "proformer/inference/ensemble.h"

namespace pf::proformer {

// Model rows per forward pass unless a caller says otherwise, in every mode.
// 32: on 2 CPU cores batch 256 ran the demo model 1.8x slower (its attention
// scores, [256, heads, 232, 232], no longer fit in cache) and used 6x the memory.
constexpr int64_t kDefaultBatchSize = 32;

template <typename Item>
struct PredictedBatch {
  std::vector<Item> items;
  std::vector<int64_t> first_row;   // [items] where each item's rows start in `predictions`
  EnsemblePredictions predictions;  // [M, rows] of the items' rows
};

template <typename Item>
class Batcher {
 public:
  using Done = std::function<void(const PredictedBatch<Item>&)>;

  Batcher(const Ensemble& models, int64_t batch_size, Done done)
      : models_(models),
        batch_size_(batch_size),
        row_tokens_(2 * models.seq_len()),
        done_(std::move(done)),
        member_values_(size_t(models.size())) {
    PF_CHECK(batch_size > 0, "batcher", "batch_size must be positive, got ", batch_size);
  }

  // Appends `item` with `rows` rows and returns them, [rows, 2 * seq_len], for
  // the caller to encode; valid until the next call.
  uint8_t* add(Item item, int64_t rows = 1) {
    predict(waiting_rows() / batch_size_ * batch_size_);  // the rows added before, in full passes
    items_.push_back({std::move(item), rows});
    tokens_.resize(tokens_.size() + size_t(rows * row_tokens_));
    return tokens_.data() + tokens_.size() - size_t(rows * row_tokens_);
  }

  // Predicts the rows still waiting and hands over every item.
  void finish() {
    predict(waiting_rows() / batch_size_ * batch_size_);
    predict(waiting_rows());  // the last, partial pass
  }

 private:
  struct Pending {
    Item item;
    int64_t rows;
  };

  int64_t waiting_rows() const { return int64_t(tokens_.size()) / row_tokens_; }

  // Predicts the first n waiting rows, then hands over the items complete.
  void predict(int64_t n) {
    if (n == 0) return;
    const EnsemblePredictions p = models_.predict(tokens_.data(), n, batch_size_);
    for (int64_t m = 0; m < p.members; ++m)
      for (int64_t r = 0; r < n; ++r) member_values_[size_t(m)].push_back(p.value(m, r));
    spread_.insert(spread_.end(), p.spread.begin(), p.spread.end());
    tokens_.erase(tokens_.begin(), tokens_.begin() + n * row_tokens_);
    hand_over();
  }

  // The oldest items whose rows are all predicted, to `done`.
  void hand_over() {
    PredictedBatch<Item> batch;
    int64_t rows = 0;
    while (!items_.empty() && rows + items_.front().rows <= int64_t(spread_.size())) {
      batch.first_row.push_back(rows);
      rows += items_.front().rows;
      batch.items.push_back(std::move(items_.front().item));
      items_.pop_front();
    }
    if (batch.items.empty()) return;
    EnsemblePredictions& p = batch.predictions;
    p.members = models_.size();
    p.rows = rows;
    for (std::vector<float>& values : member_values_) {
      p.values.insert(p.values.end(), values.begin(), values.begin() + rows);
      values.erase(values.begin(), values.begin() + rows);
    }
    p.spread.assign(spread_.begin(), spread_.begin() + rows);
    spread_.erase(spread_.begin(), spread_.begin() + rows);
    done_(batch);
  }

  const Ensemble& models_;
  int64_t batch_size_, row_tokens_;
  Done done_;
  std::deque<Pending> items_;                     // added, not yet handed over
  std::vector<uint8_t> tokens_;                   // [waiting rows, 2 * seq_len]
  std::vector<std::vector<float>> member_values_;  // [M][predicted rows of items_]
  std::vector<MemberSpread> spread_;               // [predicted rows of items_]
};

}  // namespace pf::proformer
