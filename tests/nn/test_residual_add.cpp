// The residual adds under mixed precision: an f32 stream plus a bf16 or f16
// branch is one add_scaled pass that widens the branch as it loads it
// (Backend::add_scaled, autocast's Residual class), with the bits and the
// gradients of casting the branch to f32 first.
#include <doctest/doctest.h>

#include "autograd/autocast.h"
#include "autograd/functional.h"
#include "test_util.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

namespace {

Tensor uniform(const Shape& shape, uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  return ops::to(ops::uniform(shape, -2, 2, gen), dtype);
}

std::vector<float> values(const Tensor& t) { return ops::to(ops::contiguous(t), DType::f32).to_vector<float>(); }

}  // namespace

TEST_CASE("add_scaled of an f32 stream and a half branch: the bits of casting the branch first") {
  for (DType half : {DType::bf16, DType::f16}) {
    CAPTURE(half);
    const Tensor x = uniform({6, 5}, 1), y = uniform({6, 5}, 2, half), row = uniform({5}, 3, half);
    for (double alpha : {1.0, 0.5, -1.7}) {
      CAPTURE(alpha);
      const Tensor mixed = ops::add_scaled(x, y, alpha);
      CHECK(mixed.dtype() == DType::f32);
      CHECK(values(mixed) == values(ops::add_scaled(x, ops::to(y, DType::f32), alpha)));
      CHECK(values(ops::add_scaled(x, row, alpha)) == values(ops::add_scaled(x, ops::to(row, DType::f32), alpha)));
      const Tensor xt = ops::transpose(uniform({5, 6}, 4), 0, 1);  // a strided stream
      CHECK(values(ops::add_scaled(xt, y, alpha)) == values(ops::add_scaled(xt, ops::to(y, DType::f32), alpha)));
    }
  }
  // Only that one mix: a half stream plus an f32 branch is an error, as before.
  CHECK(contains(error_of([] { ops::add_scaled(uniform({3}, 5, DType::bf16), uniform({3}, 6), 1.0); }),
                 "dtypes differ"));
}

TEST_CASE("autocast: a residual add reads the bf16 branch as it is, with the values and gradients of a cast") {
  const Tensor x = uniform({4, 8}, 7).set_requires_grad(true), w = uniform({8, 8}, 8).set_requires_grad(true);
  const Tensor weights = uniform({4, 8}, 9);
  auto run = [&](bool autocast_on) {
    x.set_grad(Tensor());
    w.set_grad(Tensor());
    Tensor out;
    if (autocast_on) {
      autocast::AutocastGuard guard(DType::bf16);
      const Tensor branch = matmul(x, w);  // bf16 under autocast
      CHECK(branch.dtype() == DType::bf16);
      out = add_scaled(add(x, branch), branch, 0.5);  // the stream stays f32
      CHECK(out.dtype() == DType::f32);
    } else {  // by hand, as the Promote class did: the GEMM on bf16 copies, the branch cast at each use
      const Tensor branch = matmul(cast(x, DType::bf16), cast(w, DType::bf16));
      out = add_scaled(add(x, cast(branch, DType::f32)), cast(branch, DType::f32), 0.5);
    }
    sum(mul(out, weights)).backward();
    return std::vector<std::vector<float>>{values(out), values(x.grad()), values(w.grad())};
  };
  const auto by_hand = run(false), mixed = run(true);
  CHECK(mixed[0] == by_hand[0]);
  CHECK(mixed[1] == by_hand[1]);
  CHECK(mixed[2] == by_hand[2]);
}
