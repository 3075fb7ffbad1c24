// The differentiable ops: what models are written with. Each one computes its
// result with pf::ops and, when an input requires grad, records a Node whose
// backward is written next to the forward in the matching .cpp:
//   elementwise.cpp  arithmetic, unary functions, dropout
//   shape_ops.cpp    reshape, permute, slicing, expand, concat, split
//   reductions.cpp   sum, mean, max
//   linalg.cpp       matmul
//   nn_ops.cpp       softmax, layer_norm, swiglu, conv1d, embedding, losses
// Every op here has a finite-difference gradient test in tests/autograd/.
#pragma once
#include <vector>

#include "autograd/node.h"
#include "core/ops.h"

namespace pf {

// ---- elementwise (binary ops broadcast like NumPy) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// x + alpha * y in one pass (residual adds of scaled branches): the values of
// add(x, mul(y, alpha)) without the intermediate tensor.
Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha);
Tensor add(const Tensor& x, double s);
Tensor mul(const Tensor& x, double s);
Tensor pow(const Tensor& x, double p);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor silu(const Tensor& x);
// Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) (BERT, GPT-2).
Tensor gelu(const Tensor& x);
// Differentiable dtype cast (the gradient is cast back).
Tensor cast(const Tensor& x, DType dtype);
// Inverted dropout: zeroes each element with probability p and scales the
// rest by 1/(1-p). Identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return add(x, -s); }
inline Tensor operator*(const Tensor& x, double s) { return mul(x, s); }
inline Tensor operator*(double s, const Tensor& x) { return mul(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return mul(x, 1.0 / s); }

// ---- shape ----
Tensor reshape(const Tensor& x, const Shape& shape);  // one dim may be -1
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Splits dim into pieces of the given sizes (they must add up to its size).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// Splits dim into `chunks` equal pieces.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);

// ---- reductions ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Maximum over one dim; the gradient goes to the position(s) holding the maximum.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);

// ---- linear algebra ----
// alpha * (a [..., M, K] @ b [..., K, N]) -> [..., M, N], batch dims broadcast.
// `strides`: the result's layout, as ops::matmul takes it. Each gradient is
// written in its input's layout (when that is dense), so the permutes and
// transposes that made the inputs give back gradients without copies.
Tensor matmul(const Tensor& a, const Tensor& b, double alpha = 1.0, const Shape& strides = {});

// x [R, K] @ w [K, N] + bias [N] -> [R, N] in one GEMM pass.
// x [..., K] flattens to rows [R, K] and the result has x's leading dims.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
// Linears that read the same x (attention's q, k and v) as one: x [..., K],
// weights w_i [K, N_i] and biases b_i [N_i] -> [..., sum N_i], x @ [w_0 | w_1
// | ...] + [b_0 | b_1 | ...] in one result, its backward one GEMM for the
// weights' gradients and one for dx (ops::linear_concat, linear_concat_dx:
// where our CPU GEMM runs, one product per weight instead, and the weights
// are never copied side by side). Each weight and bias stays its own tensor
// (a Parameter of its own, as checkpoints name them) and gets its own gradient.
Tensor linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases);
// relu(linear(x, w, bias)), the ReLU fused into the GEMM where the backend can.
Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& bias);

// ---- neural-network ops ----
Tensor softmax(const Tensor& x);      // over the last dim
// Multi-head self-attention on packed projections: qkv [B, T, 3 * H * Dh]
// holds q, k and v side by side (linear_concat's result) -> context
// [B, T, H * Dh], per head softmax(q k^T / sqrt(Dh)) v. One node, so its
// backward writes dq, dk and dv into one gradient of qkv's shape.
Tensor attention(const Tensor& qkv, int64_t heads, int64_t head_dim);
Tensor log_softmax(const Tensor& x);  // over the last dim
// Layer norm over the last dim: (x - mean) / sqrt(var + eps) * gamma + beta.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
// layer_norm whose result a GEMM reads next: under autocast it is stored in
// the low dtype the GEMM would cast it to (statistics and arithmetic stay
// f32: the same values as layer_norm then the cast, in one pass); otherwise
// layer_norm itself.
Tensor layer_norm_for_gemm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
// x [..., 2N] = [a | g] -> a * silu(g) [..., N].
Tensor swiglu(const Tensor& x);
// x [B, L, C], weight [K, C, Cout], bias [Cout] (or undefined), explicit
// zero padding -> [B, L + pad_left + pad_right - K + 1, Cout].
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t pad_left, int64_t pad_right);
// x [B, L, C], weight [K, C], K odd, 'same' zero padding -> [B, L, C].
Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight);
// depthwise_conv1d whose result a GEMM reads next: under autocast stored in
// the low dtype (computed in f32: the convolution then the cast, in one pass).
Tensor depthwise_conv1d_for_gemm(const Tensor& x, const Tensor& weight);
// weight [V, D], ids [...] (i32/i64) -> [..., D]; backward scatter-adds into weight.
Tensor embedding(const Tensor& weight, const Tensor& ids);
// Per-element cross-entropy: logits [..., C], targets [...] -> [...].
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
// mean((prediction - target)^2) over all elements.
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

}  // namespace pf
