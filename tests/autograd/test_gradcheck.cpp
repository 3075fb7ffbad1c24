// Finite-difference gradient checks: one TEST_CASE per differentiable op of
// autograd/functional.h, plus two engine cases (a non-contiguous input and a
// tensor used twice). pf::gradcheck compares backward() with central
// differences in f64 (eps 1e-6, |analytic - numeric| <= 1e-5 + 1e-3 |numeric|)
// and its per-input report is printed when they disagree.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functional.h"
#include "autograd/gradcheck.h"

using namespace pf;

namespace {

using Inputs = std::vector<Tensor>;

// Seeded f64 inputs. Each test case makes its own, so no test depends on the
// order the others ran in.
struct Random {
  Generator gen{2024};
  Tensor normal(const Shape& shape) { return ops::normal(shape, 0.0, 1.0, gen, DType::f64); }
  Tensor uniform(const Shape& shape, double lo, double hi) { return ops::uniform(shape, lo, hi, gen, DType::f64); }
};

void check_grad(const std::string& what, const Inputs& inputs, const std::function<Tensor(const Inputs&)>& fn) {
  const GradcheckOptions options{.eps = 1e-6, .atol = 1e-5, .rtol = 1e-3};
  GradcheckResult result = gradcheck(fn, inputs, options);
  INFO(what);
  INFO(result.report);
  CHECK(result.ok);
}

// The same for the many ops that take one tensor.
void check_unary(const std::string& what, const Tensor& x, const std::function<Tensor(const Tensor&)>& f) {
  check_grad(what, {x}, [f](const Inputs& in) { return f(in[0]); });
}

// A broadcasting binary op on equal shapes and on three broadcasting pairs;
// b lies in [0.5, 2] so that div stays smooth.
void check_binary(const std::function<Tensor(const Tensor&, const Tensor&)>& op) {
  Random rnd;
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 4}}, {{4}, {2, 3, 4}}};
  for (const auto& [a, b] : shapes)
    check_grad(shape_str(a) + " with " + shape_str(b), {rnd.normal(a), rnd.uniform(b, 0.5, 2.0)},
               [op](const Inputs& in) { return op(in[0], in[1]); });
}

}  // namespace

// ---- elementwise ----

TEST_CASE("gradcheck: add") {
  check_binary([](const Tensor& a, const Tensor& b) { return a + b; });
}

TEST_CASE("gradcheck: sub") {
  check_binary([](const Tensor& a, const Tensor& b) { return a - b; });
}

TEST_CASE("gradcheck: mul") {
  check_binary([](const Tensor& a, const Tensor& b) { return a * b; });
}

TEST_CASE("gradcheck: div") {
  check_binary([](const Tensor& a, const Tensor& b) { return a / b; });
}

TEST_CASE("gradcheck: add_scaled") {
  check_binary([](const Tensor& x, const Tensor& y) { return add_scaled(x, y, -0.7); });
}

TEST_CASE("gradcheck: add scalar") {
  Random rnd;
  check_unary("x + 2.5", rnd.normal({2, 3}), [](const Tensor& x) { return x + 2.5; });
  check_unary("x - 1", rnd.normal({2, 3}), [](const Tensor& x) { return x - 1.0; });
}

TEST_CASE("gradcheck: mul scalar") {
  Random rnd;
  check_unary("x * -1.5", rnd.normal({2, 3}), [](const Tensor& x) { return x * -1.5; });
  check_unary("x / 4", rnd.normal({2, 3}), [](const Tensor& x) { return x / 4.0; });
}

TEST_CASE("gradcheck: pow") {
  Random rnd;
  for (double p : {3.0, 0.5, -1.5})
    check_unary("x^" + std::to_string(p), rnd.uniform({2, 3}, 0.5, 2.0), [p](const Tensor& x) { return pow(x, p); });
}

TEST_CASE("gradcheck: neg") { check_unary("neg", Random().normal({2, 3}), pf::neg); }
TEST_CASE("gradcheck: exp") { check_unary("exp", Random().normal({2, 3}), pf::exp); }
TEST_CASE("gradcheck: log") { check_unary("log", Random().uniform({2, 3}, 0.2, 3.0), pf::log); }
TEST_CASE("gradcheck: sqrt") { check_unary("sqrt", Random().uniform({2, 3}, 0.2, 3.0), pf::sqrt); }
TEST_CASE("gradcheck: tanh") { check_unary("tanh", Random().normal({2, 3}), pf::tanh); }
TEST_CASE("gradcheck: sigmoid") { check_unary("sigmoid", Random().normal({2, 3}), pf::sigmoid); }
TEST_CASE("gradcheck: silu") { check_unary("silu", Random().normal({2, 3}), pf::silu); }
TEST_CASE("gradcheck: gelu") { check_unary("gelu", Random().normal({2, 3}), pf::gelu); }

TEST_CASE("gradcheck: relu") {
  // Well away from the kink at 0, where a finite difference would straddle it.
  check_unary("relu", Tensor::from_vector<double>({-1.5, -0.7, -0.2, 0.3, 0.8, 1.9}, {2, 3}), pf::relu);
}

TEST_CASE("gradcheck: cast") {
  // Finite differences through f32 would measure f32 rounding, not the
  // gradient, so the f64 check is the identity cast; the f32 round trip is
  // checked exactly instead: its gradient is the incoming one cast back.
  Random rnd;
  check_unary("cast f64 -> f64", rnd.normal({2, 3}), [](const Tensor& x) { return cast(x, DType::f64) * 2.0; });

  Tensor x = rnd.normal({2, 3}).set_requires_grad(true);
  sum(cast(cast(x, DType::f32) * 3.0, DType::f64)).backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().dtype() == DType::f64);
  CHECK(x.grad().to_vector<double>() == std::vector<double>(6, 3.0));
}

TEST_CASE("gradcheck: dropout") {
  // A new generator with the same seed in every call gives the same mask, so
  // dropout is a fixed linear map that finite differences can check.
  auto drop = [](const Tensor& x) {
    Generator gen(99);
    return dropout(x, 0.4, true, gen);
  };
  const Tensor x = Random().normal({4, 8});
  check_unary("dropout p = 0.4", x, drop);
  const std::vector<double> y = drop(x).to_vector<double>();
  CHECK(std::count(y.begin(), y.end(), 0.0) > 0);  // the mask really drops something
  Generator gen(99);
  CHECK(dropout(x, 0.4, false, gen).is_same(x));  // evaluation: the identity
}

// ---- shape ----

TEST_CASE("gradcheck: reshape") {
  check_unary("[2, 3, 4] -> [4, -1]", Random().normal({2, 3, 4}), [](const Tensor& x) { return reshape(x, {4, -1}); });
}

TEST_CASE("gradcheck: permute") {
  check_unary("{2, 0, 1}", Random().normal({2, 3, 4}), [](const Tensor& x) { return permute(x, {2, 0, 1}); });
}

TEST_CASE("gradcheck: transpose") {
  check_unary("dims -1, 0", Random().normal({2, 3, 4}), [](const Tensor& x) { return transpose(x, -1, 0); });
}

TEST_CASE("gradcheck: narrow") {
  check_unary("dim 1 [1, 3)", Random().normal({2, 4, 3}), [](const Tensor& x) { return narrow(x, 1, 1, 2); });
}

TEST_CASE("gradcheck: slice") {
  Random rnd;
  check_unary("x[:, -5::2]", rnd.normal({2, 6, 3}), [](const Tensor& x) { return slice(x, 1, -5, 6, 2); });
  check_unary("x[1:4:3]", rnd.normal({5, 2}), [](const Tensor& x) { return slice(x, 0, 1, 4, 3); });
  check_unary("empty x[:, 2:2:2]", rnd.normal({2, 6}), [](const Tensor& x) { return slice(x, 1, 2, 2, 2); });
}

TEST_CASE("gradcheck: expand") {
  check_unary("[3, 1] -> [2, 3, 4]", Random().normal({3, 1}), [](const Tensor& x) { return expand(x, {2, 3, 4}); });
}

TEST_CASE("gradcheck: unsqueeze") {
  Random rnd;
  check_unary("dim 1", rnd.normal({2, 3}), [](const Tensor& x) { return unsqueeze(x, 1); });
  check_unary("dim -1", rnd.normal({2, 3}), [](const Tensor& x) { return unsqueeze(x, -1); });
}

TEST_CASE("gradcheck: squeeze") {
  check_unary("dim 1 of [2, 1, 3]", Random().normal({2, 1, 3}), [](const Tensor& x) { return squeeze(x, 1); });
}

TEST_CASE("gradcheck: contiguous") {
  // contiguous() of a transposed view is a recorded copy.
  check_unary("of x^T", Random().normal({3, 4}), [](const Tensor& x) { return contiguous(transpose(x, 0, 1)); });
}

TEST_CASE("gradcheck: concat") {
  Random rnd;
  check_grad("dim 1 of [2, 1, 3], [2, 3, 3], [2, 2, 3]",
             {rnd.normal({2, 1, 3}), rnd.normal({2, 3, 3}), rnd.normal({2, 2, 3})},
             [](const Inputs& in) { return concat(in, 1); });
  check_grad("dim -1", {rnd.normal({2, 3}), rnd.normal({2, 2})}, [](const Inputs& in) { return concat(in, -1); });
}

TEST_CASE("gradcheck: split") {
  Random rnd;
  // Re-joined in another order, so each piece's gradient must come back to its own place.
  check_unary("{2, 4, 1} re-joined as {2, 0, 1}", rnd.normal({2, 7, 3}), [](const Tensor& x) {
    std::vector<Tensor> p = split(x, {2, 4, 1}, 1);
    return concat({p[2], p[0], p[1]}, 1);
  });
  // The pieces that are not used get no gradient: it must be zero there.
  check_unary("only the middle piece used", rnd.normal({2, 7, 3}),
              [](const Tensor& x) { return split(x, {2, 4, 1}, 1)[1]; });
}

TEST_CASE("gradcheck: chunk") {
  check_unary("3 chunks of dim 1", Random().normal({2, 6}), [](const Tensor& x) {
    std::vector<Tensor> p = chunk(x, 3, 1);
    return p[0] * p[2] + p[1];
  });
}

// ---- reductions ----

TEST_CASE("gradcheck: sum") {
  const Tensor x = Random().normal({2, 3, 4});
  check_unary("all dims", x, [](const Tensor& t) { return sum(t); });
  check_unary("dims {0, 2}", x, [](const Tensor& t) { return sum(t, {0, 2}); });
  check_unary("dim -1, keepdim", x, [](const Tensor& t) { return sum(t, {-1}, true); });
  check_unary("dim 1, keepdim", x, [](const Tensor& t) { return sum(t, {1}, true); });
}

TEST_CASE("gradcheck: mean") {
  const Tensor x = Random().normal({2, 3, 4});
  check_unary("all dims", x, [](const Tensor& t) { return mean(t); });
  check_unary("dims {0, 2}", x, [](const Tensor& t) { return mean(t, {0, 2}); });
  check_unary("dim 1, keepdim", x, [](const Tensor& t) { return mean(t, {1}, true); });
}

TEST_CASE("gradcheck: max") {
  // Normal samples are distinct (far more than eps apart), so the argmax is stable.
  const Tensor x = Random().normal({3, 4, 5});
  check_unary("dim 1", x, [](const Tensor& t) { return max(t, 1); });
  check_unary("dim -1, keepdim", x, [](const Tensor& t) { return max(t, -1, true); });
  check_unary("dim 0", x, [](const Tensor& t) { return max(t, 0); });
}

// ---- linear algebra ----

TEST_CASE("gradcheck: linear") {
  Random rnd;
  auto fn = [](const Inputs& in) { return linear(in[0], in[1], in[2]); };
  check_grad("[3, 4] @ [4, 5] + [5]", {rnd.normal({3, 4}), rnd.normal({4, 5}), rnd.normal({5})}, fn);
  check_grad("transposed weight view", {rnd.normal({3, 4}), ops::transpose(rnd.normal({5, 4}), 0, 1), rnd.normal({5})},
             fn);
  check_grad("x [2, 3, 4], flattened inside the node", {rnd.normal({2, 3, 4}), rnd.normal({4, 5}), rnd.normal({5})}, fn);
}

TEST_CASE("gradcheck: linear_concat (three weights and biases, one GEMM)") {
  Random rnd;
  auto fn = [](const Inputs& in) { return linear_concat(in[0], {in[1], in[2], in[3]}, {in[4], in[5], in[6]}); };
  check_grad("x [2, 3, 4], w [4, 5], [4, 2], [4, 3]",
             {rnd.normal({2, 3, 4}), rnd.normal({4, 5}), rnd.normal({4, 2}), rnd.normal({4, 3}), rnd.normal({5}),
              rnd.normal({2}), rnd.normal({3})},
             fn);
}

TEST_CASE("gradcheck: attention on packed q, k, v") {
  Random rnd;
  check_unary("qkv [2, 5, 3 * 2 * 3], 2 heads of 3", rnd.normal({2, 5, 18}),
              [](const Tensor& qkv) { return attention(qkv, 2, 3); });
}

TEST_CASE("gradcheck: linear_relu") {
  Random rnd;
  auto fn = [](const Inputs& in) { return linear_relu(in[0], in[1], in[2]); };
  check_grad("[3, 4] @ [4, 5] + [5], then ReLU", {rnd.normal({3, 4}), rnd.normal({4, 5}), rnd.normal({5})}, fn);
}

TEST_CASE("gradcheck: matmul") {
  Random rnd;
  auto mm = [](const Inputs& in) { return matmul(in[0], in[1]); };
  check_grad("2-D [3, 4] @ [4, 5]", {rnd.normal({3, 4}), rnd.normal({4, 5})}, mm);
  check_grad("batched [2, 3, 4] @ [2, 4, 5]", {rnd.normal({2, 3, 4}), rnd.normal({2, 4, 5})}, mm);
  check_grad("broadcast [2, 3, 4] @ [4, 5]", {rnd.normal({2, 3, 4}), rnd.normal({4, 5})}, mm);
  check_grad("broadcast [3, 4] @ [2, 4, 5]", {rnd.normal({3, 4}), rnd.normal({2, 4, 5})}, mm);
  check_grad("broadcast [2, 1, 3, 4] @ [3, 4, 5]", {rnd.normal({2, 1, 3, 4}), rnd.normal({3, 4, 5})}, mm);
  check_grad("scaled by alpha 0.25", {rnd.normal({2, 3, 4}), rnd.normal({2, 4, 5})},
             [](const Inputs& in) { return matmul(in[0], in[1], 0.25); });
  check_grad("transposed views as inputs",
             {ops::transpose(rnd.normal({4, 3}), 0, 1), ops::transpose(rnd.normal({5, 4}), 0, 1)}, mm);
  check_grad("a^T @ b^T inside fn", {rnd.normal({2, 4, 3}), rnd.normal({5, 4})}, [](const Inputs& in) {
    return matmul(transpose(in[0], -1, -2), transpose(in[1], -1, -2));
  });
}

// ---- neural-network ops ----

TEST_CASE("gradcheck: softmax") {
  Random rnd;
  check_unary("rows of [3, 5]", rnd.normal({3, 5}), pf::softmax);
  check_unary("[2, 3, 4]", rnd.normal({2, 3, 4}), pf::softmax);
}

TEST_CASE("gradcheck: log_softmax") {
  Random rnd;
  check_unary("rows of [3, 5]", rnd.normal({3, 5}), pf::log_softmax);
  check_unary("[2, 3, 4]", rnd.normal({2, 3, 4}), pf::log_softmax);
}

TEST_CASE("gradcheck: layer_norm") {
  Random rnd;
  auto ln = [](const Inputs& in) { return layer_norm(in[0], in[1], in[2], 1e-5); };
  check_grad("x [2, 3, 6], gamma, beta", {rnd.normal({2, 3, 6}), rnd.normal({6}), rnd.normal({6})}, ln);
  check_grad("x a transposed view", {ops::transpose(rnd.normal({5, 4}), 0, 1), rnd.normal({5}), rnd.normal({5})},
             ln);
  // h feeds the norm and a residual add (and a second norm): the norm's
  // backward adds its dx onto the gradient h has already (Node::backward_onto).
  check_grad("h + layer_norm(h) + layer_norm(h), h = 1.5 x", {rnd.normal({3, 6}), rnd.normal({6}), rnd.normal({6})},
             [](const Inputs& in) {
               const Tensor h = in[0] * 1.5;
               return add(add(h, layer_norm(h, in[1], in[2], 1e-5)), layer_norm(h, in[1], in[2], 1e-5));
             });
}

TEST_CASE("gradcheck: swiglu") {
  Random rnd;
  check_unary("[3, 8] -> [3, 4]", rnd.normal({3, 8}), pf::swiglu);
  check_unary("[2, 2, 6] -> [2, 2, 3]", rnd.normal({2, 2, 6}), pf::swiglu);
}

TEST_CASE("gradcheck: conv1d") {
  Random rnd;
  // x, weight and (when given) bias with fixed padding.
  auto conv = [](int64_t pad_left, int64_t pad_right) {
    return [=](const Inputs& in) {
      return conv1d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), pad_left, pad_right);
    };
  };
  check_grad("x [2, 7, 3], w [4, 3, 5], bias, padding 1 / 2",
             {rnd.normal({2, 7, 3}), rnd.normal({4, 3, 5}), rnd.normal({5})}, conv(1, 2));
  check_grad("no bias, no padding", {rnd.normal({2, 7, 3}), rnd.normal({4, 3, 5})}, conv(0, 0));
  // The k-mer embedding's geometry: kernel 10, padding 4 / 5 keeps the length.
  check_grad("k-mer: kernel 10, padding 4 / 5, L = 6",
             {rnd.normal({2, 6, 2}), rnd.normal({10, 2, 3}), rnd.normal({3})}, conv(4, 5));
}

TEST_CASE("gradcheck: depthwise_conv1d") {
  Random rnd;
  auto dw = [](const Inputs& in) { return depthwise_conv1d(in[0], in[1]); };
  check_grad("kernel 5, x [2, 9, 4]", {rnd.normal({2, 9, 4}), rnd.normal({5, 4})}, dw);
  check_grad("kernel 15, x [2, 12, 3] (kernel longer than the input)", {rnd.normal({2, 12, 3}), rnd.normal({15, 3})},
             dw);
}

TEST_CASE("gradcheck: embedding") {
  // Id 1 appears three times and id 2 twice: their rows' gradients are scatter-adds.
  Random rnd;
  const Tensor ids64 = Tensor::from_vector<int64_t>({1, 3, 1, 0, 1, 4}, {2, 3});
  const Tensor ids32 = Tensor::from_vector<int32_t>({2, 2, 0}, {3});
  check_unary("i64 ids [2, 3]", rnd.normal({5, 3}), [ids64](const Tensor& w) { return embedding(w, ids64); });
  check_unary("i32 ids [3]", rnd.normal({5, 3}), [ids32](const Tensor& w) { return embedding(w, ids32); });
}

TEST_CASE("gradcheck: cross_entropy") {
  Random rnd;
  const Tensor targets = Tensor::from_vector<int64_t>({0, 3, 3, 1}, {4});
  const Tensor targets2d = Tensor::from_vector<int32_t>({4, 0, 2, 2, 1, 3}, {2, 3});
  check_unary("logits [4, 5]", rnd.normal({4, 5}), [targets](const Tensor& l) { return cross_entropy(l, targets); });
  check_unary("logits [2, 3, 5]", rnd.normal({2, 3, 5}),
              [targets2d](const Tensor& l) { return cross_entropy(l, targets2d); });
}

TEST_CASE("gradcheck: mse_loss") {
  Random rnd;
  check_grad("prediction and target", {rnd.normal({3, 4}), rnd.normal({3, 4})},
             [](const Inputs& in) { return mse_loss(in[0], in[1]); });
}

// ---- the engine ----

TEST_CASE("gradcheck: non-contiguous input") {
  Random rnd;
  check_grad("a transposed view through several ops", {ops::transpose(rnd.normal({4, 3}), 0, 1), rnd.normal({3, 4})},
             [](const Inputs& in) { return tanh(in[0]) * in[1] + exp(in[0]) / 4.0; });
}

TEST_CASE("gradcheck: tensor used twice") {
  Random rnd;
  check_unary("a leaf: x * x + x", rnd.normal({2, 3}), [](const Tensor& x) { return x * x + x; });
  check_unary("an intermediate: y = tanh(x); y * y + y", rnd.normal({2, 3}), [](const Tensor& x) {
    Tensor y = tanh(x);
    return y * y + y;
  });
}
