#include "nn/optim/step_checks.h"

namespace pf::nn {

namespace {
// 1 where the f64 marker is NaN, else 0: NaN is the one value not equal to itself.
Tensor nan_to_one(const Tensor& marker) {
  return ops::scalar(ScalarOp::Rsub, ops::binary(BinaryOp::Eq, marker, marker), 1.0);
}
}  // namespace

// x * 0 is 0 where x is finite and NaN where not (inf * 0 is NaN).
Tensor non_finite_elements(const Tensor& x) { return nan_to_one(ops::to(ops::mul(x, 0.0), DType::f64)); }

// sum(x * 0) is 0 when every element is finite and NaN otherwise, without the
// false alarms a plain sum could give by overflowing.
Tensor non_finite_flag(const Tensor& x) {
  return nan_to_one(ops::reshape(ops::to(ops::sum(ops::to(ops::mul(x, 0.0), DType::f32)), DType::f64), {1}));
}

StepChecks::StepChecks(NamedTensors params) : params_(std::move(params)) {}

void StepChecks::start(Device device, size_t losses) {
  sums_ = Tensor::zeros({int64_t(losses)}, DType::f64, device);
  healthy_ = Tensor::scalar(1.0, DType::f64, device);
  first_step_ = Tensor::scalar(0.0, DType::f64, device);
  first_bad_ = Tensor::zeros({int64_t(1 + params_.size())}, DType::f64, device);
  no_bad_params_ = Tensor::zeros({int64_t(params_.size())}, DType::f64, device);
}

void StepChecks::note(int64_t step, const Tensor& bad) {
  const Tensor any = ops::max(bad, 0);                  // 0-d
  const Tensor first = ops::mul(healthy_, any);         // 1 at the first bad step only
  first_step_ = ops::add(first_step_, ops::mul(first, double(step)));
  first_bad_ = ops::add(first_bad_, ops::mul(first, bad));
  healthy_ = ops::mul(healthy_, ops::scalar(ScalarOp::Rsub, any, 1.0));
}

void StepChecks::add_losses(int64_t step, const std::vector<Tensor>& losses) {
  NoGradGuard no_grad;
  PF_CHECK(!losses.empty(), "StepChecks", "add_losses needs at least one loss");
  if (!sums_.defined()) start(losses[0].device(), losses.size());
  PF_CHECK(int64_t(losses.size()) == sums_.numel(), "StepChecks", "got ", losses.size(), " losses, earlier steps had ",
           sums_.numel());
  std::vector<Tensor> parts;
  for (const Tensor& loss : losses) parts.push_back(ops::reshape(ops::to(loss, DType::f64), {1}));
  const Tensor step_losses = ops::concat(parts, 0);  // [L]
  sums_ = ops::add(sums_, step_losses);
  ++steps_;
  note(step, ops::concat({non_finite_flag(step_losses), no_bad_params_}, 0));
}

Tensor StepChecks::check_gradients(int64_t step, const Tensor& grad_sum_squares) {
  NoGradGuard no_grad;
  PF_CHECK(sums_.defined(), "StepChecks", "check_gradients before add_losses");
  PF_CHECK(grad_sum_squares.shape() == Shape{int64_t(params_.size())} && grad_sum_squares.dtype() == DType::f64,
           "StepChecks", "check_gradients needs f64 [", params_.size(), "] sums of squares, got ",
           describe(grad_sum_squares));
  const Tensor losses_entry = Tensor::zeros({1}, DType::f64, sums_.device());
  note(step, ops::concat({losses_entry, non_finite_elements(grad_sum_squares)}, 0));
  return ops::scalar(ScalarOp::Rsub, healthy_, 1.0);
}

StepChecks::Sums StepChecks::read() {
  if (!sums_.defined()) return {};
  const std::vector<double> values =
      ops::concat({sums_, ops::reshape(healthy_, {1}), ops::reshape(first_step_, {1}), first_bad_}, 0)
          .to_vector<double>();
  const size_t losses = size_t(sums_.numel());
  if (values[losses] == 0.0) {
    const long step = long(values[losses + 1]);
    const double* bad = values.data() + losses + 2;  // [1 + P]
    PF_CHECK(bad[0] == 0.0, "train", "the loss is not finite (inf or NaN) at step ", step,
             "; stopped before updating (HINT: lower the learning rate or enable clipping)");
    for (size_t i = 0; i < params_.size(); ++i)
      PF_CHECK(bad[1 + i] == 0.0, "train", "the gradient of ", params_[i].first, " is not finite at step ", step,
               "; stopped before updating (HINT: lower the learning rate, enable clipping, or use train.dtype=bf16 "
               "instead of f16)");
    PF_FAIL("train", "step ", step, " was not finite");  // unreachable: a bad step has a bad entry
  }
  Sums sums{std::vector<double>(values.begin(), values.begin() + long(losses)), steps_};
  ops::fill_(sums_, 0.0);
  steps_ = 0;
  return sums;
}

}  // namespace pf::nn
