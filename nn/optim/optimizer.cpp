#include "nn/optim/optimizer.h"

#include <cmath>

namespace pf::nn {

Adam::Adam(NamedTensors params, AdamOptions options) : params_(std::move(params)), options_(options) {
  for (auto& [name, p] : params_) {
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
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
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    backend_for(p.device())
        .adam_step(p, ops::contiguous(g), m_[i], v_[i], options_.beta1, options_.beta2, step_size, eps, decay, skip);
  }
}

NamedTensors Adam::state() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("m." + params_[i].first, m_[i]);
    out.emplace_back("v." + params_[i].first, v_[i]);
  }
  return out;
}

void Adam::load_state(const NamedTensors& state, int64_t steps_taken) {
  auto find = [&](const std::string& name, const Tensor& like) {
    for (auto& [n, t] : state)
      if (n == name) {
        PF_CHECK(t.shape() == like.shape(), "optimizer state", "'", name, "' has shape ", shape_str(t.shape()),
                 ", the parameter has ", shape_str(like.shape()));
        return ops::contiguous(ops::to(ops::to(t, like.dtype()), like.device()));
      }
    PF_FAIL("optimizer state", "missing entry '", name, "'");
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i] = find("m." + params_[i].first, m_[i]);
    v_[i] = find("v." + params_[i].first, v_[i]);
  }
  step_ = steps_taken;
}

Tensor clip_gradients(const std::vector<Tensor>& params, double clip_value, double clip_norm, ClipMode mode) {
  NoGradGuard no_grad;
  // Norms and factors stay on the gradients' device as 0-d f64 tensors (the
  // precision the host used to do this in): no read-back per parameter.
  std::vector<Tensor> grads, norms;
  Tensor total_sq;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (clip_value > 0.0) {
      g = ops::scalar(ScalarOp::ClampMax, ops::scalar(ScalarOp::ClampMin, g, -clip_value), clip_value);
      p.set_grad(g);
    }
    Tensor sq = ops::to(ops::sum(ops::mul(g, g)), DType::f64);  // 0-d
    total_sq = total_sq.defined() ? ops::add(total_sq, sq) : sq;
    grads.push_back(g);
    norms.push_back(ops::unary(UnaryOp::Sqrt, sq));
  }
  if (grads.empty()) return Tensor::scalar(0.0, DType::f64);
  const Tensor global_norm = ops::unary(UnaryOp::Sqrt, total_sq);
  if (clip_norm > 0.0) {
    const Tensor bound = Tensor::scalar(clip_norm, DType::f64, global_norm.device());
    size_t k = 0;
    for (const Tensor& p : params) {
      if (!p.grad().defined()) continue;
      const Tensor& norm = mode == ClipMode::Global ? global_norm : norms[k];
      // clip_norm / max(norm, clip_norm): exactly 1 (no change) within the bound.
      Tensor factor = ops::div(bound, ops::scalar(ScalarOp::ClampMin, norm, clip_norm));
      p.set_grad(ops::mul(grads[k], ops::to(factor, grads[k].dtype())));
      ++k;
    }
  }
  return global_norm;
}

}  // namespace pf::nn
