#include "proformer/inference/ensemble.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "proformer/inference/predict.h"

namespace pf::proformer {

Ensemble::Ensemble(const std::vector<std::string>& checkpoints) : checkpoints_(checkpoints) {
  PF_CHECK(!checkpoints.empty(), "ensemble", "no checkpoint given");
  for (const std::string& path : checkpoints) members_.push_back(load_model(path));
  const LoadedModel& first = members_.front();
  for (size_t m = 1; m < members_.size(); ++m) {
    const LoadedModel& other = members_[m];
    const int64_t a = first.model->config().seq_len, b = other.model->config().seq_len;
    PF_CHECK(a == b, "ensemble", checkpoints[m], ": reads ", b, " positions per strand but ", checkpoints[0],
             " reads ", a, " (every member must read the same input)");
    const LabelStats& s = first.state.label_stats;
    const LabelStats& t = other.state.label_stats;
    PF_CHECK(s.mean == t.mean && s.std == t.std, "ensemble", checkpoints[m], ": label scale mean ", t.mean, ", std ",
             t.std, " differs from ", checkpoints[0], " (mean ", s.mean, ", std ", s.std,
             "): members must be trained on the same labels (HINT: the same data.train and data.split_seed)");
  }
}

Ensemble::Ensemble(LoadedModel model) : checkpoints_{"the model"}, members_{std::move(model)} {}

void Ensemble::to(Device device) {
  for (LoadedModel& member : members_) member.model->to(device);
}

EnsemblePredictions Ensemble::predict(const uint8_t* tokens, int64_t n, int64_t batch_size) const {
  EnsemblePredictions out;
  out.members = size();
  out.rows = n;
  out.values.reserve(size_t(out.members * n));
  for (const LoadedModel& member : members_) {
    const std::vector<float> z = predict_encoded(*member.model, tokens, n, batch_size);  // [N] z-space
    for (float zi : z) out.values.push_back(member.state.label_stats.unzscore(zi));
  }
  for (int64_t i = 0; i < n; ++i) out.spread.push_back(spread_over_members(out.row_values(i)));
  return out;
}

std::vector<double> EnsemblePredictions::row_values(int64_t row) const {
  std::vector<double> out;
  for (int64_t m = 0; m < members; ++m) out.push_back(value(m, row));
  return out;
}

std::vector<double> EnsemblePredictions::differences(int64_t a, int64_t b) const {
  std::vector<double> out;
  for (int64_t m = 0; m < members; ++m) out.push_back(double(value(m, b)) - double(value(m, a)));
  return out;
}

MemberSpread spread_over_members(const std::vector<double>& values) {
  PF_CHECK(!values.empty(), "ensemble", "no member values");
  MemberSpread s;
  s.n = int64_t(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(s.n);
  double squares = 0;
  int64_t agreeing = 0;
  for (double v : values) {
    squares += (v - s.mean) * (v - s.mean);
    agreeing += (v > 0) == (s.mean > 0) && (v < 0) == (s.mean < 0);
  }
  s.sd = std::sqrt(squares / double(s.n));
  s.sign_agreement = double(agreeing) / double(s.n);
  return s;
}

}  // namespace pf::proformer
