// nn::StepChecks: losses summed and gradients checked on the device, read
// once; and Adam's skip flag, which it drives.
#include <doctest/doctest.h>

#include <limits>

#include "test_util.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/step_checks.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Two parameters "a" [3] and "b" [2] with gradients of the given values.
struct TwoParams {
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  Tensor b = Tensor::from_vector(std::vector<float>{4, 5}, {2});
  nn::NamedTensors named() const { return {{"a", a}, {"b", b}}; }
  nn::FlatParameters flat{named()};
  // Sets the gradients and returns their sums of squares, as the trainer passes them.
  Tensor set_grads(double ga, double gb) {
    a.set_grad(Tensor::from_vector(std::vector<float>{0.5f, float(ga), 0.25f}, {3}));
    b.set_grad(Tensor::from_vector(std::vector<float>{float(gb), 1}, {2}));
    return flat.sum_squares(flat.gather_gradients());
  }
};

std::vector<Tensor> losses(double total, double mse, double ce) {
  return {Tensor::scalar(total), Tensor::scalar(mse), Tensor::scalar(ce)};
}

}  // namespace

TEST_CASE("step checks: losses are summed over the steps between reads, and each read starts new sums") {
  TwoParams params;
  nn::StepChecks checks(params.named());
  for (int64_t step = 1; step <= 3; ++step) {
    checks.add_losses(step, losses(double(step), 0.5, 0.25));
    CHECK(checks.check_gradients(step, params.set_grads(1, 2)).item() == 0.0);  // no skip
  }
  nn::StepChecks::Sums sums = checks.read();
  CHECK(sums.steps == 3);
  CHECK(sums.losses == std::vector<double>{6.0, 1.5, 0.75});
  checks.add_losses(4, losses(7, 1, 2));
  sums = checks.read();
  CHECK(sums.steps == 1);
  CHECK(sums.losses == std::vector<double>{7.0, 1.0, 2.0});
}

TEST_CASE("step checks: a NaN gradient sets the skip flag from its step on, the read names the step and parameter") {
  TwoParams params;
  nn::StepChecks checks(params.named());
  std::vector<double> skips;
  for (int64_t step = 1; step <= 4; ++step) {
    checks.add_losses(step, losses(1, 1, 0));
    const Tensor squares = params.set_grads(1, step == 2 ? kNaN : 1.0);  // only step 2 is bad: later steps stay skipped
    skips.push_back(checks.check_gradients(step, squares).item());
  }
  CHECK(skips == std::vector<double>{0, 1, 1, 1});
  const std::string error = error_of([&] { checks.read(); });
  CHECK(contains(error, "the gradient of b is not finite at step 2"));
}

TEST_CASE("step checks: an inf loss is named before the gradients it spoilt") {
  TwoParams params;
  nn::StepChecks checks(params.named());
  checks.add_losses(1, losses(1, 1, 0));
  checks.check_gradients(1, params.set_grads(1, 1));
  checks.add_losses(2, losses(kInf, kInf, 0));
  CHECK(checks.check_gradients(2, params.set_grads(kInf, kNaN)).item() == 1.0);
  const std::string error = error_of([&] { checks.read(); });
  CHECK(contains(error, "the loss is not finite (inf or NaN) at step 2"));
}

TEST_CASE("step checks: non_finite_flag is 1 for inf and NaN, also in bf16 and f16, and 0 for large finite values") {
  for (DType dtype : {DType::f32, DType::bf16, DType::f16}) {
    CAPTURE(dtype);
    auto flag = [&](double v) {
      return nn::non_finite_flag(ops::to(Tensor::from_vector(std::vector<float>{1, float(v), 2}, {3}), dtype)).item();
    };
    CHECK(flag(60000) == 0.0);  // finite in every dtype here; summing squares would overflow f16
    CHECK(flag(kInf) == 1.0);
    CHECK(flag(-kInf) == 1.0);
    CHECK(flag(kNaN) == 1.0);
  }
}

TEST_CASE("adam: a nonzero skip flag leaves parameters and moments as they were, a zero flag is a plain step") {
  Tensor plain = Tensor::from_vector(std::vector<float>{1, -2, 3}, {3});
  Tensor flagged = ops::clone(plain), skipped = ops::clone(plain);
  nn::Adam a({{"p", plain}}, {}), b({{"p", flagged}}, {}), c({{"p", skipped}}, {});
  for (const Tensor& p : {plain, flagged, skipped})
    p.set_grad(Tensor::from_vector(std::vector<float>{0.5f, -1, 2}, {3}));
  a.step(0.1);
  b.step(0.1, Tensor::scalar(0.0, DType::f64));
  c.step(0.1, Tensor::scalar(1.0, DType::f64));
  CHECK(flagged.to_vector<float>() == plain.to_vector<float>());
  CHECK(plain.to_vector<float>() != std::vector<float>{1, -2, 3});
  CHECK(skipped.to_vector<float>() == std::vector<float>{1, -2, 3});
  for (const auto& [name, moment] : c.state())
    CHECK_MESSAGE(ops::sum(ops::unary(UnaryOp::Abs, moment)).item() == 0.0, name);
  CHECK(error_of([&] { c.step(0.1, Tensor::scalar(1.0, DType::f32)); }).find("0-d f64") != std::string::npos);
}
