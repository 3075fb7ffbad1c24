// The fused ops that cut a training step's memory traffic (#34 item 6, counted
// by bench/count_launches), each against the sequence of unfused ops it
// replaces: in f64 or f32 the same values to a few units of rounding (a sum
// may run in another order), in bf16 the unfused f32 result rounded once
// (within one bf16 unit), forward and backward. Shapes are above the CPU
// kernels' thresholds for threads where it matters, so the parallel loops run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/autocast.h"
#include "autograd/functional.h"
#include "core/ops.h"

using namespace pf;

namespace {

Tensor uniform(const Shape& shape, DType dtype, uint64_t seed, double lo = -1, double hi = 1) {
  Generator gen(seed);
  return ops::to(ops::uniform(shape, lo, hi, gen, DType::f64), dtype);
}

std::vector<double> values(const Tensor& t) { return ops::to(t, DType::f64).to_vector<double>(); }

// The largest |got - want| over the largest |want|, after checking shape and dtype.
double relative_error(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.dtype() == want.dtype());
  const std::vector<double> g = values(got), w = values(want);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    diff = std::max(diff, std::abs(g[i] - w[i]));
    scale = std::max(scale, std::abs(w[i]));
  }
  return scale == 0 ? diff : diff / scale;
}

// Bounds for relative_error: a few units of rounding of the compute type (the
// order of a sum), or one unit of bf16 (2^-8) where the result is rounded to
// bf16 once, from f32 values that may differ in their last bits.
double tolerance(DType dtype) {
  if (dtype == DType::f64) return 1e-14;
  if (dtype == DType::f32) return 1e-6;
  return 0x1p-8;
}

}  // namespace

TEST_CASE("softmax_backward_recompute is softmax_backward of the recomputed softmax (f64, f32, bf16)") {
  const Shape shape{40, 232};  // [R, N]: attention's rows of 232 keys
  for (DType dt : {DType::f64, DType::f32}) {
    CAPTURE(dt);
    const Tensor x = uniform(shape, dt, 1, -5, 5), dy = uniform(shape, dt, 2);
    const Tensor want = ops::softmax_backward(ops::softmax(x), dy);
    CHECK(relative_error(ops::softmax_backward_recompute(x, dy), want) <= tolerance(dt));
  }
  // bf16: the f32 computation on the same (rounded) inputs, rounded once. The
  // backward of the rounded probabilities, which the op exists to avoid, is
  // further off than that.
  const Tensor x = uniform(shape, DType::bf16, 1, -5, 5), dy = uniform(shape, DType::bf16, 2);
  const Tensor x32 = ops::to(x, DType::f32), dy32 = ops::to(dy, DType::f32);
  const Tensor want = ops::to(ops::softmax_backward(ops::softmax(x32), dy32), DType::bf16);
  const Tensor got = ops::softmax_backward_recompute(x, dy);
  CHECK(relative_error(got, want) <= tolerance(DType::bf16));
  const Tensor from_rounded = ops::softmax_backward(ops::softmax(x), dy);
  CHECK(relative_error(from_rounded, want) > 2 * relative_error(got, want));
}

TEST_CASE("scalar with a half result is scalar then a cast, to the bit") {
  const Tensor x = uniform({70, 1000}, DType::f32, 3, -3, 3);
  for (DType half : {DType::bf16, DType::f16}) {
    CAPTURE(half);
    const Tensor want = ops::to(ops::mul(x, 0.5), half);
    CHECK(relative_error(ops::scalar(ScalarOp::Mul, x, 0.5, half), want) == 0);
    CHECK(relative_error(ops::scalar(ScalarOp::Mul, x, 0.3, half), ops::to(ops::mul(x, 0.3), half)) == 0);
  }
  CHECK_THROWS(ops::scalar(ScalarOp::Mul, ops::to(x, DType::f64), 0.5, DType::bf16));  // only f32 mixes
}

TEST_CASE("layer norm with a half y is layer norm then a cast, and its backward reads a half dy and adds dx_add") {
  const Shape shape{70, 512};  // [R, N]: the model's width
  const Tensor gamma = uniform({512}, DType::f32, 4, 0.5, 1.5), beta = uniform({512}, DType::f32, 5);
  const Tensor x = uniform(shape, DType::f32, 6, -2, 3), dy = uniform(shape, DType::f32, 7);
  const Tensor dx_add = uniform(shape, DType::f32, 8);
  const ops::LayerNormResult f32 = ops::layer_norm(x, gamma, beta, 1e-6);
  const ops::LayerNormResult mixed = ops::layer_norm(x, gamma, beta, 1e-6, DType::bf16);
  CHECK(relative_error(mixed.y, ops::to(f32.y, DType::bf16)) == 0);
  CHECK(relative_error(mixed.mean, f32.mean) == 0);
  CHECK(relative_error(mixed.rstd, f32.rstd) == 0);
  // A half dy: the same as the f32 backward of dy cast to f32.
  const Tensor dy_half = ops::to(dy, DType::bf16);
  const ops::LayerNormGrads want = ops::layer_norm_backward(x, gamma, f32.mean, f32.rstd, ops::to(dy_half, DType::f32));
  const ops::LayerNormGrads got = ops::layer_norm_backward(x, gamma, f32.mean, f32.rstd, dy_half);
  CHECK(relative_error(got.dx, want.dx) == 0);
  CHECK(relative_error(got.dgamma, want.dgamma) == 0);
  CHECK(relative_error(got.dbeta, want.dbeta) == 0);
  // dx_add: the layer norm's dx added onto it, in f64, f32 and bf16.
  for (DType dt : {DType::f64, DType::f32, DType::bf16}) {
    CAPTURE(dt);
    const Tensor xt = ops::to(x, dt), gt = ops::to(gamma, dt), dyt = ops::to(dy, dt), addt = ops::to(dx_add, dt);
    const ops::LayerNormResult r = ops::layer_norm(xt, gt, ops::to(beta, dt), 1e-6);
    const ops::LayerNormGrads plain = ops::layer_norm_backward(xt, gt, r.mean, r.rstd, dyt);
    const ops::LayerNormGrads onto = ops::layer_norm_backward(xt, gt, r.mean, r.rstd, dyt, addt);
    CHECK(relative_error(onto.dx, ops::add(addt, plain.dx)) <= (dt == DType::bf16 ? 0.0 : tolerance(dt)));
    CHECK(relative_error(onto.dgamma, plain.dgamma) == 0);
    CHECK(relative_error(onto.dbeta, plain.dbeta) == 0);
  }
}

TEST_CASE("linear_weight_grad is x^T @ dy and dy's rows summed (f64, f32, bf16, x transposed)") {
  for (DType dt : {DType::f64, DType::f32, DType::bf16}) {
    CAPTURE(dt);
    const Tensor x = uniform({300, 24}, dt, 9), dy = uniform({300, 40}, dt, 10);  // [R, K], [R, N]
    for (const Tensor& xv : {x, ops::transpose(ops::contiguous(ops::transpose(x, 0, 1)), 0, 1)}) {
      const ops::LinearWeightGrads g = ops::linear_weight_grad(xv, dy);
      CHECK(relative_error(g.dw, ops::matmul(ops::transpose(xv, 0, 1), dy)) == 0);
      CHECK(relative_error(g.dbias, ops::sum(dy, {0})) == 0);
    }
  }
}

TEST_CASE("depthwise conv with a half y is the conv then a cast, and its backward reads a half dy") {
  const Shape shape{4, 232, 64};  // [B, L, C]
  const Tensor x = uniform(shape, DType::f32, 11), w = uniform({15, 64}, DType::f32, 12);
  const Tensor dy_half = uniform(shape, DType::bf16, 13);
  CHECK(relative_error(ops::depthwise_conv1d(x, w, 7, DType::bf16), ops::to(ops::depthwise_conv1d(x, w, 7), DType::bf16)) ==
        0);
  auto [dx, dw] = ops::depthwise_conv1d_backward(x, w, dy_half, 7);
  auto [dx32, dw32] = ops::depthwise_conv1d_backward(x, w, ops::to(dy_half, DType::f32), 7);
  CHECK(relative_error(dx, dx32) == 0);
  CHECK(relative_error(dw, dw32) == 0);
  // bf16 throughout: the f32 computation on the rounded inputs, rounded once.
  const Tensor xh = ops::to(x, DType::bf16), wh = ops::to(w, DType::bf16);
  const Tensor xr = ops::to(xh, DType::f32), wr = ops::to(wh, DType::f32);
  CHECK(relative_error(ops::depthwise_conv1d(xh, wh, 7), ops::to(ops::depthwise_conv1d(xr, wr, 7), DType::bf16)) == 0);
}

// The attention of nn::MultiHeadAttention as it was before linear_concat and
// attention(): three linears, the heads as views, matmul, softmax, matmul.
Tensor unfused_attention(const Tensor& x, const std::vector<Tensor>& w, int64_t heads, int64_t head_dim) {
  const int64_t B = x.size(0), T = x.size(1);
  auto split_heads = [&](const Tensor& t) { return permute(reshape(t, {B, T, heads, head_dim}), {0, 2, 1, 3}); };
  const Tensor q = split_heads(linear(x, w[0], w[3])), k = split_heads(linear(x, w[1], w[4])),
               v = split_heads(linear(x, w[2], w[5]));
  const Tensor p = softmax(matmul(q, transpose(k, -1, -2), 1.0 / std::sqrt(double(head_dim))));
  return reshape(permute(matmul(p, v), {0, 2, 1, 3}), {B, T, heads * head_dim});
}

TEST_CASE("linear_concat and attention give the unfused attention's values and gradients (f32, bf16 autocast)") {
  const int64_t heads = 2, head_dim = 8, D = 16, inner = heads * head_dim;
  for (DType low : {DType::f32, DType::bf16}) {
    CAPTURE(low);
    std::vector<Tensor> results[2];  // context, then the gradients of x and of the six parameters
    for (int fused = 0; fused < 2; ++fused) {
      Tensor x = uniform({3, 29, D}, DType::f32, 20, -2, 2);
      std::vector<Tensor> w;  // wq, wk, wv [D, inner], bq, bk, bv [inner]
      for (uint64_t i = 0; i < 3; ++i) w.push_back(uniform({D, inner}, DType::f32, 21 + i, -0.5, 0.5));
      for (uint64_t i = 0; i < 3; ++i) w.push_back(uniform({inner}, DType::f32, 24 + i, -0.5, 0.5));
      x.set_requires_grad(true);
      for (Tensor& t : w) t.set_requires_grad(true);
      Tensor loss, context;
      {
        autocast::AutocastGuard guard(low);
        const Tensor h = x * 1.0;  // x reaches the projections through an op, as the residual stream does
        context = fused ? attention(linear_concat(h, {w[0], w[1], w[2]}, {w[3], w[4], w[5]}), heads, head_dim)
                        : unfused_attention(h, w, heads, head_dim);
        // h also has a gradient of its own (a residual stream's): the projections' is added onto it.
        loss = sum(mul(h, uniform({3, 29, D}, DType::f32, 27))) +
               sum(mul(context, ops::to(uniform({3, 29, inner}, DType::f32, 28), context.dtype())));
      }
      loss.backward();
      results[fused] = {context.detach(), x.grad()};
      for (const Tensor& t : w) results[fused].push_back(t.grad());
    }
    // f32: the same sums in other GEMM orders; bf16: the same roundings, of
    // f32 values that may differ in their last bits (a bf16 unit or two).
    const double bound = low == DType::f32 ? 1e-5 : 0x1p-6;
    for (size_t i = 0; i < results[0].size(); ++i) {
      CAPTURE(i);
      CHECK(relative_error(results[1][i], results[0][i]) <= bound);
    }
  }
}
