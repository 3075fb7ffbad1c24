// pf::ops: the raw (non-differentiable) tensor operations. Each one checks its
// arguments (throwing pf::Error with the op name, shapes and dtypes), allocates
// the output on the inputs' device and calls one Backend kernel. Autograd
// (autograd/functional.h) builds the differentiable pf:: ops from these; the
// backward of every op is also written with these.
//
// Half types (bf16, f16) are stored as such and computed in f32 inside the
// kernels (load, compute, store): no op makes an f32 copy of a half tensor.
// GEMMs accumulate in f32. Layer norm's mean and rstd are f32 for half x.
#pragma once
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace pf::ops {

// ---- layout and copies ----
// A contiguous tensor with the same values (x itself if already contiguous).
Tensor contiguous(const Tensor& x);
// A new contiguous copy.
Tensor clone(const Tensor& x);
// Converts dtype and/or device (returns x itself when nothing changes).
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);
// dst = src (broadcasting src to dst's shape); dst may be a strided view.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, double value);

// ---- views (share storage; no copy) ----
// Same data, new shape; one dim may be -1. Views when strides allow, else copies.
Tensor reshape(const Tensor& x, Shape shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
// Elements [start, start + length) of dim.
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Elements start, start + step, ... < end of dim (Python x[start:end:step]).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
// Broadcast to `shape` (size-1 dims get stride 0; new leading dims are added).
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// The NumPy broadcast of two shapes; throws naming `op` when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- creation with the seeded generator ----
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::f32,
               Device device = Device::cpu());
Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype = DType::f32,
              Device device = Device::cpu());

// ---- elementwise ----
Tensor unary(UnaryOp op, const Tensor& x);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy);
// Broadcasting binary op.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor scalar(ScalarOp op, const Tensor& x, double s);
// x op s stored as `out_dtype`: x's dtype, or bf16/f16 for an f32 x (the f32
// result rounded once: scalar then to(), in one pass).
Tensor scalar(ScalarOp op, const Tensor& x, double s, DType out_dtype);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
inline Tensor mul(const Tensor& x, double s) { return scalar(ScalarOp::Mul, x, s); }
// x + alpha * y in one pass, broadcasting as binary: the same values as
// add(x, mul(y, alpha)) (see Backend::add_scaled for when bit for bit). x f32
// with y bf16 or f16 is allowed (an f32 result; y read as if cast to f32).
Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha);

// ---- reductions ----
// Sum over `dims` (empty = all dims). keepdim keeps them as size 1.
Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
// Maximum over one dim.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast result back down to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- matrix products ----
// alpha * (a [..., M, K] @ b [..., K, N]) -> [..., M, N], batch dims broadcast;
// 1-D b is not supported (use unsqueeze). Transposed views are passed to GEMM
// as is, and alpha is applied inside it (no extra pass over the result).
// The result is contiguous, or has the given `strides` where they are dense
// for its shape (is_dense) with a unit stride in one of the last two dims:
// the GEMM writes that layout in place (a column-major one as the transposed
// product), so a result that is permuted or transposed next needs no copy
// (attention's [B, H, T, Dh] context in [B, T, H, Dh] memory). Other strides
// are ignored.
Tensor matmul(const Tensor& a, const Tensor& b, double alpha = 1.0, const Shape& strides = {});
// c = alpha * (a [..., M, K] @ b [..., K, N]) written into c [..., M, N], a
// view with c's batch dims in a, b and c (no broadcasting), stride(-1) == 1
// and rows and batch items that do not overlap: the product lands in place in
// a larger tensor (attention's dq, dk, dv in one [B, T, 3, H, Dh] buffer).
void matmul_into(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1.0);
// Whether a tensor of this shape and these strides fills numel consecutive
// slots, each once, in some order of its dims (contiguous, permuted or
// transposed).
bool is_dense(const Shape& shape, const Shape& strides);

// x [R, K] @ w [K, N] + bias [N] -> [R, N], then max(., 0) where relu: the
// backend adds the bias inside the GEMM (Backend::linear: a cuBLASLt epilogue
// on CUDA, the ReLU too; on the CPU the bias is written into the output first
// and the GEMM accumulates onto it), one pass fewer than matmul + add.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu = false);
// Linears of the same x side by side: x [R, K] @ ws[i] [K, N_i] + biases[i]
// [N_i] in columns of one [R, sum N_i] result (Backend::linear_concat: where
// our CPU GEMM runs, each product writes its own columns and the weights are
// not copied).
Tensor linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases);
// Its input gradient: g [R, sum N_i] @ [w_0 | w_1 | ...]^T -> [R, K]
// (Backend::linear_concat_dx: on the CPU, f32, no joined copy of the weights).
Tensor linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws);
// linear's weight and bias gradients from its input x [R, K] and output
// gradient dy [R, N]: dw [K, N] = x^T @ dy and dbias [N] = dy's rows summed,
// in one GEMM that sums dbias in its epilogue where the backend can
// (Backend::linear_weight_grad).
struct LinearWeightGrads {
  Tensor dw, dbias;
};
LinearWeightGrads linear_weight_grad(const Tensor& x, const Tensor& dy);

// ---- neural-network kernels (see backend.h for the exact formulas) ----
Tensor softmax(const Tensor& x, bool log = false);  // over the last dim
Tensor softmax_backward(const Tensor& y, const Tensor& dy, bool log = false);
// The softmax gradient from the input x, y recomputed in the compute type (Backend::softmax_backward_recompute).
Tensor softmax_backward_recompute(const Tensor& x, const Tensor& dy);
struct LayerNormResult {
  Tensor y, mean, rstd;  // y like x; mean, rstd [R]
};
LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
// y stored as `y_dtype`: x's, or bf16/f16 for an f32 x (layer norm then to(), in one pass).
LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, DType y_dtype);
struct LayerNormGrads {
  Tensor dx, dgamma, dbeta;
};
// dy in x's dtype, or bf16/f16 for an f32 x. With dx_add (x's shape and
// dtype) dx is dx_add plus the layer norm's gradient, in the same pass.
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& dy, const Tensor& dx_add = Tensor());
Tensor swiglu(const Tensor& x);  // [..., 2N] -> [..., N]
Tensor swiglu_backward(const Tensor& x, const Tensor& dy);
// x [B, L, C], weight [K, C, Cout], bias [Cout] or undefined -> [B, L + pad_left + pad_right - K + 1, Cout].
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t pad_left, int64_t pad_right);
struct Conv1dGrads {
  Tensor dx, dweight, dbias;
};
Conv1dGrads conv1d_backward(const Tensor& x, const Tensor& weight, bool has_bias, int64_t pad_left,
                            const Tensor& dy);
// x [B, L, C], weight [K, C] -> [B, L, C] ('same' needs pad_left = (K - 1) / 2).
Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, int64_t pad_left);
// y stored as `y_dtype`: x's, or bf16/f16 for an f32 x (the convolution then to(), in one pass).
Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, int64_t pad_left, DType y_dtype);
// dy in x's dtype, or bf16/f16 for an f32 x.
std::pair<Tensor, Tensor> depthwise_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy,
                                                    int64_t pad_left);  // {dx, dweight}
// weight [V, D], ids [...] integer -> [..., D].
Tensor embedding(const Tensor& weight, const Tensor& ids);
Tensor embedding_backward(const Tensor& ids, const Tensor& dout, int64_t vocab);  // -> [V, D]
// ids [...] integer -> [..., num_classes] of dtype.
Tensor one_hot(const Tensor& ids, int64_t num_classes, DType dtype = DType::f32);
// logits [..., C], targets [...] integer -> per-element loss [...].
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss);
// Inverted-dropout mask of x's shape: 0 with probability p, else 1 / (1 - p).
Tensor dropout_mask(const Shape& shape, double p, Generator& gen, DType dtype = DType::f32,
                    Device device = Device::cpu());
// Joins tensors along dim (all other dims equal).
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);

}  // namespace pf::ops
