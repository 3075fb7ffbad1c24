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
