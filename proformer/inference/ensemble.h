// Several checkpoints read as one model: every member predicts the same
// encoded rows, and the ensemble reports each member's prediction, their mean
// and their standard deviation (pf-design's objective, pf-infer with several
// checkpoints).
//
//   Ensemble models({"runs/a/best", "runs/b/best"});
//   EnsemblePredictions p = models.predict(tokens, n, 32);  // tokens [n, 2 * seq_len]
//   p.value(1, i), p.mean[i], p.sd[i]                        // training label scale
//
// Members may differ in architecture but must read the same input (seq_len)
// and predict on the same label scale (mean and std of the training labels),
// so that their predictions can be averaged.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/device.h"
#include "proformer/checkpoint.h"

namespace pf::proformer {

// Predictions of an ensemble of M members for N rows.
struct EnsemblePredictions {
  int64_t members = 0, rows = 0;
  std::vector<float> values;  // [M, N] each member's prediction, training label scale
  std::vector<double> mean;   // [N] mean over the members
  std::vector<double> sd;     // [N] population standard deviation over the members (0 for one member)

  float value(int64_t member, int64_t row) const { return values[size_t(member * rows + row)]; }
};

class Ensemble {
 public:
  // Loads every checkpoint (see load_model). Throws pf::Error naming both
  // files when one differs from the first in seq_len or in its label mean or
  // std, and for an empty list.
  explicit Ensemble(const std::vector<std::string>& checkpoints);

  int64_t size() const { return int64_t(members_.size()); }
  int64_t seq_len() const { return members_.front().model->config().seq_len; }
  const LoadedModel& member(int64_t m) const { return members_[size_t(m)]; }
  const std::string& checkpoint(int64_t m) const { return checkpoints_[size_t(m)]; }

  // Moves every member's parameters to `device`.
  void to(Device device);

  // Every member's prediction for n encoded rows (tokens [n, 2 * seq_len], see
  // encode_promoter), batch_size rows per forward pass, with mean and sd.
  EnsemblePredictions predict(const uint8_t* tokens, int64_t n, int64_t batch_size) const;

 private:
  std::vector<std::string> checkpoints_;
  std::vector<LoadedModel> members_;
};

}  // namespace pf::proformer
