// The backend interface: every kernel a device must provide. The CPU backend
// (core/cpu/) and the CUDA backend (cuda/) implement this one class, so a
// kernel cannot exist on one device and be missing on the other.
//
// Contract for every kernel: the caller (pf::ops, core/ops.cpp) has already
// checked shapes, dtypes and devices and allocated the outputs. Unless a
// comment says otherwise, tensors are contiguous, outputs are written
// (not accumulated), floating tensors are f32, f64, bf16 or f16 and all
// floating arguments of one call share a dtype, except layer norm's mean and
// rstd, which are f32 when x is a half type, and the mixed calls a comment
// names (an f32 input with a half output or gradient: the f32 result rounded
// once, the same bits as the f32 call and a cast). Half types are loaded, computed
// in f32 (GEMMs accumulate in f32) and stored. Shapes use these letters:
//   R rows (all leading dims flattened), N the last dim, B batch, L length,
//   C channels, K kernel width, V vocabulary.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace pf {

// Gelu is the exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))).
enum class UnaryOp { Neg, Exp, Log, Sqrt, Tanh, Sigmoid, Relu, Silu, Abs, Gelu };
enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Eq };  // Eq gives 1 where a == b, else 0
enum class ScalarOp { Add, Mul, Pow, Rsub, ClampMin, ClampMax };  // x+s, x*s, x^s, s-x, max(x,s), min(x,s)

const char* unary_op_name(UnaryOp op);
// Whether op'(x) is computed from y = op(x) (exp, sqrt, tanh, sigmoid, relu)
// rather than from x; neg reads neither.
bool unary_derivative_reads_output(UnaryOp op);
const char* binary_op_name(BinaryOp op);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // ---- memory ----
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr) = 0;
  virtual void copy_to_host(const void* src, void* host_dst, size_t nbytes) = 0;
  virtual void copy_from_host(const void* host_src, void* dst, size_t nbytes) = 0;
  // Waits until all queued work on this device has finished.
  virtual void synchronize() = 0;
  // Lets f32 GEMMs round their inputs to TF32 (10-bit mantissa, f32 range)
  // on hardware that has it (CUDA tensor cores, train.tf32). Off by default;
  // a backend without TF32 (the CPU) ignores it.
  virtual void set_tf32(bool allowed) { (void)allowed; }

  // ---- layout ----
  // dst = src element by element, converting dtype. src and dst have the same
  // shape and any strides (dst may be a strided view, src may broadcast with
  // stride 0). Both on this backend's device. Any dtype.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  // dst[i] = value, any dtype.
  virtual void fill(const Tensor& dst, double value) = 0;
  // dst[i] = lo + (hi - lo) * philox_uniform(seed, offset, i).
  virtual void random_uniform(const Tensor& dst, double lo, double hi, uint64_t seed, uint64_t offset) = 0;
  // dst[i] = mean + std * philox_normal(seed, offset, i).
  virtual void random_normal(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) = 0;

  // ---- elementwise ----
  // out = op(x); x and out same shape.
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out) = 0;
  // dx = dy * op'(x), where y = op(x) is passed too because some derivatives
  // are cheapest from the output (exp, tanh, sigmoid, sqrt, relu). A kernel
  // reads only y where unary_derivative_reads_output(op), else only x, so
  // autograd saves one of them and may pass it for both.
  virtual void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) = 0;
  // out = a op b. a and b are views with out's shape and any strides (stride 0
  // where broadcast); out is contiguous.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = x op s. Mixed: x f32 and out bf16 or f16 (a residual stream's
  // gradient scaled into a half branch's: scalar then a cast, in one pass).
  virtual void scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) = 0;
  // out = x + alpha * y in one pass, x and y as binary's a and b. alpha * y is
  // rounded to the compute type before the sum (never one fused multiply-add),
  // so f32/f64 results equal scalar(Mul, y, alpha) then binary(Add) bit for
  // bit; for half types too when alpha * y is exact in them (alpha = 0.5).
  // The one mixed-dtype call: x and out f32, y bf16 or f16 (a residual stream
  // adding a mixed-precision branch), y widened as it is loaded, the same
  // bits as casting y to f32 first.
  virtual void add_scaled(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) = 0;

  // ---- reductions ----
  // x [outer, n, inner] -> out [outer, inner]: sum over the middle dim.
  virtual void sum(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) = 0;
  // Same layout, maximum over the middle dim.
  virtual void max(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) = 0;

  // ---- matrix products ----
  // c = alpha * a @ b + beta * c, batched. a [..., M, K], b [..., K, N],
  // c [..., M, N]. a and b have c's batch dims (stride 0 where broadcast) and
  // in their last two dims one unit stride: row-major (stride(-1) == 1) or
  // column-major (stride(-2) == 1, i.e. a transposed view), so transposes are
  // folded into the GEMM call, never copied. c has stride(-1) == 1; its rows
  // (stride(-2) >= N where M > 1) and batch items may sit at any strides
  // that do not overlap, so a GEMM can write a permuted layout in place
  // (attention's [B, H, T, Dh] result straight into [B, T, H, Dh] memory).
  virtual void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) = 0;
  // out [R, N] = x [R, K] @ w [K, N] + bias [N] (bias added to every row),
  // then max(out, 0) where relu; x and w as gemm's a and b, bias contiguous.
  // By default the bias is copied into out, gemm() accumulates onto it
  // (beta = 1) and unary(Relu) runs in place; a backend whose GEMM adds the
  // bias (and the ReLU) in its epilogue overrides this.
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out);
  // Several linears of the same x side by side: out [R, sum N_i] holds
  // x @ ws[i] + biases[i] in its columns [sum_{j<i} N_j, + N_i) (attention's q,
  // k and v). By default the weights and biases are joined (copied side by
  // side) for one linear(); the CPU backend's own GEMM writes each product
  // into its columns instead (cpu/gemm.cpp), and no weight is copied.
  virtual void linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases,
                             const Tensor& out);
  // linear_concat's input gradient: dx [R, K] = g [R, sum N_i] @ [w_0 | w_1
  // | ...]^T, g contiguous, ws as gemm's b. By default one product of the
  // joined weights; the CPU backend's own GEMM sums each weight's product
  // onto dx instead (f32), and no weight is copied.
  virtual void linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws, const Tensor& dx);
  // A linear layer's weight and bias gradients: dw [K, N] = x^T @ dy for
  // x [R, K] (read as gemm's a, transposed) and dy [R, N] contiguous, and
  // dbias [N] = dy's rows summed. By default gemm() and sum(), two passes over
  // dy; a backend whose GEMM sums the bias gradient in its epilogue (cuBLASLt's
  // BGRADA) overrides this, and dy is read once.
  virtual void linear_weight_grad(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias);

  // ---- fused neural-network kernels ----
  // y = softmax(x) (or log_softmax if log) over the last dim. x, y [R, N].
  virtual void softmax(const Tensor& x, const Tensor& y, bool log) = 0;
  // dx from y = softmax(x) (or log_softmax) and dy. All [R, N].
  virtual void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) = 0;
  // dx from x and dy, y = softmax(x) recomputed in the compute type exactly as
  // softmax() computes it (not log). All [R, N]. For a half y: the backward
  // then reads the f32 probabilities a rounded y has lost, and saves x (the
  // scores a GEMM wrote) instead of an f32 y: softmax_backward's result on
  // the f32 softmax of x, rounded once.
  virtual void softmax_backward_recompute(const Tensor& x, const Tensor& dy, const Tensor& dx) = 0;
  // y = (x - mean) * rstd * gamma + beta over the last dim, rstd = 1/sqrt(var + eps)
  // (population variance). x, y [R, N]; gamma, beta [N]; mean, rstd [R] (saved
  // for backward). Mixed: x, gamma, beta f32 and y bf16 or f16 (the input of a
  // half GEMM: layer norm then a cast, in one pass).
  virtual void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                          const Tensor& mean, const Tensor& rstd) = 0;
  // dx [R, N] written; dgamma, dbeta [N] written (summed over rows). dx_add:
  // undefined, or [R, N] in dx's dtype, and then dx = dx_add + the layer norm's
  // gradient (the gradient of a residual stream that also feeds the norm, in
  // the pass that writes dx instead of a second one). Mixed: x f32 and dy bf16
  // or f16 (the gradient of a mixed call's y), read as if cast to f32.
  virtual void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& dy, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                                   const Tensor& dbeta) = 0;
  // SwiGLU: x [R, 2N] = [a | g] -> y [R, N] = a * g * sigmoid(g).
  virtual void swiglu(const Tensor& x, const Tensor& y) = 0;
  virtual void swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) = 0;
  // im2col for a channels-last 1-D convolution with zero padding:
  // x [B, L, C] -> cols [B, Lout, K, C], cols[b, t, k, c] = x[b, t + k - pad_left, c]
  // (0 outside [0, L)). Lout comes from cols' shape.
  virtual void unfold1d(const Tensor& x, int64_t pad_left, const Tensor& cols) = 0;
  // The adjoint of unfold1d: dx [B, L, C] = sum of dcols over the positions each
  // x element was copied to. dx is written, not accumulated.
  virtual void fold1d(const Tensor& dcols, int64_t pad_left, const Tensor& dx) = 0;
  // Depthwise 1-D convolution, channels-last, zero padding, no bias:
  // y[b, t, c] = sum_k w[k, c] * x[b, t + k - pad_left, c]. x, y [B, L, C]; w [K, C].
  // Mixed: x, w f32 and y bf16 or f16 (the input of a half GEMM: the
  // convolution then a cast, in one pass).
  virtual void depthwise_conv1d(const Tensor& x, const Tensor& w, int64_t pad_left, const Tensor& y) = 0;
  // dx [B, L, C] and dw [K, C] written. Mixed: x, w f32 and dy bf16 or f16
  // (the gradient of a mixed call's y), read as if cast to f32.
  virtual void depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left,
                                         const Tensor& dx, const Tensor& dw) = 0;
  // out[i, :] = weight[ids[i], :]. weight [V, D]; ids [N] (i32 or i64); out [N, D].
  virtual void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) = 0;
  // dweight [V, D] = 0, then dweight[ids[i], :] += dout[i, :] (scatter-add).
  virtual void embedding_backward(const Tensor& ids, const Tensor& dout, const Tensor& dweight) = 0;
  // out[i, c] = (ids[i] == c). ids [N] integer; out [N, C] floating.
  virtual void one_hot(const Tensor& ids, const Tensor& out) = 0;
  // loss[i] = -log_softmax(logits[i])[targets[i]]. logits [R, C]; targets [R]
  // (i32 or i64, each in [0, C)); loss [R].
  virtual void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) = 0;
  // dlogits[i, c] = dloss[i] * (softmax(logits[i])[c] - (c == targets[i])).
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                                      const Tensor& dlogits) = 0;
  // Inverted dropout mask: mask[i] = (philox_uniform(seed, offset, i) >= p) / (1 - p).
  virtual void dropout_mask(const Tensor& mask, double p, uint64_t seed, uint64_t offset) = 0;

  // ---- optimiser ----
  // One Adam step in place on param, m, v (all the same shape and dtype, grad too):
  //   param *= 1 - decay                      (decoupled weight decay; 0 for Adam)
  //   m = beta1 * m + (1 - beta1) * grad
  //   v = beta2 * v + (1 - beta2) * grad^2
  //   param -= step_size * m / (sqrt(v) + eps)
  // The caller folds the learning rate and bias corrections into step_size.
  // skip: undefined, or a 0-d f64 tensor on the same device; when it holds a
  // nonzero value nothing changes (read by the kernel, so deciding to skip
  // costs the host no read-back; see nn/optim/step_checks.h).
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1,
                         double beta2, double step_size, double eps, double decay, const Tensor& skip) = 0;
  // Segments of a flat buffer (nn/optim/flat_parameters.h): x [N] holds P
  // tensors back to back, segment p is x[offsets[p] .. offsets[p + 1]);
  // offsets [P + 1] i64, ascending, offsets[0] = 0, offsets[P] = N.
  // out [P] f64: out[p] = sum of x[i]^2 over segment p, accumulated in f64 (so
  // it overflows only where x holds an inf, and is NaN where x holds a NaN).
  virtual void segment_sum_squares(const Tensor& x, const Tensor& offsets, const Tensor& out) = 0;
  // x[i] *= factor[p] in place over segment p; factor [P] f64 is rounded to
  // x's compute type first (f32 for the half types), so for f32 and f64 this is
  // ops::mul(segment, ops::to(factor[p], x.dtype())) bit for bit.
  virtual void scale_segments(const Tensor& x, const Tensor& offsets, const Tensor& factor) = 0;
};

// The backend that owns memory and kernels on `device`. The CPU backend always
// exists; CUDA devices need the cuda/ library (pf::Error otherwise). One CUDA
// device per process: the first one asked for.
Backend& backend_for(Device device);
// Plugs the cuda/ library in without touching a GPU: the first tensor on
// Device::cuda(n) calls factory(n) for the backend, so a run that stays on the
// CPU never opens a CUDA context (pf::cuda::enable_lazy_backend()).
void set_cuda_backend_factory(Backend* (*factory)(int device));
// Plugs in a backend created already (pf::cuda::register_backend()).
void register_cuda_backend(Backend* backend, int device);
bool cuda_backend_available();

}  // namespace pf
