// Neural-network ops whose forward and backward are fused backend kernels.
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

Tensor log_softmax(const Tensor& x_in) {
  auto [x] = autocast::inputs("log_softmax", x_in);
  Tensor y = ops::softmax(x, true);
  Tensor ys = y.detach();
  return record("log_softmax", y, {x}, [ys](const Tensor& g) -> std::vector<Tensor> {
    return {ops::softmax_backward(ys, g, true)};
  });
}

Tensor layer_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, double eps) {
  auto [x, gamma, beta] = autocast::inputs("layer_norm", x_in, gamma_in, beta_in);
  ops::LayerNormResult r = ops::layer_norm(x, gamma, beta, eps);
  Tensor xs = x.detach(), gs = gamma.detach(), mean = r.mean, rstd = r.rstd;  // not r: r.y is the output
  return record("layer_norm", r.y, {x, gamma, beta}, [=](const Tensor& g) -> std::vector<Tensor> {
    ops::LayerNormGrads grads = ops::layer_norm_backward(xs, gs, mean, rstd, g);
    return {grads.dx, grads.dgamma, grads.dbeta};
  });
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

Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight) {
  PF_CHECK(weight.dim() == 2 && weight.size(0) % 2 == 1, "depthwise_conv1d",
           "'same' padding needs an odd kernel [K, C], got ", describe(weight));
  const int64_t pad_left = (weight.size(0) - 1) / 2;
  Tensor xs = x.detach(), ws = weight.detach();
  return record("depthwise_conv1d", ops::depthwise_conv1d(x, weight, pad_left), {x, weight},
                [=](const Tensor& g) -> std::vector<Tensor> {
                  auto [dx, dw] = ops::depthwise_conv1d_backward(xs, ws, g, pad_left);
                  return {dx, dw};
                });
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
