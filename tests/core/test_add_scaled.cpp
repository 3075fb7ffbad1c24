// pf::ops::add_scaled (x + alpha * y in one pass) against the two passes it
// replaces, add(x, mul(y, alpha)): the same bits, because the product is
// rounded before the sum (no fused multiply-add; core/cpu/add_scaled.cpp).
// An alpha that is not a power of two makes a contracted kernel differ in the
// last bit of many elements; [40, 1000] is above the kernels' threshold for
// threads, so the parallel loop is the one checked.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/autocast.h"
#include "autograd/functional.h"
#include "core/ops.h"

using namespace pf;

namespace {

// Exactly equal shapes, dtypes and values (compared as f64, which holds every
// f32/bf16/f16 value).
void check_identical(const Tensor& got, const Tensor& expected) {
  REQUIRE(got.shape() == expected.shape());
  REQUIRE(got.dtype() == expected.dtype());
  const std::vector<double> g = ops::to(got, DType::f64).to_vector<double>();
  const std::vector<double> e = ops::to(expected, DType::f64).to_vector<double>();
  int64_t differ = 0;
  for (size_t i = 0; i < g.size(); ++i) differ += g[i] != e[i];
  CHECK_MESSAGE(differ == 0, differ, " of ", g.size(), " elements differ");
}

Tensor uniform(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return ops::to(ops::uniform(shape, -2, 2, gen, DType::f64), dtype);
}

}  // namespace

TEST_CASE("add_scaled: by hand, with broadcasting") {
  // [2, 1] + 0.5 * [3] -> [2, 3]: row i is x[i] + 0.5 * y
  Tensor x = Tensor::from_vector<float>({1, 2}, {2, 1}), y = Tensor::from_vector<float>({10, 20, 30}, {3});
  CHECK(ops::add_scaled(x, y, 0.5).to_vector<float>() == std::vector<float>{6, 11, 16, 7, 12, 17});
}

TEST_CASE("add_scaled: equals add(x, mul(y, alpha)) bit for bit") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (double alpha : {0.5, 0.3, -1.7}) {
      INFO(dtype_name(dtype), " alpha ", alpha);
      Tensor x = uniform({40, 1000}, dtype, 1), y = uniform({40, 1000}, dtype, 2);
      check_identical(ops::add_scaled(x, y, alpha), ops::add(x, ops::mul(y, alpha)));
      Tensor row = uniform({1000}, dtype, 3);  // broadcast y
      check_identical(ops::add_scaled(x, row, alpha), ops::add(x, ops::mul(row, alpha)));
      Tensor xt = ops::transpose(uniform({1000, 40}, dtype, 4), 0, 1);  // strided x
      check_identical(ops::add_scaled(xt, y, alpha), ops::add(xt, ops::mul(y, alpha)));
    }
  }
  // Half types compute in f32 and round once; with alpha = 0.5 (the model's)
  // the product is exact in them too, so the two passes round the same way.
  for (DType dtype : {DType::bf16, DType::f16}) {
    INFO(dtype_name(dtype));
    Tensor x = uniform({40, 1000}, dtype, 5), y = uniform({40, 1000}, dtype, 6);
    check_identical(ops::add_scaled(x, y, 0.5), ops::add(x, ops::mul(y, 0.5)));
  }
}

TEST_CASE("add_scaled: autograd gives dx = g, dy = alpha g and saves nothing") {
  Tensor x = uniform({3, 4}, DType::f32, 7).set_requires_grad(true);
  Tensor y = uniform({4}, DType::f32, 8).set_requires_grad(true);
  Tensor out = add_scaled(x, y, -0.25);
  sum(out).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>(12, 1.0f));
  CHECK(y.grad().to_vector<float>() == std::vector<float>(4, -0.75f));  // 3 rows of -0.25
}

TEST_CASE("add_scaled: autocast promotes mixed inputs like add") {
  autocast::AutocastGuard guard(DType::bf16);
  Tensor x = uniform({2, 3}, DType::f32, 9), y = uniform({2, 3}, DType::bf16, 10);
  Tensor out = add_scaled(x, y, 0.5);
  CHECK(out.dtype() == DType::f32);
  check_identical(out, add(x, mul(y, 0.5)));
}
