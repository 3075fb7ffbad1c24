// The CUDA backend against the CPU backend, in the style of ggml's
// test-backend-ops: ONE list of cases (op, dtype, shapes). A case builds its
// inputs on the CPU (so both devices get the same bits), copies them to the
// device under test, runs the op there through pf::ops (or the Backend itself,
// for arguments pf::ops never passes) and returns the outputs; every output of
// the CUDA run is compared with the CPU run's:
//   Exact   bit for bit: copies, casts, fills, the Philox uniform stream,
//           dropout masks, max, gathers, one-hot, add_scaled (no fused
//           multiply-add on either device);
//   Nmse    normalised mean squared error sum (cuda - cpu)^2 / sum cpu^2 below
//           a bound from the dtype and the reduction length (max_nmse):
//           arithmetic, where GPU math functions and summation order differ
//           from the CPU by a few ulps;
//   Throws  both devices throw pf::Error (bad indices; the GPU reports them at
//           the next synchronisation).
//
// Built as its own executable, pf_cuda_tests, with its own main: without a CUDA
// device it prints "no CUDA device: N CUDA tests skipped" and exits with 77,
// which CTest reports as Skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functional.h"
#include "core/ops.h"
#include "cuda/register.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/step_checks.h"
#include "proformer/model.h"
#include "../cuda_host/relu_ties.h"
#ifdef PF_HAVE_NCCL
#include "cuda/nccl_communicator.h"
#endif

using namespace pf;

namespace {

enum class Compare { Exact, Nmse, Throws };

struct Case {
  std::string name;  // "softmax f32 [5, 37]"
  Compare compare;
  double max_nmse;  // for Compare::Nmse
  // Builds the inputs, runs the op on `device` and returns its outputs.
  std::function<std::vector<Tensor>(Device)> run;
};
using Cases = std::vector<Case>;
using Outputs = std::vector<Tensor>;

const std::vector<DType> kFloats = {DType::f32, DType::f64};
const std::vector<DType> kFloatsAndHalves = {DType::f32, DType::f64, DType::bf16, DType::f16};
const std::vector<DType> kAllDtypes = {DType::f32, DType::f64, DType::bf16, DType::f16,
                                       DType::i32, DType::i64, DType::u8};

// Unit roundoff of a dtype.
double epsilon(DType dtype) {
  switch (dtype) {
    case DType::f64: return 0x1p-53;
    case DType::f16: return 0x1p-11;
    case DType::bf16: return 0x1p-8;
    default: return 0x1p-24;  // f32
  }
}

// The NMSE bound for results of `dtype`, each a sum of `terms` products: a
// floor per dtype (ulp-level differences of GPU math functions stay orders of
// magnitude below it, one wrong element of a few hundred lands far above),
// raised for long sums, whose rounding errors grow like a random walk, about
// eps^2 * terms in NMSE for the type they are accumulated in (f32 for bf16/f16),
// with a margin of 64.
double max_nmse(DType dtype, int64_t terms = 1) {
  double floor = 1e-4;  // bf16
  if (dtype == DType::f64) floor = 1e-18;
  if (dtype == DType::f32) floor = 1e-8;
  if (dtype == DType::f16) floor = 1e-5;
  const double eps = epsilon(dtype == DType::f64 ? DType::f64 : DType::f32);
  return std::max(floor, 64 * eps * eps * double(terms));
}

// "op dtype [shape]".
std::string label(const std::string& op, DType dtype, const Shape& shape) {
  return op + " " + dtype_name(dtype) + " " + shape_str(shape);
}

// "op dtype [a] @ [b]".
std::string product_label(const std::string& op, DType dtype, const Shape& a, const Shape& b) {
  return label(op, dtype, a) + " @ " + shape_str(b);
}

// `terms`: the longest sum behind one output element (the reduction length).
void add(Cases& cases, std::string name, DType dtype, Compare compare, std::function<Outputs(Device)> run,
         int64_t terms = 1) {
  cases.push_back({std::move(name), compare, max_nmse(dtype, terms), std::move(run)});
}

// Runs `op` on the device in `dtype`; on the CPU, whose kernels may take only
// f32/f64, a bf16/f16 case runs in f32 on the same (rounded) inputs and rounds
// the outputs back: the GPU must compute half types in f32 and round once.
// `inputs` builds the inputs in `dtype` on a device.
Outputs in_dtype(Device d, DType dtype, const std::function<Outputs(Device, DType)>& inputs,
                 const std::function<Outputs(const Outputs&)>& op) {
  Outputs in = inputs(d, dtype);
  if (d.is_cuda() || !is_half(dtype)) return op(in);
  for (Tensor& t : in)
    if (is_floating(t.dtype())) t = ops::to(t, DType::f32);
  Outputs out = op(in);
  for (Tensor& t : out)
    if (t.dtype() == DType::f32) t = ops::to(t, dtype);
  return out;
}

// Uniform values in [lo, hi) drawn on the CPU in f64 from `seed`, cast to
// `dtype` there, then moved to `device`.
Tensor uniform_input(const Shape& shape, DType dtype, Device device, uint64_t seed, double lo = -1, double hi = 1) {
  Generator gen(seed);
  return ops::to(ops::to(ops::uniform(shape, lo, hi, gen, DType::f64), dtype), device);
}

// Whole numbers drawn from [0, bound), as `dtype`.
Tensor integer_input(const Shape& shape, DType dtype, Device device, uint64_t seed, int64_t bound) {
  Generator gen(seed);
  std::vector<int64_t> values(size_t(shape_numel(shape)));
  for (int64_t& v : values) v = int64_t(gen.below(uint64_t(bound)));
  return ops::to(ops::to(Tensor::from_vector(values, shape), dtype), device);
}

// ---- layout: copies, casts, fills, random fills ----
void add_layout_cases(Cases& cases) {
  // Every pair of dtypes; values in [0, 100) are representable enough in each.
  for (DType from : kAllDtypes)
    for (DType to : kAllDtypes)
      add(cases, label(std::string("copy ") + dtype_name(from) + " ->", to, {3, 5}), to, Compare::Exact, [=](Device d) {
        Tensor x = uniform_input({3, 5}, from, d, 1, 0, 100);
        return Outputs{from == to ? ops::clone(x) : ops::to(x, to)};
      });
  // Strided sources and destinations, for every element size.
  for (DType dt : kAllDtypes) {
    add(cases, label("copy permuted", dt, {4, 6, 5}), dt, Compare::Exact, [=](Device d) {
      return Outputs{ops::contiguous(ops::permute(uniform_input({4, 6, 5}, dt, d, 2, 0, 100), {2, 0, 1}))};
    });
    add(cases, label("copy step-2 slice", dt, {4, 6}), dt, Compare::Exact, [=](Device d) {
      return Outputs{ops::contiguous(ops::slice(uniform_input({4, 6}, dt, d, 3, 0, 100), 1, 1, 6, 2))};
    });
    add(cases, label("copy broadcast", dt, {1, 5}), dt, Compare::Exact, [=](Device d) {
      return Outputs{ops::contiguous(ops::expand(uniform_input({1, 5}, dt, d, 4, 0, 100), {4, 5}))};
    });
    add(cases, label("copy into a strided view", dt, {4, 5}), dt, Compare::Exact, [=](Device d) {
      Tensor dst = Tensor::zeros({4, 10}, dt, d);
      ops::copy_(ops::slice(dst, 1, 1, 10, 2), uniform_input({4, 5}, dt, d, 5, 0, 100));
      return Outputs{dst};
    });
    add(cases, label("copy 10-d reversed", dt, {2, 1, 3, 1, 2, 1, 2, 1, 2, 1}), dt, Compare::Exact, [=](Device d) {
      Tensor x = uniform_input({2, 1, 3, 1, 2, 1, 2, 1, 2, 1}, dt, d, 6, 0, 100);
      return Outputs{ops::contiguous(ops::permute(x, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}))};
    });
    add(cases, label("fill", dt, {7, 3}), dt, Compare::Exact, [=](Device d) {
      return Outputs{Tensor::full({7, 3}, 2.75, dt, d), Tensor::full({}, 5.0, dt, d)};
    });
    add(cases, label("fill a strided view", dt, {4, 6}), dt, Compare::Exact, [=](Device d) {
      Tensor dst = Tensor::zeros({4, 6}, dt, d);
      ops::fill_(ops::slice(dst, 1, 0, 6, 2), 1.5);
      return Outputs{dst};
    });
  }
  // Casts while changing layout.
  add(cases, label("cast f32 -> f64 into a strided view", DType::f64, {4, 5}), DType::f64, Compare::Exact,
      [](Device d) {
        Tensor dst = Tensor::zeros({4, 10}, DType::f64, d);
        ops::copy_(ops::narrow(dst, 1, 2, 5), uniform_input({4, 5}, DType::f32, d, 7));
        return Outputs{dst};
      });
  add(cases, label("cast transposed f32 -> bf16", DType::bf16, {6, 4}), DType::bf16, Compare::Exact, [](Device d) {
    return Outputs{ops::to(ops::transpose(uniform_input({4, 6}, DType::f32, d, 8), 0, 1), DType::bf16)};
  });
  // Random streams: the span hi - lo is a power of two, so lo + (hi - lo) * u
  // is exact whether or not a compiler fuses it into an FMA.
  for (DType dt : kFloats) {
    add(cases, label("random_uniform", dt, {1001}), dt, Compare::Exact, [=](Device d) {
      Generator gen(1234, 77);
      Tensor first = ops::uniform({1001}, -2, 2, gen, dt, d);
      return Outputs{first, ops::uniform({3, 7}, 0, 1, gen, dt, d)};
    });
    // GPU logf/cosf differ from glibc's by an ulp or two: compared by NMSE.
    add(cases, label("random_normal", dt, {1001}), dt, Compare::Nmse, [=](Device d) {
      Generator gen(99, 5);
      return Outputs{ops::normal({1001}, 0.5, 2.0, gen, dt, d)};
    });
    cases.back().max_nmse = 1e-10;
    for (const auto& [p, name] : {std::pair{0.25, "dropout_mask p=0.25"}, std::pair{0.5, "dropout_mask p=0.5"}})
      add(cases, label(name, dt, {1001}), dt, Compare::Exact, [=](Device d) {
        Generator gen(42, 3);
        return Outputs{ops::dropout_mask({1001}, p, gen, dt, d)};
      });
  }
}

// ---- elementwise ----
void add_elementwise_cases(Cases& cases) {
  const UnaryOp unary_ops[] = {UnaryOp::Neg,  UnaryOp::Exp,  UnaryOp::Log, UnaryOp::Sqrt,
                               UnaryOp::Tanh, UnaryOp::Sigmoid, UnaryOp::Relu, UnaryOp::Silu,
                               UnaryOp::Abs,  UnaryOp::Gelu};
  for (UnaryOp op : unary_ops) {
    const bool positive = op == UnaryOp::Log || op == UnaryOp::Sqrt;
    const double lo = positive ? 0.1 : -3, hi = positive ? 2 : 3;
    for (DType dt : kFloatsAndHalves)
      add(cases, label(unary_op_name(op), dt, {4, 33}), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::unary(op, uniform_input({4, 33}, dt, d, 10, lo, hi))};
      });
    for (DType dt : kFloats)
      add(cases, label(std::string(unary_op_name(op)) + " backward", dt, {4, 33}), dt, Compare::Nmse, [=](Device d) {
        Tensor x = uniform_input({4, 33}, dt, d, 11, lo, hi);
        return Outputs{ops::unary_backward(op, x, ops::unary(op, x), uniform_input({4, 33}, dt, d, 12))};
      });
  }

  const BinaryOp binary_ops[] = {BinaryOp::Add, BinaryOp::Sub,     BinaryOp::Mul,
                                 BinaryOp::Div, BinaryOp::Maximum, BinaryOp::Eq};
  struct BinaryShapes {
    const char* what;
    Shape a, b;
    bool transpose_a;  // a is the transposed view of a [a[1], a[0]] tensor
  };
  const BinaryShapes binary_shapes[] = {
      {"", {4, 33}, {4, 33}, false},
      {" broadcast", {4, 1, 33}, {5, 1}, false},
      {" transposed", {33, 4}, {4, 33}, true},
  };
  for (BinaryOp op : binary_ops)
    for (const BinaryShapes& s : binary_shapes)
      for (DType dt : kFloatsAndHalves)
        add(cases, label(std::string(binary_op_name(op)) + s.what, dt, s.a), dt, Compare::Nmse, [=](Device d) {
          // Eq needs equal values to be likely: small whole numbers. Div needs b away from 0.
          Tensor a = op == BinaryOp::Eq ? integer_input(s.a, dt, d, 13, 3) : uniform_input(s.a, dt, d, 13, -2, 2);
          Tensor b = op == BinaryOp::Eq ? integer_input(s.b, dt, d, 14, 3) : uniform_input(s.b, dt, d, 14, 0.5, 2);
          return Outputs{ops::binary(op, s.transpose_a ? ops::transpose(a, 0, 1) : a, b)};
        });

  // x + alpha * y, the product rounded before the sum on both devices (no
  // fused multiply-add): the same bits, also where broadcast or strided.
  for (const auto& [alpha, alpha_name] : {std::pair{0.5, "0.5"}, std::pair{-1.7, "-1.7"}})
    for (const BinaryShapes& s : binary_shapes)
      for (DType dt : kFloatsAndHalves)
        add(cases, label(std::string("add_scaled ") + alpha_name + s.what, dt, s.a), dt, Compare::Exact,
            [=](Device d) {
              Tensor x = uniform_input(s.a, dt, d, 13, -2, 2), y = uniform_input(s.b, dt, d, 14, -2, 2);
              return Outputs{ops::add_scaled(s.transpose_a ? ops::transpose(x, 0, 1) : x, y, alpha)};
            });
  // The residual adds under mixed precision: an f32 stream plus a half branch.
  for (const BinaryShapes& s : binary_shapes)
    for (DType half : {DType::bf16, DType::f16})
      add(cases, label(std::string("add_scaled f32 + ") + dtype_name(half) + " branch" + s.what, DType::f32, s.a),
          DType::f32, Compare::Exact, [=](Device d) {
            Tensor x = uniform_input(s.a, DType::f32, d, 13, -2, 2), y = uniform_input(s.b, half, d, 14, -2, 2);
            return Outputs{ops::add_scaled(s.transpose_a ? ops::transpose(x, 0, 1) : x, y, 0.5)};
          });

  const std::pair<ScalarOp, const char*> scalar_ops[] = {{ScalarOp::Add, "add"},
                                                         {ScalarOp::Mul, "mul"},
                                                         {ScalarOp::Pow, "pow"},
                                                         {ScalarOp::Rsub, "rsub"},
                                                         {ScalarOp::ClampMin, "clamp_min"},
                                                         {ScalarOp::ClampMax, "clamp_max"}};
  for (const auto& [op, name] : scalar_ops)
    for (DType dt : kFloatsAndHalves)
      add(cases, label(std::string("scalar ") + name, dt, {4, 33}), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::scalar(op, uniform_input({4, 33}, dt, d, 15, 0.1, 2), 1.7)};
      });
}

// ---- reductions ----
void add_reduction_cases(Cases& cases) {
  struct Reduction {
    Shape shape;
    std::vector<int64_t> dims;  // empty: all
  };
  const Reduction sums[] = {{{7, 300}, {1}},   {{7, 300}, {0}},   {{3, 5, 7}, {1}}, {{3, 5, 7}, {}},
                            {{2, 10000}, {1}}, {{10000, 3}, {0}}, {{5}, {0}}};
  for (const Reduction& r : sums)
    for (DType dt : kFloatsAndHalves)
      add(cases, label("sum over " + shape_str(r.dims), dt, r.shape), dt, Compare::Nmse,
          [=](Device d) { return Outputs{ops::sum(uniform_input(r.shape, dt, d, 16), r.dims)}; });
  const Reduction maxima[] = {{{7, 300}, {1}}, {{7, 300}, {0}}, {{3, 5, 7}, {1}}, {{2, 10000}, {1}}};
  for (const Reduction& r : maxima)
    for (DType dt : kFloatsAndHalves)
      add(cases, label("max over " + shape_str(r.dims), dt, r.shape), dt, Compare::Exact,
          [=](Device d) { return Outputs{ops::max(uniform_input(r.shape, dt, d, 17), r.dims[0])}; });
}

// ---- matrix products ----
void add_gemm_cases(Cases& cases) {
  struct Product {
    const char* what;
    Shape a, b;
    bool transpose_a, transpose_b;  // operand is the transposed view of a tensor with its last two dims swapped
  };
  const Product products[] = {
      {"", {1, 1}, {1, 1}, false, false},
      {"", {7, 13}, {13, 5}, false, false},
      {"", {64, 64}, {64, 64}, false, false},
      {"", {33, 17}, {17, 1}, false, false},
      {" a^T", {7, 13}, {13, 5}, true, false},
      {" b^T", {7, 13}, {13, 5}, false, true},
      {" a^T b^T", {7, 13}, {13, 5}, true, true},
      {" batched", {3, 4, 7, 13}, {3, 4, 13, 5}, false, false},
      {" batched b^T", {3, 4, 7, 13}, {3, 4, 13, 5}, false, true},
      {" broadcast b", {3, 7, 13}, {13, 5}, false, false},
      {" broadcast a", {7, 13}, {3, 13, 5}, false, false},
      {" batch dims that do not merge", {4, 7, 13}, {3, 1, 13, 5}, false, false},
      {" K = 0", {3, 0}, {0, 4}, false, false},
  };
  // A [.., rows, cols] operand; transposed: the view of a [.., cols, rows] tensor.
  auto operand = [](const Shape& shape, bool transposed, DType dt, Device d, uint64_t seed) {
    if (!transposed) return uniform_input(shape, dt, d, seed);
    Shape swapped = shape;
    std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
    return ops::transpose(uniform_input(swapped, dt, d, seed), -1, -2);
  };
  for (const Product& p : products)
    for (DType dt : kFloatsAndHalves)
      add(cases, product_label(std::string("matmul") + p.what, dt, p.a, p.b), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::matmul(operand(p.a, p.transpose_a, dt, d, 18), operand(p.b, p.transpose_b, dt, d, 19))};
      });
  // A batch whose dims are permuted (stride of dim 0 < stride of dim 1): one pointer-array call.
  for (DType dt : kFloats)
    add(cases, product_label("matmul permuted batch", dt, {3, 4, 7, 13}, {3, 4, 13, 5}), dt, Compare::Nmse,
        [=](Device d) {
          Tensor a = ops::transpose(uniform_input({4, 3, 7, 13}, dt, d, 20), 0, 1);
          return Outputs{ops::matmul(a, uniform_input({3, 4, 13, 5}, dt, d, 21))};
        });
  // Attention's head split: q, k, v are [B, H, T, Dh] views of [B, T, H, Dh]
  // memory, so B and H do not merge and the GEMM takes pointer arrays. Scores
  // q k^T (k a transposed view), p v, and a weight broadcast over B and H.
  const int64_t B = 3, H = 4, T = 7, Dh = 5;
  auto heads = [=](DType dt, Device d, uint64_t seed) {  // [B, H, T, Dh]
    return ops::permute(uniform_input({B, T, H, Dh}, dt, d, seed), {0, 2, 1, 3});
  };
  for (DType dt : {DType::f32, DType::bf16}) {
    add(cases, product_label("matmul heads q k^T", dt, {B, H, T, Dh}, {B, H, Dh, T}), dt, Compare::Nmse,
        [=](Device d) { return Outputs{ops::matmul(heads(dt, d, 25), ops::transpose(heads(dt, d, 26), -1, -2))}; }, Dh);
    add(cases, product_label("matmul heads p v", dt, {B, H, T, T}, {B, H, T, Dh}), dt, Compare::Nmse,
        [=](Device d) { return Outputs{ops::matmul(uniform_input({B, H, T, T}, dt, d, 27), heads(dt, d, 28))}; }, T);
    add(cases, product_label("matmul heads broadcast b", dt, {B, H, T, Dh}, {H, Dh, 6}), dt, Compare::Nmse,
        [=](Device d) { return Outputs{ops::matmul(heads(dt, d, 29), uniform_input({H, Dh, 6}, dt, d, 30))}; }, Dh);
  }
  // Ten batch dims, none mergeable (reversed): one call takes eight, the host
  // loops over the other two.
  for (DType dt : kFloats)
    add(cases, product_label("matmul 10 unmergeable batch dims", dt, Shape(10, 2), {3, 4}), dt, Compare::Nmse,
        [=](Device d) {
          Shape shape(10, 2);
          shape.insert(shape.end(), {3, 4});
          Tensor a = ops::permute(uniform_input(shape, dt, d, 31), {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10, 11});
          return Outputs{ops::matmul(a, uniform_input({4, 5}, dt, d, 32))};
        }, 4);
  // alpha and beta, which pf::ops always passes as 1 and 0: the backend directly.
  for (DType dt : kFloats)
    add(cases, product_label("gemm alpha=0.5 beta=2 b^T", dt, {2, 7, 13}, {2, 13, 5}), dt, Compare::Nmse,
        [=](Device d) {
          Tensor a = uniform_input({2, 7, 13}, dt, d, 22);
          Tensor b = ops::transpose(uniform_input({2, 5, 13}, dt, d, 23), -1, -2);
          Tensor c = ops::clone(uniform_input({2, 7, 5}, dt, d, 24));
          backend_for(d).gemm(a, b, c, 0.5, 2.0);
          return Outputs{c};
        });
}

// ---- neural-network kernels ----
void add_nn_cases(Cases& cases) {
  for (DType dt : kFloats) {
    for (const Shape& shape : {Shape{5, 37}, Shape{3, 1000}, Shape{4, 1}, Shape{2, 3, 17}})
      for (bool log : {false, true}) {
        const std::string name = log ? "log_softmax" : "softmax";
        add(cases, label(name, dt, shape), dt, Compare::Nmse,
            [=](Device d) { return Outputs{ops::softmax(uniform_input(shape, dt, d, 30, -5, 5), log)}; });
        add(cases, label(name + " backward", dt, shape), dt, Compare::Nmse, [=](Device d) {
          Tensor y = ops::softmax(uniform_input(shape, dt, d, 31, -5, 5), log);
          return Outputs{ops::softmax_backward(y, uniform_input(shape, dt, d, 32), log)};
        });
      }
    for (const Shape& shape : {Shape{5, 37}, Shape{3, 1000}, Shape{4, 1}})
      add(cases, label("softmax backward recompute", dt, shape), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::softmax_backward_recompute(uniform_input(shape, dt, d, 31, -5, 5),
                                                       uniform_input(shape, dt, d, 32))};
      });

    for (const Shape& shape : {Shape{6, 50}, Shape{3, 700}, Shape{300, 20}, Shape{4, 3}}) {
      auto forward = [=](Device d) {
        const int64_t N = shape.back();
        return ops::layer_norm(uniform_input(shape, dt, d, 33, -2, 3), uniform_input({N}, dt, d, 34, 0.5, 1.5),
                               uniform_input({N}, dt, d, 35), 1e-5);
      };
      add(cases, label("layer_norm", dt, shape), dt, Compare::Nmse, [=](Device d) {
        ops::LayerNormResult r = forward(d);
        return Outputs{r.y, r.mean, r.rstd};
      });
      add(cases, label("layer_norm backward", dt, shape), dt, Compare::Nmse, [=](Device d) {
        const int64_t N = shape.back();
        ops::LayerNormResult r = forward(d);
        ops::LayerNormGrads g =
            ops::layer_norm_backward(uniform_input(shape, dt, d, 33, -2, 3), uniform_input({N}, dt, d, 34, 0.5, 1.5),
                                     r.mean, r.rstd, uniform_input(shape, dt, d, 36));
        return Outputs{g.dx, g.dgamma, g.dbeta};
      });
    }

    for (const Shape& shape : {Shape{4, 60}, Shape{2, 3, 10}}) {
      Shape half = shape;
      half.back() /= 2;
      add(cases, label("swiglu", dt, shape), dt, Compare::Nmse,
          [=](Device d) { return Outputs{ops::swiglu(uniform_input(shape, dt, d, 37, -3, 3))}; });
      add(cases, label("swiglu backward", dt, shape), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::swiglu_backward(uniform_input(shape, dt, d, 37, -3, 3), uniform_input(half, dt, d, 38))};
      });
    }

    // k-mer convolution: unfold1d, a GEMM and (backward) fold1d.
    struct Conv {
      int64_t K, pad_left, pad_right;
    };
    for (const Conv& conv : {Conv{3, 1, 1}, Conv{3, 2, 0}, Conv{3, 0, 0}, Conv{1, 0, 0}}) {
      const std::string what = " K=" + std::to_string(conv.K) + " pad=" + std::to_string(conv.pad_left) + "," +
                               std::to_string(conv.pad_right);
      const Shape x_shape{2, 9, 3}, w_shape{conv.K, 3, 4};
      const int64_t Lout = 9 + conv.pad_left + conv.pad_right - conv.K + 1;
      add(cases, label("conv1d" + what, dt, x_shape), dt, Compare::Nmse, [=](Device d) {
        return Outputs{ops::conv1d(uniform_input(x_shape, dt, d, 40), uniform_input(w_shape, dt, d, 41),
                                   uniform_input({4}, dt, d, 42), conv.pad_left, conv.pad_right)};
      });
      add(cases, label("conv1d backward" + what, dt, x_shape), dt, Compare::Nmse, [=](Device d) {
        ops::Conv1dGrads g = ops::conv1d_backward(uniform_input(x_shape, dt, d, 40), uniform_input(w_shape, dt, d, 41),
                                                  true, conv.pad_left, uniform_input({2, Lout, 4}, dt, d, 43));
        return Outputs{g.dx, g.dweight, g.dbias};
      });
    }

    struct Depthwise {
      Shape x;
      int64_t K, pad_left;
    };
    for (const Depthwise& dw : {Depthwise{{2, 11, 5}, 4, 1}, Depthwise{{2, 11, 5}, 4, 3}, Depthwise{{2, 11, 5}, 3, 0},
                                Depthwise{{4, 200, 16}, 7, 3}}) {
      const std::string what = " K=" + std::to_string(dw.K) + " pad_left=" + std::to_string(dw.pad_left);
      const Shape w_shape{dw.K, dw.x[2]};
      add(cases, label("depthwise_conv1d" + what, dt, dw.x), dt, Compare::Nmse, [=](Device d) {
        return Outputs{
            ops::depthwise_conv1d(uniform_input(dw.x, dt, d, 44), uniform_input(w_shape, dt, d, 45), dw.pad_left)};
      });
      add(cases, label("depthwise_conv1d backward" + what, dt, dw.x), dt, Compare::Nmse, [=](Device d) {
        auto [dx, dweight] =
            ops::depthwise_conv1d_backward(uniform_input(dw.x, dt, d, 44), uniform_input(w_shape, dt, d, 45),
                                           uniform_input(dw.x, dt, d, 46), dw.pad_left);
        return Outputs{dx, dweight};
      });
    }
  }
}

// ---- index kernels ----
void add_index_cases(Cases& cases) {
  for (DType dt : kFloats)
    for (DType index : {DType::i32, DType::i64}) {
      const std::string ids = std::string(" ids ") + dtype_name(index);
      add(cases, label("embedding" + ids, dt, {3, 4}), dt, Compare::Exact, [=](Device d) {
        return Outputs{ops::embedding(uniform_input({10, 6}, dt, d, 50), integer_input({3, 4}, index, d, 51, 10))};
      });
      // Bit for bit: both devices sum an id's rows in the order of n (cuda/embedding.cu).
      add(cases, label("embedding backward (repeated ids)" + ids, dt, {3, 4}), dt, Compare::Exact, [=](Device d) {
        return Outputs{
            ops::embedding_backward(integer_input({3, 4}, index, d, 52, 5), uniform_input({3, 4, 6}, dt, d, 53), 10)};
      });
      // The strand embedding's case: 2 ids, about 100 rows each, summed per column.
      add(cases, label("embedding backward (2 ids, 230 rows)" + ids, dt, {230, 512}), dt, Compare::Exact,
          [=](Device d) {
            return Outputs{ops::embedding_backward(integer_input({230}, index, d, 54, 2),
                                                   uniform_input({230, 512}, dt, d, 55), 2)};
          });
      add(cases, label("one_hot" + ids, dt, {3, 4}), dt, Compare::Exact, [=](Device d) {
        return Outputs{ops::one_hot(integer_input({3, 4}, index, d, 54, 7), 7, dt)};
      });
      for (const Shape& shape : {Shape{6, 11}, Shape{2, 3, 500}}) {
        const Shape rows(shape.begin(), shape.end() - 1);
        add(cases, label("cross_entropy" + ids, dt, shape), dt, Compare::Nmse, [=](Device d) {
          return Outputs{ops::cross_entropy(uniform_input(shape, dt, d, 55, -3, 3),
                                            integer_input(rows, index, d, 56, shape.back()))};
        });
        add(cases, label("cross_entropy backward" + ids, dt, shape), dt, Compare::Nmse, [=](Device d) {
          return Outputs{ops::cross_entropy_backward(uniform_input(shape, dt, d, 55, -3, 3),
                                                     integer_input(rows, index, d, 56, shape.back()),
                                                     uniform_input(rows, dt, d, 57))};
        });
      }
    }
  // Bad indices: the CPU throws at once, the GPU at the next synchronisation.
  add(cases, "embedding with id 10 of a vocabulary of 10", DType::f32, Compare::Throws, [](Device d) {
    Tensor ids = ops::to(Tensor::from_vector<int64_t>({0, 10, 3}, {3}), d);
    return Outputs{ops::embedding(uniform_input({10, 6}, DType::f32, d, 58), ids)};
  });
  add(cases, "one_hot with class 7 of 7", DType::f32, Compare::Throws, [](Device d) {
    Tensor ids = ops::to(Tensor::from_vector<int32_t>({1, 7}, {2}), d);
    return Outputs{ops::one_hot(ids, 7)};
  });
}

// ---- where the backends used to disagree ----
void add_agreement_cases(Cases& cases) {
  // Out-of-range values saturate (NaN gives 0) on both devices.
  for (DType to : {DType::u8, DType::i32, DType::i64})
    add(cases, label("saturating cast f64 ->", to, {9}), to, Compare::Exact, [=](Device d) {
      Tensor x = ops::to(Tensor::from_vector<double>({300, -5, NAN, 3e9, -3e9, 2.7, -2.7, 1e300, -INFINITY}, {9}), d);
      return Outputs{ops::to(x, to)};
    });
  // More dims than one kernel launch takes after merging: split, like the CPU takes any rank.
  const Shape ten(10, 2);
  for (DType dt : {DType::f32, DType::u8}) {
    add(cases, label("copy 10 unmergeable dims", dt, ten), dt, Compare::Exact, [=](Device d) {
      return Outputs{ops::contiguous(ops::permute(uniform_input(ten, dt, d, 70, 0, 100), {9, 7, 5, 3, 1, 8, 6, 4, 2, 0}))};
    });
  }
  add(cases, label("add 10 unmergeable dims", DType::f32, ten), DType::f32, Compare::Nmse, [=](Device d) {
    Tensor a = ops::permute(uniform_input(ten, DType::f32, d, 71), {9, 7, 5, 3, 1, 8, 6, 4, 2, 0});
    return Outputs{ops::add(a, uniform_input(ten, DType::f32, d, 72))};
  });
  // linear in every float dtype (it used to reject the half types on CUDA).
  for (DType dt : kFloatsAndHalves)
    add(
        cases, product_label("linear", dt, {9, 40}, {40, 7}), dt, Compare::Nmse,
        [=](Device d) {
          return in_dtype(
              d, dt,
              [](Device dev, DType t) {
                return Outputs{uniform_input({9, 40}, t, dev, 73), uniform_input({40, 7}, t, dev, 74),
                               uniform_input({7}, t, dev, 75)};
              },
              [](const Outputs& in) { return Outputs{ops::linear(in[0], in[1], in[2])}; });
        },
        40);
  // linear_concat: CUDA joins the weights for one cuBLASLt call, the CPU writes each weight's columns.
  for (DType dt : kFloatsAndHalves)
    add(
        cases, product_label("linear_concat", dt, {9, 40}, {40, 7 + 16 + 5}), dt, Compare::Nmse,
        [=](Device d) {
          return in_dtype(
              d, dt,
              [](Device dev, DType t) {
                return Outputs{uniform_input({9, 40}, t, dev, 141), uniform_input({40, 7}, t, dev, 142),
                               uniform_input({40, 16}, t, dev, 143), uniform_input({40, 5}, t, dev, 144),
                               uniform_input({7}, t, dev, 145),     uniform_input({16}, t, dev, 146),
                               uniform_input({5}, t, dev, 147)};
              },
              [](const Outputs& in) {
                return Outputs{ops::linear_concat(in[0], {in[1], in[2], in[3]}, {in[4], in[5], in[6]})};
              });
        },
        40);
  // Bad targets and ids in the backward kernels too.
  add(cases, "cross_entropy with target 4 of 4 classes", DType::f32, Compare::Throws, [](Device d) {
    Tensor targets = ops::to(Tensor::from_vector<int32_t>({0, 4}, {2}), d);
    return Outputs{ops::cross_entropy(uniform_input({2, 4}, DType::f32, d, 76), targets)};
  });
  add(cases, "embedding_backward with id -1", DType::f32, Compare::Throws, [](Device d) {
    Tensor ids = ops::to(Tensor::from_vector<int64_t>({2, -1}, {2}), d);
    return Outputs{ops::embedding_backward(ids, uniform_input({2, 3}, DType::f32, d, 77), 5)};
  });
}

// ---- bf16 and f16: every kernel loads, computes in f32 and stores ----
void add_half_cases(Cases& cases) {
  using Op = std::function<Outputs(const Outputs&)>;
  struct HalfCase {
    std::string name;
    Shape shape;  // of the first input, for the label
    std::function<Outputs(Device, DType)> inputs;
    Op op;
    int64_t terms;
  };
  auto u = [](const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
    return [=](Device d, DType t) { return uniform_input(s, t, d, seed, lo, hi); };
  };
  const Shape rows{6, 232}, wide{3, 1500}, features{10, 512};
  std::vector<HalfCase> list = {
      {"softmax (a warp per row)", rows, [=](Device d, DType t) { return Outputs{u(rows, 80, -5, 5)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::softmax(in[0], false)}; }, 232},
      {"log_softmax (a block per row)", wide, [=](Device d, DType t) { return Outputs{u(wide, 81, -5, 5)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::softmax(in[0], true)}; }, 1500},
      {"softmax backward", rows,
       [=](Device d, DType t) { return Outputs{ops::softmax(u(rows, 82, -5, 5)(d, t), false), u(rows, 83)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::softmax_backward(in[0], in[1], false)}; }, 232},
      {"softmax backward recompute (a warp per row)", rows,
       [=](Device d, DType t) { return Outputs{u(rows, 82, -5, 5)(d, t), u(rows, 83)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::softmax_backward_recompute(in[0], in[1])}; }, 232},
      {"softmax backward recompute (a block per row)", wide,
       [=](Device d, DType t) { return Outputs{u(wide, 82, -5, 5)(d, t), u(wide, 83)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::softmax_backward_recompute(in[0], in[1])}; }, 1500},
      {"layer_norm", features,
       [=](Device d, DType t) {
         return Outputs{u(features, 84, -2, 3)(d, t), u({512}, 85, 0.5, 1.5)(d, t), u({512}, 86)(d, t)};
       },
       [](const Outputs& in) {
         ops::LayerNormResult r = ops::layer_norm(in[0], in[1], in[2], 1e-6);
         return Outputs{r.y};
       },
       512},
      {"layer_norm backward", features,
       [=](Device d, DType t) {
         return Outputs{u(features, 84, -2, 3)(d, t), u({512}, 85, 0.5, 1.5)(d, t), u({512}, 86)(d, t),
                        u(features, 87)(d, t)};
       },
       [](const Outputs& in) {
         ops::LayerNormResult r = ops::layer_norm(in[0], in[1], in[2], 1e-6);
         ops::LayerNormGrads g = ops::layer_norm_backward(in[0], in[1], r.mean, r.rstd, in[3]);
         return Outputs{g.dx, g.dgamma, g.dbeta};
       },
       512},
      {"swiglu", {4, 60}, [=](Device d, DType t) { return Outputs{u({4, 60}, 88, -3, 3)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::swiglu(in[0])}; }, 1},
      {"swiglu backward", {4, 60},
       [=](Device d, DType t) { return Outputs{u({4, 60}, 88, -3, 3)(d, t), u({4, 30}, 89)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::swiglu_backward(in[0], in[1])}; }, 1},
      {"relu backward", {4, 33},
       [=](Device d, DType t) {
         Tensor x = u({4, 33}, 90, -3, 3)(d, t);
         return Outputs{x, ops::unary(UnaryOp::Relu, x), u({4, 33}, 91)(d, t)};
       },
       [](const Outputs& in) { return Outputs{ops::unary_backward(UnaryOp::Relu, in[0], in[1], in[2])}; }, 1},
      {"conv1d K=10 pad=4,5", {2, 20, 6},
       [=](Device d, DType t) { return Outputs{u({2, 20, 6}, 92)(d, t), u({10, 6, 8}, 93)(d, t), u({8}, 94)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::conv1d(in[0], in[1], in[2], 4, 5)}; }, 60},
      {"conv1d backward", {2, 20, 6},
       [=](Device d, DType t) {
         return Outputs{u({2, 20, 6}, 92)(d, t), u({10, 6, 8}, 93)(d, t), u({2, 20, 8}, 95)(d, t)};
       },
       [](const Outputs& in) {
         ops::Conv1dGrads g = ops::conv1d_backward(in[0], in[1], true, 4, in[2]);
         return Outputs{g.dx, g.dweight, g.dbias};
       },
       80},
      {"depthwise_conv1d K=15", {2, 40, 16},
       [=](Device d, DType t) { return Outputs{u({2, 40, 16}, 96)(d, t), u({15, 16}, 97)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::depthwise_conv1d(in[0], in[1], 7)}; }, 15},
      {"depthwise_conv1d backward", {2, 40, 16},
       [=](Device d, DType t) {
         return Outputs{u({2, 40, 16}, 96)(d, t), u({15, 16}, 97)(d, t), u({2, 40, 16}, 98)(d, t)};
       },
       [](const Outputs& in) {
         auto [dx, dw] = ops::depthwise_conv1d_backward(in[0], in[1], in[2], 7);
         return Outputs{dx, dw};
       },
       80},
      {"embedding", {3, 4},
       [=](Device d, DType t) { return Outputs{u({10, 6}, 99)(d, t), integer_input({3, 4}, DType::i32, d, 100, 10)}; },
       [](const Outputs& in) { return Outputs{ops::embedding(in[0], in[1])}; }, 1},
      {"embedding backward (repeated ids)", {3, 4},
       [=](Device d, DType t) { return Outputs{integer_input({3, 4}, DType::i64, d, 101, 5), u({3, 4, 6}, 102)(d, t)}; },
       [](const Outputs& in) { return Outputs{ops::embedding_backward(in[0], in[1], 10)}; }, 12},
      {"cross_entropy", {2, 200, 6},
       [=](Device d, DType t) {
         return Outputs{u({2, 200, 6}, 103, -3, 3)(d, t), integer_input({2, 200}, DType::i32, d, 104, 6)};
       },
       [](const Outputs& in) { return Outputs{ops::cross_entropy(in[0], in[1])}; }, 6},
      {"cross_entropy backward", {2, 200, 6},
       [=](Device d, DType t) {
         return Outputs{u({2, 200, 6}, 103, -3, 3)(d, t), integer_input({2, 200}, DType::i32, d, 104, 6),
                        u({2, 200}, 105)(d, t)};
       },
       [](const Outputs& in) { return Outputs{ops::cross_entropy_backward(in[0], in[1], in[2])}; }, 6},
  };
  for (const HalfCase& c : list)
    for (DType dt : {DType::bf16, DType::f16})
      add(
          cases, label(c.name, dt, c.shape), dt, Compare::Nmse,
          [=](Device d) { return in_dtype(d, dt, c.inputs, c.op); }, c.terms);
  // Random streams in half types: f32 values rounded once, as a cast of the f32 stream.
  for (DType dt : {DType::bf16, DType::f16}) {
    add(cases, label("random_uniform then round", dt, {1001}), dt, Compare::Exact, [=](Device d) {
      Generator gen(1234, 77);
      if (d.is_cuda()) return Outputs{ops::uniform({1001}, -2, 2, gen, dt, d)};
      return Outputs{ops::to(ops::uniform({1001}, -2, 2, gen, DType::f32, d), dt)};
    });
    add(cases, label("dropout_mask p=0.1 then round", dt, {1001}), dt, Compare::Exact, [=](Device d) {
      Generator gen(42, 3);
      if (d.is_cuda()) return Outputs{ops::dropout_mask({1001}, 0.1, gen, dt, d)};
      return Outputs{ops::to(ops::dropout_mask({1001}, 0.1, gen, DType::f32, d), dt)};
    });
  }
}

// ---- the optimiser ----
void add_optimizer_cases(Cases& cases) {
  // skip: none, a 0 flag (updates) and a 1 flag (changes nothing), read on the device.
  for (DType dt : kFloatsAndHalves)
    for (double decay : {0.0, 1e-3})
      for (double skip : {-1.0, 0.0, 1.0}) {
        const std::string name = std::string(decay > 0 ? "adam_step (decoupled decay)" : "adam_step") +
                                 (skip < 0 ? "" : skip == 0 ? " skip=0" : " skip=1");
        add(cases, label(name, dt, {1000}), dt, Compare::Nmse, [=](Device d) {
            return in_dtype(
                d, dt,
                [](Device dev, DType t) {
                  return Outputs{uniform_input({1000}, t, dev, 110), uniform_input({1000}, t, dev, 111),
                                 uniform_input({1000}, t, dev, 112), uniform_input({1000}, t, dev, 113, 0, 1)};
                },
                [=](const Outputs& in) {
                  Outputs state = {ops::clone(in[0]), ops::clone(in[2]), ops::clone(in[3])};  // param, m, v
                  const Tensor flag = skip < 0 ? Tensor() : Tensor::scalar(skip, DType::f64, in[0].device());
                  backend_for(in[0].device()).adam_step(state[0], in[1], state[1], state[2], 0.9, 0.98, 3e-4, 1e-9,
                                                        decay, flag);
                  return state;
                });
        });
      }
}

// The segment kernels of the flat gradient buffer (nn/optim/flat_parameters.h):
// segments of 0, 1, 300 and 5000 elements (one block each, the last strided
// over many times), an inf and a NaN in two of them.
void add_segment_cases(Cases& cases) {
  const std::vector<int64_t> offsets = {0, 0, 1, 301, 5301};
  for (DType dt : kFloatsAndHalves) {
    auto inputs = [=](Device d) {
      Tensor x = uniform_input({5301}, dt, d, 114, -3, 3);
      ops::fill_(ops::narrow(x, 0, 7, 1), std::numeric_limits<double>::infinity());
      ops::fill_(ops::narrow(x, 0, 4000, 1), std::numeric_limits<double>::quiet_NaN());
      return std::pair{x, ops::to(Tensor::from_vector(offsets, {5}), d)};
    };
    add(cases, label("segment_sum_squares", dt, {5301}), dt, Compare::Nmse, [=](Device d) {
      auto [x, bounds] = inputs(d);
      ops::fill_(ops::narrow(x, 0, 7, 1), 2.0);  // finite values for the comparison; the flags below
      Tensor out = Tensor::empty({4}, DType::f64, d);
      backend_for(d).segment_sum_squares(x, bounds, out);
      return Outputs{out};
    });
    add(cases, label("segment_sum_squares of inf and NaN", dt, {5301}), dt, Compare::Exact, [=](Device d) {
      auto [x, bounds] = inputs(d);
      Tensor out = Tensor::empty({4}, DType::f64, d);
      backend_for(d).segment_sum_squares(x, bounds, out);
      return Outputs{nn::non_finite_elements(out)};  // 0, 0, 1 (inf), 1 (NaN)
    });
    add(cases, label("scale_segments", dt, {5301}), dt, Compare::Nmse, [=](Device d) {
      auto [x, bounds] = inputs(d);
      backend_for(d).scale_segments(x, bounds, ops::to(Tensor::from_vector(std::vector<double>{2, 0.5, 1.0 / 3, -1}, {4}), d));
      return Outputs{x};
    });
  }
}

// ---- the model's shapes ----
void add_model_shape_cases(Cases& cases) {
  // Attention as the model runs it: q, k, v are [B, H, T, Dh] views of
  // [B, T, H * Dh] projections (batch dims B and H do not merge).
  const int64_t B = 2, H = 8, T = 232, Dh = 512;
  for (DType dt : {DType::f32, DType::bf16}) {
    add(
        cases, product_label("attention scores", dt, {B, H, T, Dh}, {B, H, Dh, T}), dt, Compare::Nmse,
        [=](Device d) {
          auto heads = [&](uint64_t seed) {
            return ops::permute(ops::reshape(uniform_input({B, T, H * Dh}, dt, d, seed), {B, T, H, Dh}), {0, 2, 1, 3});
          };
          Tensor scores = ops::matmul(heads(120), ops::transpose(heads(121), -1, -2), 1.0 / std::sqrt(double(Dh)));
          Tensor p = ops::softmax(scores, false);
          const Tensor v = heads(122);
          // The context written in v's [B, T, H, Dh] memory (ldc = H * Dh, batch strides of B and H), and a
          // gradient of k^T written column-major, i.e. as the transposed product.
          const Tensor kt = ops::transpose(heads(121), -1, -2);
          return Outputs{scores, p, ops::matmul(p, v), ops::matmul(p, v, 1.0, v.strides()),
                         ops::matmul(ops::transpose(heads(120), -1, -2), p, 1.0, kt.strides())};
        },
        Dh);
  }
  // linear with its bias (and the conv module's ReLU) in the GEMM's epilogue
  // (cuBLASLt), at the model's conv/FFN shape (B * T rows, 512 -> 1024) and
  // at odd widths (N = 1, 3), where cuBLASLt may fall back to copy + GEMM.
  struct LinearShape {
    int64_t rows, K, N;
  };
  for (const LinearShape& s : {LinearShape{64 * 232, 512, 1024}, LinearShape{37, 16, 1}, LinearShape{37, 16, 3}})
    for (bool relu : {false, true})
      for (DType dt : {DType::f32, DType::bf16, DType::f16})
        add(
            cases,
            product_label(std::string(relu ? "linear + bias + relu" : "linear + bias") +
                              (s.rows > 1000 ? ", many rows" : ""),  // memcheck skips "many rows"
                          dt, {s.rows, s.K}, {s.K, s.N}),
            dt, Compare::Nmse,
            [=](Device d) {
              return in_dtype(
                  d, dt,
                  [=](Device dev, DType t) {
                    return Outputs{uniform_input({s.rows, s.K}, t, dev, 131), uniform_input({s.K, s.N}, t, dev, 132),
                                   uniform_input({s.N}, t, dev, 133)};
                  },
                  [=](const Outputs& in) { return Outputs{ops::linear(in[0], in[1], in[2], relu)}; });
            },
            s.K);
  // The same shape twice with other operands: the second call reuses the
  // first's cuBLASLt plan (cuda/linear.cpp) and must read its own bias.
  add(
      cases, product_label("linear + bias twice, same shape", DType::f32, {37, 16}, {16, 8}), DType::f32,
      Compare::Nmse,
      [](Device d) {
        const Tensor x = uniform_input({37, 16}, DType::f32, d, 137), w = uniform_input({16, 8}, DType::f32, d, 138);
        return Outputs{ops::linear(x, w, uniform_input({8}, DType::f32, d, 139)),
                       ops::linear(x, w, uniform_input({8}, DType::f32, d, 140))};
      },
      16);
  // x a view one element into its storage, with an odd row stride: cuBLASLt
  // must be told its alignment (2 bytes in bf16), or it may load 16 at a time.
  // The bias one element in: the epilogue reads it 16 bytes at a time
  // whatever it is told, so linear must fall back (cuda/alignment.h).
  for (DType dt : {DType::f32, DType::bf16, DType::f16})
    for (const bool odd_bias : {false, true})
      add(
          cases,
          product_label(odd_bias ? "linear + bias, bias at an odd offset" : "linear + bias, x at an odd offset", dt,
                        {37, 16}, {16, 8}),
          dt, Compare::Nmse,
          [=](Device d) {
            return in_dtype(
                d, dt,
                [=](Device dev, DType t) {
                  return Outputs{uniform_input({37, 17}, t, dev, 134), uniform_input({16, 8}, t, dev, 135),
                                 uniform_input({9}, t, dev, 136)};
                },
                [=](const Outputs& in) {
                  const Tensor x = ops::narrow(in[0], 1, odd_bias ? 0 : 1, 16);  // [37, 16]
                  const Tensor bias = ops::narrow(in[2], 0, odd_bias ? 1 : 0, 8);  // [8]
                  return Outputs{ops::linear(x, in[1], bias)};
                });
          },
          16);
  // Column reductions over B * T rows, as bias and layer-norm gradients take them (two-stage).
  for (DType dt : {DType::f32, DType::bf16})
    add(
        cases, label("sum over [0], many rows", dt, {20000, 512}), dt, Compare::Nmse,
        [=](Device d) { return Outputs{ops::sum(uniform_input({20000, 512}, dt, d, 123), {0})}; }, 20000);
  add(
      cases, label("layer_norm backward, many rows", DType::f32, {20000, 512}), DType::f32, Compare::Nmse,
      [](Device d) {
        Tensor x = uniform_input({20000, 512}, DType::f32, d, 124), gamma = uniform_input({512}, DType::f32, d, 125);
        ops::LayerNormResult r = ops::layer_norm(x, gamma, uniform_input({512}, DType::f32, d, 126), 1e-6);
        ops::LayerNormGrads g =
            ops::layer_norm_backward(x, gamma, r.mean, r.rstd, uniform_input({20000, 512}, DType::f32, d, 127));
        return Outputs{g.dx, g.dgamma, g.dbeta};
      },
      20000);
  add(
      cases, label("depthwise_conv1d backward, many rows", DType::f32, {64, 232, 512}), DType::f32, Compare::Nmse,
      [](Device d) {
        auto [dx, dw] = ops::depthwise_conv1d_backward(uniform_input({64, 232, 512}, DType::f32, d, 128),
                                                       uniform_input({15, 512}, DType::f32, d, 129),
                                                       uniform_input({64, 232, 512}, DType::f32, d, 130), 7);
        return Outputs{dx, dw};
      },
      64 * 232);
}

// ---- one whole training step of a small Proformer ----
// The same initial weights, tokens and dropout stream on both devices:
// forward, loss, backward, clipping and Adam. Outputs: the loss, every
// gradient (after clipping) and every parameter after the update, but the
// attention key biases'. A key bias adds q.b to every score of a query's row,
// which the softmax cancels: its exact gradient is 0, so each device returns
// only its own rounding noise (NMSE about 1 against the other's), and Adam
// (eps 1e-9) turns that noise into steps of the learning rate's size. The CPU
// data-parallel test (tests/proformer/test_data_parallel.cpp) leaves them out
// for the same reason.
bool is_key_bias(const std::string& name) {
  const std::string suffix = "attn.k.bias";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

proformer::ModelConfig training_config() {
  proformer::ModelConfig config;
  config.dim = 32;
  config.blocks = 2;
  config.heads = 2;
  config.head_dim = 16;
  config.dropout = 0.1;
  return config;
}

constexpr int64_t kStepBatch = 4;
constexpr uint64_t kStepDropoutSeed = 9;

Tensor step_tokens(Device d, uint64_t seed) {
  return integer_input({kStepBatch, 2 * training_config().seq_len}, DType::i32, d, seed, 6);  // [B, S], ids 0..5
}

// The tokens' seed, chosen on the CPU, the same for both devices. A conv
// ReLU pre-activation within ~1e-6 of zero may fall on either side of it on
// the two devices and move a whole row of the pointwise gradient (and
// everything upstream), which no NMSE bound short of ~1e-4 lets through;
// such a tie is not a bug. So the step runs on the first tokens (from seed
// 140 on) whose pre-activations all lie at least 1e-5 from zero on the CPU,
// ten times the devices' drift, and every output keeps the f32 bound
// (tests/cuda_host/relu_ties.h, whose replay of the forward pass
// tests/cuda_host/test_relu_ties.cpp checks against the model's).
uint64_t step_tokens_seed() {
  static const uint64_t seed = [] {
    proformer::Proformer model(training_config(), 7);
    model.train();
    return test::tokens_seed_clear_of_relu_ties(
        model, [](uint64_t s) { return step_tokens(Device::cpu(), s); }, kStepDropoutSeed, 140, 1e-5);
  }();
  return seed;
}

Outputs training_step(Device d) {
  const proformer::ModelConfig config = training_config();
  proformer::Proformer model(config, 7);
  model.to(d);
  model.train();
  const int64_t B = kStepBatch, S = 2 * config.seq_len;
  Tensor tokens = step_tokens(d, step_tokens_seed());
  Tensor targets = integer_input({B, S}, DType::i32, d, 141, 4);
  Tensor mask = integer_input({B, S}, DType::f32, d, 142, 2);
  Tensor labels = uniform_input({B}, DType::f32, d, 143);
  Generator dropout_gen(kStepDropoutSeed);
  proformer::Loss loss = proformer::proformer_loss(model.forward(tokens, dropout_gen), labels, targets, mask,
                                                   ops::sum(mask).item());
  model.zero_grad();
  loss.total.backward();
  const auto named = model.named_parameters();
  nn::Adam adam(named, {});
  nn::clip_gradients(adam.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
  Outputs out = {loss.total.detach()};
  for (const auto& [name, p] : named)
    if (!is_key_bias(name)) out.push_back(ops::clone(p.grad()));
  adam.step(1e-3);
  for (const auto& [name, p] : named)
    if (!is_key_bias(name)) out.push_back(p.detach());
  return out;
}

// ---- the fused calls that cut a step's memory traffic (#34 item 6) ----
// The mixed calls (an f32 input with a half output or gradient), the weight
// gradient with its bias gradient, and the attention node; the CPU runs the
// same calls (tests/core/test_fused_traffic.cpp checks them against the
// unfused sequences there).
void add_fused_traffic_cases(Cases& cases) {
  const Shape rows{10, 512}, wide{3, 1500};
  for (DType half : {DType::bf16, DType::f16}) {
    add(cases, label("scalar mul 0.5 f32 ->", half, {40, 1000}), half, Compare::Nmse, [=](Device d) {
      return Outputs{ops::scalar(ScalarOp::Mul, uniform_input({40, 1000}, DType::f32, d, 200, -3, 3), 0.5, half)};
    });
    for (const Shape& shape : {rows, wide}) {
      const int64_t N = shape.back();
      auto gamma = [=](Device d) { return uniform_input({N}, DType::f32, d, 202, 0.5, 1.5); };
      add(cases, label("layer_norm f32 -> y", half, shape), half, Compare::Nmse, [=](Device d) {
        ops::LayerNormResult r =
            ops::layer_norm(uniform_input(shape, DType::f32, d, 201, -2, 3), gamma(d), uniform_input({N}, DType::f32, d, 203),
                            1e-6, half);
        return Outputs{r.y, r.mean, r.rstd};
      }, N);
      add(cases, label("layer_norm backward, dy and dx_add f32 ->", half, shape), half, Compare::Nmse, [=](Device d) {
        const Tensor x = uniform_input(shape, DType::f32, d, 201, -2, 3);
        ops::LayerNormResult r = ops::layer_norm(x, gamma(d), uniform_input({N}, DType::f32, d, 203), 1e-6);
        ops::LayerNormGrads g = ops::layer_norm_backward(x, gamma(d), r.mean, r.rstd,
                                                         uniform_input(shape, half, d, 204),
                                                         uniform_input(shape, DType::f32, d, 205));
        return Outputs{g.dx, g.dgamma, g.dbeta};
      }, N);
    }
    const Shape conv{4, 200, 16};
    add(cases, label("depthwise_conv1d K=15 f32 -> y", half, conv), half, Compare::Nmse, [=](Device d) {
      return Outputs{ops::depthwise_conv1d(uniform_input(conv, DType::f32, d, 206), uniform_input({15, 16}, DType::f32, d, 207),
                                           7, half)};
    }, 15);
    add(cases, label("depthwise_conv1d backward K=15 dy", half, conv), half, Compare::Nmse, [=](Device d) {
      auto [dx, dw] = ops::depthwise_conv1d_backward(uniform_input(conv, DType::f32, d, 206),
                                                     uniform_input({15, 16}, DType::f32, d, 207),
                                                     uniform_input(conv, half, d, 208), 7);
      return Outputs{dx, dw};
    }, 800);
  }
  for (DType dt : kFloatsAndHalves) {
    // The model's shapes at two rows of 232 tokens (dw [512, 4096] as q's), and x a transposed view.
    for (const auto& [R, K, N] : {std::array<int64_t, 3>{464, 512, 4096}, std::array<int64_t, 3>{300, 24, 40}}) {
      add(cases, label("linear_weight_grad", dt, {R, K, N}), dt, Compare::Nmse, [=](Device d) {
        ops::LinearWeightGrads g = ops::linear_weight_grad(uniform_input({R, K}, dt, d, 209), uniform_input({R, N}, dt, d, 210));
        return Outputs{g.dw, g.dbias};
      }, R);
      add(cases, label("linear_weight_grad, x transposed", dt, {R, K, N}), dt, Compare::Nmse, [=](Device d) {
        const Tensor x = ops::transpose(uniform_input({K, R}, dt, d, 211), 0, 1);
        ops::LinearWeightGrads g = ops::linear_weight_grad(x, uniform_input({R, N}, dt, d, 210));
        return Outputs{g.dw, g.dbias};
      }, R);
    }
  }
  for (DType dt : {DType::f32, DType::bf16}) {
    // The attention node on packed q, k, v: context and the gradient of qkv.
    add(cases, label("attention forward and backward, 2 heads of 8", dt, {3, 29, 48}), dt, Compare::Nmse, [=](Device d) {
      Tensor qkv = uniform_input({3, 29, 48}, dt, d, 212, -2, 2);
      qkv.set_requires_grad(true);
      const Tensor context = attention(qkv, 2, 8);
      sum(mul(context, uniform_input({3, 29, 16}, dt, d, 213))).backward();
      return Outputs{context.detach(), qkv.grad()};
    }, 29 * 8);
  }
}

// f32's bound on every output: the inputs are clear of ReLU ties (step_tokens_seed).
void add_training_step_case(Cases& cases) {
  add(cases, "one training step of a small Proformer (loss, gradients, parameters after Adam)", DType::f32,
      Compare::Nmse, training_step, 2 * 200 * 4);
}

Cases all_cases() {
  Cases cases;
  add_agreement_cases(cases);
  add_half_cases(cases);
  add_fused_traffic_cases(cases);
  add_optimizer_cases(cases);
  add_segment_cases(cases);
  add_model_shape_cases(cases);
  add_training_step_case(cases);
  add_layout_cases(cases);
  add_elementwise_cases(cases);
  add_reduction_cases(cases);
  add_gemm_cases(cases);
  add_nn_cases(cases);
  add_index_cases(cases);
  return cases;
}

double nmse(const std::vector<double>& actual, const std::vector<double>& expected) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return norm > 0 ? error / norm : error;
}

// Copies every output to the host, which is where the GPU reports bad indices.
void read_back(const Outputs& outputs) {
  for (const Tensor& t : outputs) t.to_vector<double>();
}

void check_case(const Case& c) {
  if (c.compare == Compare::Throws) {
    CHECK_THROWS_AS(read_back(c.run(Device::cpu())), Error);
    CHECK_THROWS_AS(read_back(c.run(Device::cuda())), Error);
    return;
  }
  const Outputs expected = c.run(Device::cpu());
  const Outputs actual = c.run(Device::cuda());
  REQUIRE(actual.size() == expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    CAPTURE(k);  // which output
    const bool same_kind = actual[k].shape() == expected[k].shape() && actual[k].dtype() == expected[k].dtype() &&
                           actual[k].device().is_cuda();
    CHECK(same_kind);
    if (!same_kind) continue;
    const std::vector<double> a = actual[k].to_vector<double>(), e = expected[k].to_vector<double>();
    if (c.compare == Compare::Exact) {
      CHECK(a == e);
    } else {
      const double error = nmse(a, e);
      CAPTURE(error);
      CHECK(error <= c.max_nmse);
    }
  }
}

// PF_CUDA_CASES selects cases by name: '|'-separated substrings, a case runs
// when its name contains one of the plain ones (or there are none) and none
// of those starting with '-'. scripts/gpu-check.sh runs the sanitizers on
// subsets this way, e.g. PF_CUDA_CASES='softmax|layer_norm|-many rows'.
bool selected(const std::string& name) {
  const char* filter = std::getenv("PF_CUDA_CASES");
  if (filter == nullptr || *filter == 0) return true;
  bool any_plain = false, matched = false;
  std::stringstream parts(filter);
  for (std::string part; std::getline(parts, part, '|');) {
    if (part.empty()) continue;
    const bool exclude = part[0] == '-';
    const std::string text = exclude ? part.substr(1) : part;
    const bool found = name.find(text) != std::string::npos;
    if (exclude && found) return false;
    if (!exclude) any_plain = true, matched = matched || found;
  }
  return !any_plain || matched;
}

// The TEST_CASEs beside the list of cases, for the "skipped" line.
#ifdef PF_HAVE_NCCL
constexpr size_t kOtherTests = 2 + 3;  // embedding determinism, pinned uploads, the NCCL cases
#else
constexpr size_t kOtherTests = 2;
#endif

}  // namespace

TEST_CASE("cuda backend matches the cpu backend") {
  for (const Case& c : all_cases()) {
    if (!selected(c.name)) continue;
    INFO(c.name);
    try {
      check_case(c);
    } catch (const std::exception& e) {
      FAIL_CHECK(c.name << " threw: " << e.what());
    }
  }
}

// A GPU --resume reaches the same bits only if every kernel is deterministic;
// embedding backward was the one with atomics. Twice on the same inputs, in
// each dtype the model trains in: the same bits.
TEST_CASE("cuda: embedding backward gives the same bits on every run") {
  if (!selected("embedding backward")) return;
  for (DType dt : {DType::f32, DType::bf16}) {
    CAPTURE(dt);
    const Tensor ids = integer_input({4096}, DType::i32, Device::cuda(), 56, 3);
    const Tensor dout = uniform_input({4096, 512}, dt, Device::cuda(), 57);
    const std::vector<double> first = ops::embedding_backward(ids, dout, 3).to_vector<double>();
    for (int run = 0; run < 3; ++run) CHECK(ops::embedding_backward(ids, dout, 3).to_vector<double>() == first);
  }
}

// copy_from_host stages through a ring of pinned blocks (cuda/host_staging.h)
// and returns before the transfer: many uploads in a row, more than the ring
// holds, each source overwritten as soon as the call returns, behind a long
// product that keeps the transfers queued, must all arrive as they were.
TEST_CASE("cuda: uploads through the pinned ring arrive intact when the host reuses its memory at once") {
  if (!selected("pinned uploads")) return;
  const Tensor big = uniform_input({4096, 4096}, DType::f32, Device::cuda(), 64);
  const Tensor product = ops::matmul(big, big);  // the uploads queue behind it
  std::vector<float> source(30000);
  std::vector<Tensor> uploaded;
  for (int k = 0; k < 40; ++k) {
    std::fill(source.begin(), source.end(), float(k));
    Tensor device_copy = Tensor::empty({int64_t(source.size()) - k}, DType::f32, Device::cuda());
    backend_for(Device::cuda()).copy_from_host(source.data(), device_copy.raw_data(),
                                               size_t(device_copy.numel()) * sizeof(float));
    std::fill(source.begin(), source.end(), -1.0f);  // the host reuses its memory at once
    uploaded.push_back(device_copy);
  }
  for (int k = 0; k < 40; ++k) {
    CAPTURE(k);
    const std::vector<float> values = uploaded[size_t(k)].to_vector<float>();
    CHECK(std::count(values.begin(), values.end(), float(k)) == int64_t(values.size()));
  }
  CHECK(std::isfinite(ops::sum(product).item()));
}

#ifdef PF_HAVE_NCCL
TEST_CASE("nccl: all_reduce_sum in a group of one rank keeps the values") {
  pf::cuda::NcclCommunicator comm(pf::cuda::NcclCommunicator::new_unique_id(), 0, 1);
  CHECK(comm.rank() == 0);
  CHECK(comm.size() == 1);
  Tensor x = uniform_input({3, 5}, DType::f32, Device::cuda(), 60);
  const std::vector<float> before = x.to_vector<float>();
  comm.all_reduce_sum(x);
  CHECK(x.to_vector<float>() == before);
}

TEST_CASE("nccl: started all-reduce, average and broadcast in a group of one rank keep the values") {
  pf::cuda::NcclCommunicator comm(pf::cuda::NcclCommunicator::new_unique_id(), 0, 1);
  Tensor x = uniform_input({1000}, DType::f32, Device::cuda(), 61);
  const std::vector<float> before = x.to_vector<float>();
  auto pending = comm.start_all_reduce_sum(x);
  pending->wait();  // the host waits for it (under the watchdog): to_vector sees the result
  CHECK(x.to_vector<float>() == before);
  comm.all_reduce_average(x);
  comm.broadcast(x, 0);
  comm.barrier();
  CHECK(x.to_vector<float>() == before);
  CHECK(pending->test());
}

TEST_CASE("nccl: polling an all-reduce that has not run yet leaves no error for the next launch") {
  pf::cuda::NcclCommunicator comm(pf::cuda::NcclCommunicator::new_unique_id(), 0, 1);
  // A long product on the compute stream: the collective waits behind it, so the poll finds it running.
  const Tensor big = uniform_input({4096, 4096}, DType::f32, Device::cuda(), 62);
  const Tensor product = ops::matmul(big, big);
  Tensor x = uniform_input({1000}, DType::f32, Device::cuda(), 63);
  auto pending = comm.start_all_reduce_sum(x);
  const bool finished_at_once = pending->test();
  CAPTURE(finished_at_once);  // false is what the case is for: the event query answered "not ready"
  CHECK_NOTHROW(ops::mul(product, 2.0));  // a launch, which checks the runtime's last error
  pending->wait();
  comm.barrier();  // on the communicator's own device (cuda:0 here; a 2-rank run checks the other)
  CHECK(pending->test());
}
#endif

int main(int argc, char** argv) {
  try {
    if (!pf::cuda::register_backend()) {
      std::printf("no CUDA device: %zu CUDA tests skipped\n", all_cases().size() + kOtherTests);
      return 77;
    }
  } catch (const pf::Error& e) {  // a GPU the driver cannot serve (too old): the CUDA error itself
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
