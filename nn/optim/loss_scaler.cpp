#include "nn/optim/loss_scaler.h"

#include <cmath>

#include "nn/optim/step_checks.h"

namespace pf::nn {

namespace {

// The first name whose tensor (from get) is not finite; "" if none. The
// flags are gathered on the device and read once.
template <typename Get>
std::string first_non_finite(const NamedTensors& params, Get get) {
  std::vector<Tensor> flags;
  std::vector<const std::string*> names;
  for (const auto& [name, p] : params) {
    Tensor t = get(p);
    if (!t.defined()) continue;
    flags.push_back(non_finite_flag(t));
    names.push_back(&name);
  }
  if (flags.empty()) return "";
  const std::vector<double> read = ops::concat(flags, 0).to_vector<double>();
  for (size_t i = 0; i < read.size(); ++i)
    if (read[i] != 0.0) return *names[i];
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
