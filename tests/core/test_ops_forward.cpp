// Forward values of pf::ops against numbers computed by hand (the working is
// in the comments), and half-precision inputs, which the CPU computes in f32.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "f32_engines.h"
#include "test_util.h"

using namespace pf;

namespace {

Tensor f32(std::vector<float> values, const Shape& shape) { return Tensor::from_vector<float>(values, shape); }

// Checks the shape and the values, to within tol * (1 + |value|).
void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected, double tol = 1e-5) {
  REQUIRE(t.shape() == shape);
  const std::vector<double> got = t.to_vector<double>();
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", expected ", expected[i]);
    CHECK(std::abs(got[i] - expected[i]) <= tol * (1 + std::abs(expected[i])));
  }
}

}  // namespace

TEST_CASE("forward: matmul 2x3 @ 3x2") {
  // [1 2 3; 4 5 6] @ [7 8; 9 10; 11 12] = [1*7+2*9+3*11, ...] = [58 64; 139 154]
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3}), b = f32({7, 8, 9, 10, 11, 12}, {3, 2});
  check_values(ops::matmul(a, b), {2, 2}, {58, 64, 139, 154});
  // The same product from transposed views (no copies): (b^T @ a^T)^T.
  Tensor bt = ops::transpose(f32({7, 9, 11, 8, 10, 12}, {2, 3}), 0, 1);
  check_values(ops::matmul(a, bt), {2, 2}, {58, 64, 139, 154});
}

TEST_CASE("forward: linear with and without its fused ReLU") {
  // [1 -2; 3 4] @ [1 0; 0 1] + [0.5 -5] = [1.5 -7; 3.5 -1]; the ReLU zeroes the negatives.
  Tensor x = f32({1, -2, 3, 4}, {2, 2}), w = f32({1, 0, 0, 1}, {2, 2}), bias = f32({0.5, -5}, {2});
  check_values(ops::linear(x, w, bias), {2, 2}, {1.5, -7, 3.5, -1});
  check_values(ops::linear(x, w, bias, /*relu=*/true), {2, 2}, {1.5, 0, 3.5, 0});
}

TEST_CASE("forward: softmax and log_softmax of [1, 2, 3]") {
  // e^(x - 3) = [e^-2, e^-1, 1], sum = 1.5032147; softmax = [0.0900306, 0.2447285, 0.6652410]
  Tensor x = f32({1, 2, 3}, {1, 3});
  check_values(ops::softmax(x), {1, 3}, {0.09003057, 0.24472847, 0.66524096});
  // log_softmax = x - 3 - log(1.5032147) = x - 3.4076060
  check_values(ops::softmax(x, true), {1, 3}, {-2.40760596, -1.40760596, -0.40760596});
}

TEST_CASE("forward: layer_norm of one row") {
  // x = [1 2 3 4]: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25,
  // xhat = (x - 2.5) / sqrt(1.25) = [-1.3416408, -0.4472136, 0.4472136, 1.3416408];
  // y = xhat * [1 2 1 0.5] + [0 1 0 -1].
  Tensor x = f32({1, 2, 3, 4}, {1, 4});
  ops::LayerNormResult r = ops::layer_norm(x, f32({1, 2, 1, 0.5}, {4}), f32({0, 1, 0, -1}, {4}), 0.0);
  check_values(r.y, {1, 4}, {-1.3416408, 0.1055728, 0.4472136, -0.3291796});
  check_values(r.mean, {1}, {2.5});
  check_values(r.rstd, {1}, {0.8944272});
}

TEST_CASE("forward: swiglu") {
  // x = [a | g] = [1 2 -1 | 0 1 2]: y = a * g * sigmoid(g)
  //   = [1 * 0 * 0.5, 2 * 1 * 0.7310586, -1 * 2 * 0.8807971] = [0, 1.4621172, -1.7615942]
  check_values(ops::swiglu(f32({1, 2, -1, 0, 1, 2}, {1, 6})), {1, 3}, {0, 1.4621172, -1.7615942});
}

TEST_CASE("forward: gelu against the normal CDF") {
  // gelu(x) = x * Phi(x): Phi(1) = 0.8413447, Phi(2) = 0.9772499, Phi(-3) = 0.0013499
  Tensor x = f32({-3, -1, 0, 1, 2}, {5});
  check_values(ops::unary(UnaryOp::Gelu, x), {5}, {-0.0040496940, -0.1586552539, 0, 0.8413447461, 1.9544997361});
}

TEST_CASE("forward: conv1d by hand") {
  SUBCASE("one channel, kernel [1 10], bias 0.5, padding 1 left") {
    // y[t] = 1 * x[t-1] + 10 * x[t] + 0.5 over x = [1 2 3] with x[-1] = 0: [10.5, 21.5, 32.5]
    Tensor y = ops::conv1d(f32({1, 2, 3}, {1, 3, 1}), f32({1, 10}, {2, 1, 1}), f32({0.5}, {1}), 1, 0);
    check_values(y, {1, 3, 1}, {10.5, 21.5, 32.5});
  }
  SUBCASE("two channels, kernel 2, no padding") {
    // x[t] = [t+1, 10(t+1)], w[0] = [1, 0.1], w[1] = [2, 0]:
    // y[t] = x[t][0] + 0.1 x[t][1] + 2 x[t+1][0] -> y[0] = 1 + 1 + 4 = 6, y[1] = 2 + 2 + 6 = 10
    Tensor y = ops::conv1d(f32({1, 10, 2, 20, 3, 30}, {1, 3, 2}), f32({1, 0.1f, 2, 0}, {2, 2, 1}), Tensor(), 0, 0);
    check_values(y, {1, 2, 1}, {6, 10});
  }
  SUBCASE("k-mer geometry: kernel 10, padding 4 / 5 keeps the length") {
    // All ones: y[t] counts the positions of [t - 4, t + 5] inside [0, 12).
    Tensor y = ops::conv1d(Tensor::ones({1, 12, 1}), Tensor::ones({10, 1, 1}), Tensor(), 4, 5);
    check_values(y, {1, 12, 1}, {6, 7, 8, 9, 10, 10, 10, 9, 8, 7, 6, 5});
  }
}

TEST_CASE("forward: depthwise_conv1d by hand") {
  // x[:, c0] = [1 2 3 4] with kernel [1 0 -1]: y[t] = x[t-1] - x[t+1] = [-2 -2 -2 3];
  // x[:, c1] = [1 1 1 1] with kernel [1 1 1]: moving sum of 3 = [2 3 3 2]. pad_left 1 ('same').
  Tensor x = f32({1, 1, 2, 1, 3, 1, 4, 1}, {1, 4, 2});
  Tensor w = f32({1, 1, 0, 1, -1, 1}, {3, 2});
  check_values(ops::depthwise_conv1d(x, w, 1), {1, 4, 2}, {-2, 2, -2, 3, -2, 3, 3, 2});
}

TEST_CASE("forward: embedding and one_hot") {
  Tensor weight = f32({0, 1, 2, 3, 4, 5}, {3, 2});
  Tensor ids = Tensor::from_vector<int64_t>({2, 0, 1, 2}, {2, 2});
  check_values(ops::embedding(weight, ids), {2, 2, 2}, {4, 5, 0, 1, 2, 3, 4, 5});
  check_values(ops::one_hot(Tensor::from_vector<int32_t>({2, 0, 1}, {3}), 4), {3, 4},
               {0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0});
  CHECK_THROWS_AS(ops::embedding(weight, Tensor::from_vector<int64_t>({3}, {1})), Error);  // outside the vocabulary
}

TEST_CASE("forward: cross_entropy") {
  // Row [1 2 3], target 2: logsumexp = 3 + log(1 + e^-1 + e^-2) = 3.4076060, loss = 3.4076060 - 3.
  // Row [0 0 0], target 1: log 3.
  Tensor loss = ops::cross_entropy(f32({1, 2, 3, 0, 0, 0}, {2, 3}), Tensor::from_vector<int64_t>({2, 1}, {2}));
  check_values(loss, {2}, {0.40760596, std::log(3.0)});
}

TEST_CASE("forward: sum, mean and max over dims") {
  Tensor x = f32({1, 5, 2, 4, 3, 6}, {2, 3});  // [1 5 2; 4 3 6]
  check_values(ops::sum(x), {}, {21});
  check_values(ops::sum(x, {0}), {3}, {5, 8, 8});
  check_values(ops::sum(x, {-1}, true), {2, 1}, {8, 13});
  check_values(ops::mean(x), {}, {3.5});
  check_values(ops::mean(x, {1}), {2}, {8.0 / 3, 13.0 / 3});
  check_values(ops::max(x, 0), {3}, {4, 5, 6});
  check_values(ops::max(x, 1, true), {2, 1}, {5, 6});
  // [2, 2, 2] = 0..7 summed over dims 0 and 2: [0+1+4+5, 2+3+6+7]
  check_values(ops::sum(ops::reshape(Tensor::arange(8), {2, 2, 2}), {0, 2}), {2}, {10, 18});
}

TEST_CASE("forward: broadcasting add") {
  // [2, 1] + [3] -> [2, 3]: row i is a[i] + b
  check_values(ops::add(f32({1, 2}, {2, 1}), f32({10, 20, 30}, {3})), {2, 3}, {11, 21, 31, 12, 22, 32});
  // [3, 1] + [1, 2] -> [3, 2]
  check_values(ops::add(f32({1, 2, 3}, {3, 1}), f32({10, 20}, {1, 2})), {3, 2}, {11, 21, 12, 22, 13, 23});
}

TEST_CASE("forward: concat") {
  check_values(ops::concat({f32({1, 2}, {1, 2}), f32({3, 4, 5, 6}, {2, 2})}, 0), {3, 2}, {1, 2, 3, 4, 5, 6});
  check_values(ops::concat({f32({1, 2}, {2, 1}), f32({3, 4, 5, 6}, {2, 2})}, -1), {2, 3}, {1, 3, 4, 2, 5, 6});
}

TEST_CASE("forward: linear_concat and its dx are the joined weights' linear and product, on either f32 engine") {
  // x [R, K] @ [w0 | w1 | w2] + [b0 | b1 | b2], widths that cut the GEMM's
  // tiles unevenly. Where our GEMM runs, each weight's product writes its own
  // columns (CpuBackend::linear_concat), summing every element over k in the
  // same order as the joined product: the same bits; elsewhere (oneDNN) the
  // joined product itself. dx sums each weight's product in f32 on our GEMM:
  // the joined one's value to f32 rounding.
  Generator gen(21);
  const Tensor x = ops::uniform({37, 45}, -1, 1, gen);
  const std::vector<int64_t> widths = {33, 64, 7};
  std::vector<Tensor> ws, biases;
  for (int64_t width : widths) {
    ws.push_back(ops::uniform({45, width}, -1, 1, gen));
    biases.push_back(ops::uniform({width}, -1, 1, gen));
  }
  test::for_each_f32_engine([&](cpu::F32Engine) {
    for (DType dtype : {DType::f32, DType::bf16, DType::f16}) {
      INFO(dtype_name(dtype));
      std::vector<Tensor> ws_t, biases_t;
      for (size_t i = 0; i < ws.size(); ++i) {
        ws_t.push_back(ops::to(ws[i], dtype));
        biases_t.push_back(ops::to(biases[i], dtype));
      }
      const Tensor xt = ops::to(x, dtype);
      const Tensor joined = ops::linear(xt, ops::concat(ws_t, 1), ops::concat(biases_t, 0));
      const Tensor split = ops::linear_concat(xt, ws_t, biases_t);
      REQUIRE(split.shape() == Shape{37, 104});
      CHECK(split.to_vector<float>() == joined.to_vector<float>());
      // Its input gradient: each weight's product summed (our GEMM, f32), or one of the joined weights.
      const Tensor g = ops::to(ops::uniform({37, 104}, -1, 1, gen), dtype);
      const Tensor dx = ops::linear_concat_dx(g, ws_t);
      const Tensor dx_joined = ops::matmul(g, ops::transpose(ops::concat(ws_t, 1), 0, 1));
      check_values(dx, {37, 45}, dx_joined.to_vector<double>(), dtype == DType::f32 ? 1e-5 : 0.0);
    }
  });
  CHECK(test::error_of([&] { ops::linear_concat(x, {ws[0]}, {}); }).find("needs as many biases as weights") !=
        std::string::npos);
}

TEST_CASE("forward: half-precision inputs are computed in f32 and returned as half") {
  for (DType half : {DType::bf16, DType::f16}) {
    INFO(dtype_name(half));
    // 1 + tiny rounds back to 1 in this half type (tiny is half its epsilon),
    // but 1 + 4 tiny is representable: only an f32 accumulation gets there.
    const float tiny = half == DType::bf16 ? 1.0f / 256 : 1.0f / 2048;
    Tensor a = ops::to(f32({1, tiny, tiny, tiny, tiny}, {1, 5}), half);
    Tensor y = ops::matmul(a, ops::to(Tensor::ones({5, 1}), half));
    CHECK(y.dtype() == half);
    check_values(y, {1, 1}, {1 + 4 * tiny}, 0);

    Tensor sum = ops::add(ops::to(f32({1.5f, -2, 0.25f}, {3}), half), ops::to(f32({0.5f}, {1}), half));
    CHECK(sum.dtype() == half);
    check_values(sum, {3}, {2, -1.5, 0.75}, 0);
  }
}
