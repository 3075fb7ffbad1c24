#include "proformer/inference/ensemble.h"

#include <cmath>

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
  out.mean.assign(size_t(n), 0.0);
  out.sd.assign(size_t(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int64_t m = 0; m < out.members; ++m) sum += out.value(m, i);
    const double mean = sum / double(out.members);
    double squares = 0;
    for (int64_t m = 0; m < out.members; ++m) squares += (out.value(m, i) - mean) * (out.value(m, i) - mean);
    out.mean[size_t(i)] = mean;
    out.sd[size_t(i)] = std::sqrt(squares / double(out.members));
  }
  return out;
}

}  // namespace pf::proformer
