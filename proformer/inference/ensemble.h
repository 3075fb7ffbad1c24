// Several checkpoints read as one model: every member predicts the same
// encoded rows, and the ensemble reports each member's prediction, their mean
// and their standard deviation (pf-design's objective, every pf-infer mode
// with --checkpoint given several times). A single model is an ensemble of
// one, so each mode is written once, for an Ensemble.
//
//   Ensemble models({"runs/a/best", "runs/b/best"});
//   EnsemblePredictions p = models.predict(tokens, n, 32);  // tokens [n, 2 * seq_len]
//   p.value(1, i), p.spread[i].mean, p.spread[i].sd          // training label scale
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

// One quantity as the M members see it: their mean, population standard
// deviation and count, and for an effect the share of members whose effect
// has the sign of the mean (1 for one member).
struct MemberSpread {
  double mean = 0, sd = 0;
  int64_t n = 1;
  double sign_agreement = 1;
};
MemberSpread spread_over_members(const std::vector<double>& values);  // values [M], M >= 1

// Predictions of an ensemble of M members for N rows.
struct EnsemblePredictions {
  int64_t members = 0, rows = 0;
  std::vector<float> values;  // [M, N] each member's prediction, training label scale
  std::vector<MemberSpread> spread;  // [N] mean, sd (0 for one member) and sign agreement over the members

  float value(int64_t member, int64_t row) const { return values[size_t(member * rows + row)]; }
  // Each member's value of a row, [M].
  std::vector<double> row_values(int64_t row) const;
  // Each member's value of row b minus its value of row a (e.g. alt - ref), [M].
  std::vector<double> differences(int64_t a, int64_t b) const;
};

class Ensemble {
 public:
  // Loads every checkpoint (see load_model). Throws pf::Error naming both
  // files when one differs from the first in seq_len or in its label mean or
  // std, and for an empty list.
  explicit Ensemble(const std::vector<std::string>& checkpoints);
  // One model already loaded, as an ensemble of one (implicit: any mode that
  // takes an Ensemble takes a LoadedModel).
  Ensemble(LoadedModel model);  // NOLINT(google-explicit-constructor)

  int64_t size() const { return int64_t(members_.size()); }
  int64_t seq_len() const { return members_.front().model->config().seq_len; }
  const LoadedModel& member(int64_t m) const { return members_[size_t(m)]; }
  const std::string& checkpoint(int64_t m) const { return checkpoints_[size_t(m)]; }
  const LabelStats& label_stats() const { return members_.front().state.label_stats; }

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
