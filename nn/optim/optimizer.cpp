#include "nn/optim/optimizer.h"

#include <cmath>

#include "core/backend.h"

namespace pf::nn {

Adam::Adam(NamedTensors params, AdamOptions options) : flat_(std::move(params)), options_(options) {
  const Tensor& values = flat_.values();
  m_ = Tensor::zeros(values.shape(), values.dtype(), values.device());
  v_ = Tensor::zeros(values.shape(), values.dtype(), values.device());
}

void Adam::step(double lr, const Tensor& skip) {
  NoGradGuard no_grad;
  PF_CHECK(!skip.defined() || (skip.dim() == 0 && skip.dtype() == DType::f64), "Adam",
           "the skip flag must be a 0-d f64 tensor, got ", describe(skip));
  ++step_;
  const double t = double(step_);
  const double bias1 = 1.0 - std::pow(options_.beta1, t), bias2 = 1.0 - std::pow(options_.beta2, t);
  // Both formulas become param -= step_size * m / (sqrt(v) + eps_effective).
  const double step_size = lr * std::sqrt(bias2) / bias1;
  const double eps = options_.decoupled ? options_.eps * std::sqrt(bias2) : options_.eps;
  const double decay = options_.decoupled ? lr * options_.weight_decay : 0.0;
  const Tensor& grads = flat_.gather_gradients();
  Backend& backend = backend_for(flat_.values().device());
  auto update = [&](const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v) {
    backend.adam_step(param, grad, m, v, options_.beta1, options_.beta2, step_size, eps, decay, skip);
  };
  if (flat_.all_have_gradients()) {
    update(flat_.values(), grads, m_, v_);  // every parameter in one pass
    return;
  }
  // A parameter without a gradient keeps its value and moments (as in Keras and PyTorch).
  for (size_t p = 0; p < flat_.size(); ++p)
    if (flat_.params()[p].second.grad().defined())
      update(flat_.view(flat_.values(), p), flat_.view(grads, p), flat_.view(m_, p), flat_.view(v_, p));
}

NamedTensors Adam::state() const {
  NamedTensors out;
  for (size_t p = 0; p < flat_.size(); ++p) {
    out.emplace_back("m." + flat_.params()[p].first, flat_.view(m_, p));
    out.emplace_back("v." + flat_.params()[p].first, flat_.view(v_, p));
  }
  return out;
}

void Adam::load_state(const NamedTensors& state, int64_t steps_taken) {
  NoGradGuard no_grad;
  auto load = [&](const std::string& name, const Tensor& into) {
    for (auto& [n, t] : state)
      if (n == name) {
        PF_CHECK(t.shape() == into.shape(), "optimizer state", "'", name, "' has shape ", shape_str(t.shape()),
                 ", the parameter has ", shape_str(into.shape()));
        ops::copy_(into, t);  // converts dtype; into lives on the moments' device
        return;
      }
    PF_FAIL("optimizer state", "missing entry '", name, "'");
  };
  for (size_t p = 0; p < flat_.size(); ++p) {
    load("m." + flat_.params()[p].first, flat_.view(m_, p));
    load("v." + flat_.params()[p].first, flat_.view(v_, p));
  }
  step_ = steps_taken;
}

Tensor clip_gradients(FlatParameters& params, double clip_value, double clip_norm, ClipMode mode) {
  NoGradGuard no_grad;
  // Norms and factors stay on the gradients' device as f64 tensors (the
  // precision the host used to do this in): no read-back.
  const Tensor& grads = params.gather_gradients();  // [N]
  if (clip_value > 0.0)
    ops::copy_(grads, ops::scalar(ScalarOp::ClampMax, ops::scalar(ScalarOp::ClampMin, grads, -clip_value), clip_value));
  const Tensor squares = params.sum_squares(grads);  // [P]
  const Tensor global_norm = ops::unary(UnaryOp::Sqrt, ops::sum(squares));
  if (clip_norm > 0.0 && params.size() > 0) {
    const Tensor norms = mode == ClipMode::Global ? global_norm : ops::unary(UnaryOp::Sqrt, squares);
    const Tensor bound = Tensor::scalar(clip_norm, DType::f64, global_norm.device());
    // clip_norm / max(norm, clip_norm): exactly 1 (no change) within the bound.
    const Tensor factor = ops::div(bound, ops::scalar(ScalarOp::ClampMin, norms, clip_norm));
    params.scale(grads, ops::contiguous(ops::expand(factor, {int64_t(params.size())})));
  }
  return global_norm;
}

}  // namespace pf::nn
