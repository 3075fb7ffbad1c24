// Gradient clipping: element-wise, then per parameter or global norm, with the
// norms kept on the device (the result is a tensor, read only when logged).
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/functional.h"
#include "nn/optim/optimizer.h"

using namespace pf;

namespace {
// A parameter [n] whose gradient holds `grad`; the expected clipped values
// below are the f32 gradient times the f64 factor rounded to f32, as applied.
Tensor param_with_grad(std::vector<float> grad) {
  const int64_t n = int64_t(grad.size());
  Tensor p = Tensor::zeros({n}).set_requires_grad(true);
  p.set_grad(Tensor::from_vector(grad, {n}));
  return p;
}
}  // namespace

TEST_CASE("clip_gradients: per parameter, global, and by value") {
  SUBCASE("per parameter: only a gradient over the bound is scaled to it") {
    Tensor big = param_with_grad({3, 4}), small = param_with_grad({0.3f, 0.4f});
    nn::FlatParameters flat({{"big", big}, {"small", small}});
    Tensor norm = nn::clip_gradients(flat, 0.0, 1.0, nn::ClipMode::PerParameter);
    CHECK(norm.dim() == 0);
    CHECK(norm.dtype() == DType::f64);
    CHECK(norm.item() == doctest::Approx(std::sqrt(25.25)));
    CHECK(big.grad().to_vector<float>() == std::vector<float>{3.0f * float(1.0 / 5), 4.0f * float(1.0 / 5)});
    CHECK(small.grad().to_vector<float>() == std::vector<float>{0.3f, 0.4f});  // exactly unchanged
  }
  SUBCASE("global: every gradient by the same factor") {
    Tensor a = param_with_grad({3, 4}), b = param_with_grad({0, 12});
    nn::FlatParameters flat({{"a", a}, {"b", b}});
    nn::clip_gradients(flat, 0.0, 1.0, nn::ClipMode::Global);  // norm 13
    CHECK(a.grad().to_vector<float>() == std::vector<float>{3.0f * float(1.0 / 13), 4.0f * float(1.0 / 13)});
    CHECK(b.grad().to_vector<float>() == std::vector<float>{0, 12.0f * float(1.0 / 13)});
  }
  SUBCASE("by value first, then the norm of the clamped gradient") {
    Tensor p = param_with_grad({-2, 0.25f});
    nn::FlatParameters flat({{"p", p}});
    Tensor norm = nn::clip_gradients(flat, 0.5, 0.0, nn::ClipMode::PerParameter);
    CHECK(p.grad().to_vector<float>() == std::vector<float>{-0.5f, 0.25f});
    CHECK(norm.item() == doctest::Approx(std::sqrt(0.3125)));
  }
}
