// Behaviours where the CPU backend used to differ from the CUDA one: each test
// pins the CPU to what both backends now do (tests/cuda runs the same inputs
// on a GPU against the CPU).
#include <doctest/doctest.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/ops.h"
#include "core/philox.h"
#include "test_util.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

TEST_CASE("agreement: linear takes half types on every device") {
  // It used to reject them where the half type is computed natively (CUDA)
  // and pass them to an f32-only GEMM on the CPU.
  for (DType half : {DType::bf16, DType::f16}) {
    INFO(dtype_name(half));
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor w = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
    Tensor bias = Tensor::from_vector<float>({0.5f, -1}, {2});
    Tensor y = ops::linear(ops::to(x, half), ops::to(w, half), ops::to(bias, half));
    CHECK(y.dtype() == half);
    CHECK(y.to_vector<float>() == std::vector<float>{4.5f, 4, 10.5f, 10});  // exact in both half types
  }
}

TEST_CASE("agreement: a bad id or target is a pf::Error, not an out-of-bounds access") {
  Tensor weight = Tensor::ones({3, 2});
  Tensor bad_ids = Tensor::from_vector<int64_t>({0, 3}, {2});
  Tensor negative = Tensor::from_vector<int32_t>({-1, 1}, {2});
  Tensor dout = Tensor::ones({2, 2});
  CHECK(contains(error_of([&] { ops::embedding_backward(bad_ids, dout, 3); }), "index 3 at position 1 outside [0, 3)"));
  CHECK(contains(error_of([&] { ops::embedding_backward(negative, dout, 3); }), "embedding_backward"));
  Tensor logits = Tensor::zeros({2, 4});
  CHECK(contains(error_of([&] { ops::cross_entropy(logits, Tensor::from_vector<int32_t>({0, 4}, {2})); }),
                 "index 4 at position 1 outside [0, 4)"));
  CHECK(contains(error_of([&] {
                   ops::cross_entropy_backward(logits, Tensor::from_vector<int32_t>({-2, 0}, {2}), Tensor::ones({2}));
                 }),
                 "cross_entropy"));
}

TEST_CASE("agreement: casts to integer types saturate, NaN becomes 0") {
  Tensor x = Tensor::from_vector<double>({300, -5, NAN, 3e9, -3e9, 2.7, -2.7, 1e300, -INFINITY}, {9});
  CHECK(ops::to(x, DType::u8).to_vector<int64_t>() == std::vector<int64_t>{255, 0, 0, 255, 0, 2, 0, 255, 0});
  CHECK(ops::to(x, DType::i32).to_vector<int64_t>() ==
        std::vector<int64_t>{300, -5, 0, INT32_MAX, INT32_MIN, 2, -2, INT32_MAX, INT32_MIN});
  CHECK(ops::to(x, DType::i64).to_vector<int64_t>() ==
        std::vector<int64_t>{300, -5, 0, 3000000000, -3000000000, 2, -2, INT64_MAX, INT64_MIN});
  // Integer to narrower integer saturates too (both go through double).
  Tensor wide = Tensor::from_vector<int64_t>({5000000000, -1, 256}, {3});
  CHECK(ops::to(wide, DType::i32).to_vector<int64_t>() == std::vector<int64_t>{INT32_MAX, -1, 256});
  CHECK(ops::to(wide, DType::u8).to_vector<int64_t>() == std::vector<int64_t>{255, 0, 255});
}

TEST_CASE("agreement: uniform and normal fills are one fused multiply-add of the Philox stream") {
  // The transform rounds once (fma) whatever the compiler contracts, as nvcc's
  // code does: compare bit patterns, not values.
  const int64_t n = 4096;
  const double lo = -0.05, hi = 0.07, mean = 0.3, std_dev = 1.7;
  Generator gen(42);
  const uint64_t uniform_offset = gen.offset;
  std::vector<double> uniform = ops::uniform({n}, lo, hi, gen, DType::f64).to_vector<double>();
  const uint64_t normal_offset = gen.offset;
  std::vector<double> normal = ops::normal({n}, mean, std_dev, gen, DType::f64).to_vector<double>();
  auto bits = [](double v) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  };
  int64_t uniform_mismatches = 0, normal_mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double u = std::fma(hi - lo, double(philox_uniform(42, uniform_offset, uint64_t(i))), lo);
    const double z = std::fma(std_dev, double(philox_normal(42, normal_offset, uint64_t(i))), mean);
    uniform_mismatches += bits(uniform[size_t(i)]) != bits(u);
    normal_mismatches += bits(normal[size_t(i)]) != bits(z);
  }
  CHECK(uniform_mismatches == 0);
  CHECK(normal_mismatches == 0);
}
