// Mixed precision pieces on their own: the precision policy (autocast), the
// half-type CPU kernels against f32, and the f16 loss scaler.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/autocast.h"
#include "nn/layers/linear.h"
#include "nn/optim/loss_scaler.h"

using namespace pf;

namespace {

// bf16 keeps 8 significant bits: one rounding is off by at most 2^-8 relative.
constexpr double kBf16Unit = 1.0 / 256;

double max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> x = ops::to(a, DType::f64).to_vector<double>(), y = ops::to(b, DType::f64).to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

}  // namespace

TEST_CASE("autocast: linear runs in bf16, the loss in f32, gradients reach the f32 weights, a weight is cast once") {
  Generator gen(3);
  nn::Linear layer(16, 8, true, gen);
  Tensor x = ops::uniform({4, 16}, -1, 1, gen);
  Tensor y32 = layer.forward(x);
  Tensor y, loss;
  {
    autocast::AutocastGuard guard(DType::bf16);
    y = layer.forward(x);
    Tensor y_again = layer.forward(x);  // the same weights again: no second cast
    CHECK(autocast::parameter_casts() == 2);  // weight and bias
    loss = mean(mul(add(y, y_again), add(y, y_again)));
  }
  CHECK(y.dtype() == DType::bf16);
  CHECK(loss.dtype() == DType::f32);
  CHECK(!autocast::enabled());
  // Inputs and weights rounded (2 roundings) and the output (1): 3 units of the
  // largest |term| sum, which is at most 16 * 1 * |w| here.
  CHECK(max_abs_diff(y, y32) <= 3 * kBf16Unit * 16 * 0.6);
  CHECK(max_abs_diff(y, y32) > 0);
  loss.backward();
  REQUIRE(layer.weight.grad().defined());
  CHECK(layer.weight.grad().dtype() == DType::f32);
  CHECK(layer.bias.grad().dtype() == DType::f32);
}

TEST_CASE("autocast: softmax of bf16 scores computes in f32 and rounds once, its gradient from f32 probabilities") {
  Generator gen(4);
  Tensor scores = ops::uniform({3, 37}, -4, 4, gen);
  scores.set_requires_grad(true);
  Tensor probabilities, log_probabilities, low_scores;
  {
    autocast::AutocastGuard guard(DType::bf16);
    low_scores = cast(scores, DType::bf16);  // what a bf16 GEMM hands the softmax
    probabilities = softmax(low_scores);
    log_probabilities = log_softmax(low_scores);
  }
  CHECK(probabilities.dtype() == DType::bf16);  // what the next GEMM reads
  CHECK(log_probabilities.dtype() == DType::f32);
  // torch.autocast's f32 softmax of the rounded scores, rounded once to bf16
  // (an f32 sum in another order may move a value by a unit of f32 first).
  const Tensor scores32 = ops::to(low_scores.detach(), DType::f32);
  const Tensor f32_probabilities = ops::softmax(scores32, false);
  CHECK(max_abs_diff(probabilities, ops::to(f32_probabilities, DType::bf16)) <= kBf16Unit);
  const Tensor weights = ops::to(ops::uniform({3, 37}, -1, 1, gen), DType::bf16);
  sum(mul(probabilities, weights)).backward();
  REQUIRE(scores.grad().defined());
  CHECK(scores.grad().dtype() == DType::f32);
  // The gradient of the f32 probabilities, rounded once to bf16 (the cast's backward).
  const Tensor want = ops::to(ops::softmax_backward(f32_probabilities, ops::to(weights, DType::f32)), DType::bf16);
  CHECK(max_abs_diff(scores.grad(), want) <= kBf16Unit);
}

TEST_CASE("autocast: an op missing from the policy table is an error, not silently f32") {
  autocast::AutocastGuard guard(DType::bf16);
  CHECK_THROWS_WITH(autocast::policy("conv3d"), doctest::Contains("kPolicy"));
}

TEST_CASE("half kernels: softmax, layer norm, swiglu, cross-entropy, dropout and Adam load bf16/f16, compute f32") {
  Generator gen(5);
  Tensor x = ops::uniform({6, 24}, -3, 3, gen);
  Tensor gamma = ops::uniform({24}, 0.5, 1.5, gen), beta = ops::uniform({24}, -1, 1, gen);
  Tensor targets = Tensor::from_vector(std::vector<int32_t>{0, 3, 5, 7, 11, 23}, {6});
  for (DType half : {DType::bf16, DType::f16}) {
    CAPTURE(half);
    // The input rounded to the half type is the reference's input too, so only
    // the output rounding (1 unit: 2^-8 for bf16, 2^-11 for f16) remains.
    const double unit = half == DType::bf16 ? kBf16Unit : 1.0 / 2048;
    Tensor xh = ops::to(x, half), xr = ops::to(xh, DType::f32);
    auto close = [&](const Tensor& got, const Tensor& want, double scale) {
      CHECK(got.dtype() == half);
      CHECK(max_abs_diff(got, want) <= unit * scale);
    };
    close(ops::softmax(xh), ops::softmax(xr), 1.0);
    close(ops::swiglu(xh), ops::swiglu(xr), 9.0);
    ops::LayerNormResult ln = ops::layer_norm(xh, ops::to(gamma, half), ops::to(beta, half), 1e-6);
    ops::LayerNormResult ref = ops::layer_norm(xr, ops::to(ops::to(gamma, half), DType::f32),
                                               ops::to(ops::to(beta, half), DType::f32), 1e-6);
    CHECK(ln.mean.dtype() == DType::f32);  // statistics stay f32
    close(ln.y, ref.y, 4.0);
    close(ops::cross_entropy(xh, targets), ops::cross_entropy(xr, targets), 8.0);
    Generator g1(9), g2(9);
    close(ops::dropout_mask({6, 24}, 0.5, g1, half), ops::dropout_mask({6, 24}, 0.5, g2), 2.0);
    close(ops::matmul(xh, ops::transpose(xh, 0, 1)), ops::matmul(xr, ops::transpose(xr, 0, 1)), 24 * 9.0);
  }
}

TEST_CASE("loss scaler: an inf gradient skips the step and halves the scale, clean steps double it back") {
  Tensor w = Tensor::ones({2, 2});
  w.set_requires_grad(true);
  const nn::NamedTensors params = {{"layer.weight", w}};
  nn::LossScaler scaler(2);
  CHECK(scaler.scale() == 65536.0);

  w.set_grad(Tensor::from_vector(std::vector<float>{1, std::numeric_limits<float>::infinity(), 3, 4}, {2, 2}));
  CHECK(nn::first_non_finite_gradient(params) == "layer.weight");
  CHECK_FALSE(scaler.unscale_or_skip(params));  // skip
  CHECK(scaler.scale() == 32768.0);               // halved
  CHECK_FALSE(w.grad().defined());                // the bad gradient is dropped

  for (int step = 0; step < 2; ++step) {
    w.set_grad(ops::mul(Tensor::ones({2, 2}), 32768.0 * 3));
    CHECK(scaler.unscale_or_skip(params));
    CHECK(w.grad().to_vector<float>() == std::vector<float>{3, 3, 3, 3});  // unscaled
  }
  CHECK(scaler.scale() == 65536.0);  // two clean steps: grown back
  CHECK(scaler.state().clean_steps == 0);
}
