#include "nn/loss_scaler.h"

#include <cmath>

namespace pf::nn {

namespace {

// sum(x * 0) is 0 when every element is finite and NaN otherwise (inf * 0 is
// NaN), without the false alarms a plain sum could give by overflowing.
Tensor non_finite_marker(const Tensor& x) { return ops::sum(ops::to(ops::mul(x, 0.0), DType::f32)); }

// The first name whose tensor (from get) is not finite; "" if none. The
// markers are summed on the device and read once; only a failure looks at
// them one by one.
template <typename Get>
std::string first_non_finite(const NamedTensors& params, Get get) {
  std::vector<Tensor> markers;
  std::vector<const std::string*> names;
  for (const auto& [name, p] : params) {
    Tensor t = get(p);
    if (!t.defined()) continue;
    markers.push_back(ops::reshape(non_finite_marker(t), {1}));
    names.push_back(&name);
  }
  if (markers.empty() || std::isfinite(ops::sum(ops::concat(markers, 0)).item())) return "";
  for (size_t i = 0; i < markers.size(); ++i)
    if (!std::isfinite(markers[i].item())) return *names[i];
  return "";
}

}  // namespace

LossScaler::LossScaler(int64_t growth_interval, LossScalerState state)
    : growth_interval_(growth_interval), state_(state) {
  PF_CHECK(growth_interval >= 1, "LossScaler", "growth interval must be >= 1, got ", growth_interval);
  PF_CHECK(std::isfinite(state.scale) && state.scale > 0, "LossScaler", "scale must be positive, got ", state.scale);
}

bool LossScaler::unscale_or_skip(const NamedTensors& params) {
  NoGradGuard no_grad;
  if (!first_non_finite_gradient(params).empty()) {
    state_.scale /= 2;
    state_.clean_steps = 0;
    for (const auto& [name, p] : params) p.set_grad(Tensor());
    return false;
  }
  const double inverse = 1.0 / state_.scale;  // a power of two: exact in f32
  for (const auto& [name, p] : params)
    if (p.grad().defined()) p.set_grad(ops::mul(p.grad(), inverse));
  if (++state_.clean_steps == growth_interval_) {
    state_.scale *= 2;
    state_.clean_steps = 0;
  }
  return true;
}

std::string first_non_finite_gradient(const NamedTensors& params) {
  return first_non_finite(params, [](const Tensor& p) { return p.grad(); });
}

std::string first_non_finite_value(const NamedTensors& params) {
  return first_non_finite(params, [](const Tensor& p) { return p; });
}

}  // namespace pf::nn
