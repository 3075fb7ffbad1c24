// ops::matmul writing its result in a given layout (the GEMM's c at any row
// and batch strides), and autograd's matmul giving each gradient its input's
// layout: the same values as the contiguous product, in the memory order
// asked for, so attention's head split and merge copy nothing.
#include <doctest/doctest.h>

#include "autograd/functional.h"

using namespace pf;

namespace {

// [B, H, T, Dh] view of fresh [B, T, H, Dh] memory: attention's heads.
Tensor heads(int64_t B, int64_t T, int64_t H, int64_t Dh, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return ops::permute(ops::to(ops::uniform({B, T, H, Dh}, -1, 1, gen), dtype), {0, 2, 1, 3});
}

std::vector<double> values(const Tensor& t) { return ops::to(ops::contiguous(t), DType::f64).to_vector<double>(); }

}  // namespace

TEST_CASE("is_dense: contiguous, permuted and transposed layouts are dense, gaps, overlaps and broadcasts are not") {
  CHECK(ops::is_dense({2, 3, 4}, {12, 4, 1}));
  CHECK(ops::is_dense({2, 3, 4}, {4, 8, 1}));        // [2, 3, 4] view of [3, 2, 4]
  CHECK(ops::is_dense({3, 4}, {1, 3}));              // transposed
  CHECK(ops::is_dense({2, 1, 4}, {4, 999, 1}));      // a size-1 dim's stride does not matter
  CHECK_FALSE(ops::is_dense({2, 3, 4}, {24, 4, 1}));  // a gap between items
  CHECK_FALSE(ops::is_dense({2, 3}, {0, 1}));         // broadcast
  CHECK_FALSE(ops::is_dense({2, 3}, {1, 1}));         // overlapping
  CHECK_FALSE(ops::is_dense({2, 3}, {3}));            // strides for another rank
}

TEST_CASE("matmul into a permuted layout: the contiguous product's values in the memory order asked for") {
  const int64_t B = 2, H = 3, T = 5, Dh = 4;
  for (DType dtype : {DType::f32, DType::f64, DType::bf16}) {
    CAPTURE(dtype);
    const Tensor p = ops::softmax(ops::to(heads(B, T, H, T, DType::f32, 1), dtype));  // [B, H, T, T], as attention
    const Tensor v = heads(B, T, H, Dh, dtype, 2);                                    // [B, H, T, Dh] view
    const Tensor plain = ops::matmul(p, v, 0.5);
    const Tensor laid_out = ops::matmul(p, v, 0.5, v.strides());
    CHECK(plain.is_contiguous());
    CHECK(laid_out.strides() == v.strides());
    CHECK(ops::permute(laid_out, {0, 2, 1, 3}).is_contiguous());  // the head merge is a view
    CHECK(values(laid_out) == values(plain));
  }
}

TEST_CASE("matmul into a column-major layout runs as the transposed product, other strides are ignored") {
  Generator gen(3);
  const Tensor a = ops::uniform({2, 4, 3}, -1, 1, gen), b = ops::uniform({2, 3, 5}, -1, 1, gen);
  const Tensor plain = ops::matmul(a, b);                             // [2, 4, 5]
  const Tensor column_major = ops::matmul(a, b, 1.0, {20, 1, 4});     // each item stored transposed
  CHECK(column_major.strides() == Shape{20, 1, 4});
  const std::vector<double> expected = values(plain), got = values(column_major);
  for (size_t i = 0; i < expected.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  CHECK(ops::matmul(a, b, 1.0, {20, 5, 2}).is_contiguous());  // not dense: contiguous
  CHECK(ops::matmul(a, b, 1.0, {5, 1}).is_contiguous());      // another rank: contiguous
}

TEST_CASE("autograd matmul: gradients in the inputs' layouts, equal to those through contiguous copies") {
  const int64_t B = 2, H = 3, T = 6, Dh = 4;
  Generator gen(4);
  auto leaf = [&](const Shape& shape) { return ops::uniform(shape, -1, 1, gen).set_requires_grad(true); };
  const Tensor q = leaf({B, T, H * Dh}), k = leaf({B, T, H * Dh}), v = leaf({B, T, H * Dh});
  const Tensor target = ops::uniform({B, T, H * Dh}, -1, 1, gen);
  auto split = [&](const Tensor& x) { return permute(reshape(x, {B, T, H, Dh}), {0, 2, 1, 3}); };
  // Attention as nn/layers/attention.cpp writes it, or with every GEMM input made contiguous first.
  auto loss = [&](bool copies) {
    auto in = [&](const Tensor& x) { return copies ? contiguous(x) : x; };
    const Tensor qh = split(q), kh = split(k), vh = split(v);
    const Tensor p = softmax(matmul(in(qh), in(transpose(kh, -1, -2)), 0.5));
    const Tensor context = copies ? matmul(p, in(vh)) : matmul(p, vh, 1.0, vh.strides());
    const Tensor merged = reshape(permute(context, {0, 2, 1, 3}), {B, T, H * Dh});
    return sum(mul(merged, target));
  };
  const std::vector<Tensor> leaves = {q, k, v};
  std::vector<std::vector<double>> through_copies;
  loss(true).backward();
  for (const Tensor& x : leaves) {
    through_copies.push_back(values(x.grad()));
    x.set_grad(Tensor());
  }
  loss(false).backward();
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const Tensor& x = leaves[i];
    CHECK(x.grad().is_contiguous());  // the permutes' backward gave the leaf layout back without a copy
    const std::vector<double> got = values(x.grad());
    for (size_t j = 0; j < got.size(); ++j) CHECK(got[j] == doctest::Approx(through_copies[i][j]).epsilon(1e-6));
  }
}

TEST_CASE("autograd matmul: a permuted or transposed input receives its gradient in its own strides") {
  const Tensor qh = heads(2, 6, 3, 4, DType::f32, 5).set_requires_grad(true);                 // [B, H, T, Dh] view
  const Tensor kt = ops::transpose(heads(2, 6, 3, 4, DType::f32, 6), -1, -2).set_requires_grad(true);  // [B, H, Dh, T]
  sum(matmul(qh, kt)).backward();
  CHECK(qh.grad().strides() == qh.strides());  // row-major: written at q's strides
  CHECK(kt.grad().strides() == kt.strides());  // column-major: written as the transposed product
}
