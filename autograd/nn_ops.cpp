// Neural-network ops whose forward and backward are fused backend kernels.
#include <cmath>

#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

// A half x (under autocast, attention's scores from a half GEMM, the
// probabilities going to another) is read as it is: the kernel computes in
// f32 and rounds the probabilities once, as a cast of the f32 softmax would,
// and the backward recomputes the f32 probabilities from the saved scores
// instead of reading them rounded: an f32 softmax's gradient, rounded once,
// without the two casts each way and the f32 copies.
// An f32 or f64 x saves y, which the next GEMM keeps anyway.
Tensor softmax(const Tensor& x) {
  Tensor y = ops::softmax(x, false);
  if (!is_half(x.dtype())) {
    Tensor ys = y.detach();
    return record("softmax", y, {x}, [ys](const Tensor& g) -> std::vector<Tensor> {
      return {ops::softmax_backward(ys, g, false)};
    });
  }
  Tensor xs = x.detach();
  return record("softmax", y, {x}, [xs](const Tensor& g) -> std::vector<Tensor> {
    return {ops::softmax_backward_recompute(xs, g)};
  });
}

namespace {

// q, k or v (which = 0, 1, 2) of qkv, contiguous [B, T, 3, H, Dh] memory, as
// a [B, H, T, Dh] view: element (b, h, t, d) at ((b * T + t) * 3 + which) * H * Dh + h * Dh + d.
Tensor heads_of(const Tensor& qkv, int64_t which, int64_t heads, int64_t head_dim) {
  const int64_t B = qkv.size(0), T = qkv.size(1), row = qkv.size(2);  // row = 3 * H * Dh
  return Tensor::view_of(qkv.storage(), {B, heads, T, head_dim}, {T * row, head_dim, row, 1},
                         qkv.offset() + which * heads * head_dim, qkv.dtype());
}

}  // namespace

Tensor attention(const Tensor& qkv_in, int64_t heads, int64_t head_dim) {
  auto [qkv_any] = autocast::inputs("matmul", qkv_in);  // the attention GEMMs' class
  const int64_t inner = heads * head_dim;
  PF_CHECK(qkv_any.dim() == 3 && qkv_any.size(2) == 3 * inner, "attention", "qkv must be [B, T, 3 * ", heads, " * ",
           head_dim, "], got ", describe(qkv_any));
  const int64_t B = qkv_any.size(0), T = qkv_any.size(1);
  const Tensor qkv = ops::contiguous(qkv_any);
  const double scale = 1.0 / std::sqrt(double(head_dim));
  const Tensor q = heads_of(qkv, 0, heads, head_dim), k = heads_of(qkv, 1, heads, head_dim),
               v = heads_of(qkv, 2, heads, head_dim);                          // [B, H, T, Dh] views
  const Tensor scores = ops::matmul(q, ops::transpose(k, -1, -2), scale);      // [B, H, T, T]
  const Tensor p = ops::softmax(scores);                                       // f32 math; half stays half
  const Shape bthd = {T * inner, head_dim, inner, 1};                          // [B, H, T, Dh] in [B, T, H, Dh] memory
  const Tensor context = ops::matmul(p, v, 1.0, bthd);                         // [B, H, T, Dh]
  const Tensor merged = ops::reshape(ops::permute(context, {0, 2, 1, 3}), {B, T, inner});  // a view: [B, T, H * Dh]
  // Saved: the projections, the probabilities (dv and, for f32, the softmax
  // backward) and for half probabilities the scores (softmax_backward_recompute).
  const bool recompute = is_half(p.dtype());
  const Tensor qkv_s = qkv.detach(), p_s = p.detach(), scores_s = recompute ? scores.detach() : Tensor();
  return record("attention", merged, {qkv_any}, [=](const Tensor& g_in) -> std::vector<Tensor> {
    const Tensor g = ops::permute(ops::reshape(g_in, {B, T, heads, head_dim}), {0, 2, 1, 3});  // [B, H, T, Dh]
    const Tensor dqkv = Tensor::empty(qkv_s.shape(), qkv_s.dtype(), qkv_s.device());       // [B, T, 3 * H * Dh]
    const Tensor qs = heads_of(qkv_s, 0, heads, head_dim), ks = heads_of(qkv_s, 1, heads, head_dim),
                 vs = heads_of(qkv_s, 2, heads, head_dim);
    const Tensor dp = ops::matmul(g, ops::transpose(vs, -1, -2));  // [B, H, T, T]
    ops::matmul_into(ops::transpose(p_s, -1, -2), g, heads_of(dqkv, 2, heads, head_dim));  // dv = p^T g
    const Tensor ds = recompute ? ops::softmax_backward_recompute(scores_s, dp) : ops::softmax_backward(p_s, dp);
    ops::matmul_into(ds, ks, heads_of(dqkv, 0, heads, head_dim), scale);                          // dq = ds k
    ops::matmul_into(ops::transpose(ds, -1, -2), qs, heads_of(dqkv, 1, heads, head_dim), scale);  // dk = ds^T q
    return {dqkv};
  });
}

Tensor log_softmax(const Tensor& x_in) {
  auto [x] = autocast::inputs("log_softmax", x_in);
  Tensor y = ops::softmax(x, true);
  Tensor ys = y.detach();
  return record("log_softmax", y, {x}, [ys](const Tensor& g) -> std::vector<Tensor> {
    return {ops::softmax_backward(ys, g, true)};
  });
}

namespace {

// y stored in x's dtype (after autocast), or the low dtype where for_gemm and
// autocast is on. The backward adds dx onto the gradient x already has (the
// residual stream's, when the norm starts a branch) in the pass that computes
// it, and reads a half dy as it is.
Tensor layer_norm_impl(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, double eps, bool for_gemm) {
  auto [x, gamma, beta] = autocast::inputs("layer_norm", x_in, gamma_in, beta_in);
  const DType y_dtype = for_gemm && autocast::enabled() && x.dtype() == DType::f32 ? autocast::dtype() : x.dtype();
  ops::LayerNormResult r = ops::layer_norm(x, gamma, beta, eps, y_dtype);
  Tensor xs = x.detach(), gs = gamma.detach(), mean = r.mean, rstd = r.rstd;  // not r: r.y is the output
  auto backward_onto = [=](const Tensor& g, const Tensor& dx_add) -> std::vector<Tensor> {
    ops::LayerNormGrads grads = ops::layer_norm_backward(xs, gs, mean, rstd, g, dx_add);
    return {grads.dx, grads.dgamma, grads.dbeta};
  };
  return record(
      "layer_norm", r.y, {x, gamma, beta},
      [backward_onto](const Tensor& g) -> std::vector<Tensor> { return backward_onto(g, Tensor()); }, backward_onto);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  return layer_norm_impl(x, gamma, beta, eps, false);
}

Tensor layer_norm_for_gemm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  return layer_norm_impl(x, gamma, beta, eps, true);
}

Tensor swiglu(const Tensor& x) {
  Tensor xs = x.detach();
  return record("swiglu", ops::swiglu(x), {x},
                [xs](const Tensor& g) -> std::vector<Tensor> { return {ops::swiglu_backward(xs, g)}; });
}

Tensor conv1d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, int64_t pad_left,
              int64_t pad_right) {
  auto [x, weight, bias] = autocast::inputs("conv1d", x_in, weight_in, bias_in);
  Tensor xs = x.detach(), ws = weight.detach();
  const bool has_bias = bias.defined();
  std::vector<Tensor> inputs = {x, weight};
  if (has_bias) inputs.push_back(bias);
  return record("conv1d", ops::conv1d(x, weight, bias, pad_left, pad_right), inputs,
                [=](const Tensor& g) -> std::vector<Tensor> {
                  ops::Conv1dGrads grads = ops::conv1d_backward(xs, ws, has_bias, pad_left, g);
                  if (has_bias) return {grads.dx, grads.dweight, grads.dbias};
                  return {grads.dx, grads.dweight};
                });
}

namespace {

// y in x's dtype, or the low dtype where for_gemm, autocast is on and x is f32.
Tensor depthwise_conv1d_impl(const Tensor& x, const Tensor& weight, bool for_gemm) {
  PF_CHECK(weight.dim() == 2 && weight.size(0) % 2 == 1, "depthwise_conv1d",
           "'same' padding needs an odd kernel [K, C], got ", describe(weight));
  const int64_t pad_left = (weight.size(0) - 1) / 2;
  const DType y_dtype = for_gemm && autocast::enabled() && x.dtype() == DType::f32 ? autocast::dtype() : x.dtype();
  Tensor xs = x.detach(), ws = weight.detach();
  return record("depthwise_conv1d", ops::depthwise_conv1d(x, weight, pad_left, y_dtype), {x, weight},
                [=](const Tensor& g) -> std::vector<Tensor> {
                  auto [dx, dw] = ops::depthwise_conv1d_backward(xs, ws, g, pad_left);
                  return {dx, dw};
                });
}

}  // namespace

Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight) { return depthwise_conv1d_impl(x, weight, false); }

Tensor depthwise_conv1d_for_gemm(const Tensor& x, const Tensor& weight) {
  return depthwise_conv1d_impl(x, weight, true);
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  const int64_t vocab = weight.size(0);
  return record("embedding", ops::embedding(weight, ids), {weight, ids},
                [=](const Tensor& g) -> std::vector<Tensor> {
                  return {ops::embedding_backward(ids, ops::reshape(g, {ids.numel(), g.size(-1)}), vocab), Tensor()};
                });
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& targets) {
  auto [logits] = autocast::inputs("cross_entropy", logits_in);
  Tensor ls = logits.detach();
  return record("cross_entropy", ops::cross_entropy(logits, targets), {logits, targets},
                [=](const Tensor& g) -> std::vector<Tensor> {
                  return {ops::cross_entropy_backward(ls, targets, g), Tensor()};
                });
}

Tensor mse_loss(const Tensor& prediction_in, const Tensor& target_in) {
  auto [prediction, target] = autocast::inputs("mse_loss", prediction_in, target_in);
  PF_CHECK(prediction.shape() == target.shape(), "mse_loss", "prediction ", describe(prediction),
           " and target ", describe(target), " differ in shape");
  Tensor diff = sub(prediction, target);
  return mean(mul(diff, diff));
}

}  // namespace pf
