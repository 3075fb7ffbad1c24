// End to end: a small MLP trained with plain gradient descent written here,
// so forward, backward and in-place parameter updates work together.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/functional.h"

using namespace pf;

TEST_CASE("mlp: SGD fits a small regression task") {
  // y = sin(x) on 64 points of [-pi, pi], fitted by 1 -> 32 -> 1 with tanh, in f32.
  const int64_t n = 64, hidden = 32;
  std::vector<float> xs, ys;
  for (int64_t i = 0; i < n; ++i) {
    const float x = float(-M_PI + 2 * M_PI * double(i) / double(n - 1));
    xs.push_back(x);
    ys.push_back(std::sin(x));
  }
  const Tensor x = Tensor::from_vector<float>(xs, {n, 1}), y = Tensor::from_vector<float>(ys, {n, 1});

  Generator gen(7);
  Tensor w1 = ops::normal({1, hidden}, 0.0, 1.0, gen), b1 = ops::normal({hidden}, 0.0, 1.0, gen);
  Tensor w2 = ops::normal({hidden, 1}, 0.0, 1.0 / std::sqrt(double(hidden)), gen), b2 = Tensor::zeros({1});
  const std::vector<Tensor> params = {w1, b1, w2, b2};
  for (Tensor p : params) p.set_requires_grad(true);

  auto loss_fn = [&] { return mse_loss(matmul(tanh(matmul(x, w1) + b1), w2) + b2, y); };

  // Full-batch descent is stable for lr < 2 / (largest curvature); w2's is
  // about 2 * hidden * mean(h^2) ~ 30 here, so 0.1 would diverge.
  const double lr = 0.05;
  const double initial = loss_fn().item();
  for (int step = 0; step < 1000; ++step) {
    loss_fn().backward();
    NoGradGuard no_grad;
    for (const Tensor& p : params) {
      ops::copy_(p, ops::sub(p, ops::mul(p.grad(), lr)));  // p -= lr * grad, in place
      p.set_grad(Tensor());
    }
  }
  const double final = loss_fn().item();
  INFO("initial loss ", initial, ", final loss ", final);
  CHECK(final * 10 < initial);
}
