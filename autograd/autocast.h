// Mixed precision: the one place that decides which dtype each op runs in,
// like torch.autocast. Model code never casts; while an AutocastGuard is alive
// the differentiable ops (autograd/*.cpp) call autocast::inputs() as their
// first line, and it casts their floating inputs by the op's class:
//
//   Low      linear, matmul (the attention GEMMs), conv1d (the k-mer embedding)
//            and through linear the pointwise convolution: inputs cast to the
//            low dtype (bf16 or f16); GEMMs accumulate in f32 and store low.
//   F32      layer_norm (its statistics), cross_entropy, mse_loss, sum, mean,
//            log_softmax: half inputs cast up to f32, so losses and
//            reductions are f32.
//   Promote  sub, mul, div, concat: mixed inputs cast to the widest.
//   Residual add, add_scaled (the model's residual adds): as Promote, except
//            that an f32 stream plus a half branch keeps the branch as it is:
//            the kernel widens it as it loads it, the same bits as a cast
//            first, without the cast's pass and f32 copy.
//   (others) swiglu, dropout, relu, depthwise_conv1d, embedding, softmax run
//            in the dtype they are given; their CPU and CUDA kernels load half,
//            compute in f32 and store half. softmax keeps torch.autocast's f32
//            math without its f32 tensors: the attention probabilities are
//            computed in f32 and rounded once, to the half type the next GEMM
//            reads (what a cast of f32 probabilities gives it), and their
//            gradient comes from the f32 probabilities, recomputed from the
//            saved scores (softmax in autograd/nn_ops.cpp).
//
// Parameters (f32 leaves, the master weights) are cast once per guard: the
// first use makes the low copy through pf::cast, later uses in the same
// forward reuse it, and the gradient flows back through the cast into the f32
// .grad. The trainer opens one guard per step, so the copies are made once
// per step and can never be stale after the optimiser updates the weights.
#pragma once
#include <array>
#include <vector>

#include "core/tensor.h"

namespace pf::autocast {

enum class OpClass { Low, F32, Promote, Residual };

// The op's class by name ("linear", "layer_norm", ...); pf::Error for a name
// not in the policy table, so a new op cannot be forgotten silently.
OpClass policy(const char* op);

// The low dtype while a guard is alive, f32 otherwise.
DType dtype();
bool enabled();

// Casts the floating tensors among `xs` for `op` as the policy says
// (unchanged when autocast is off or the tensor is not floating or undefined).
std::vector<Tensor> cast_inputs(const char* op, const std::vector<Tensor>& xs);
// The same for a fixed list, to unpack where the op starts:
//   auto [x, w, bias] = autocast::inputs("linear", x_in, w_in, bias_in);
template <typename... Ts>
std::array<Tensor, sizeof...(Ts)> inputs(const char* op, const Ts&... xs) {
  std::vector<Tensor> cast = cast_inputs(op, {xs...});
  std::array<Tensor, sizeof...(Ts)> out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::move(cast[i]);
  return out;
}

struct AutocastState;  // the dtype and the parameter copies of one guard

// Mixed precision for its lifetime: dtype bf16 or f16 (f32 turns it off, so a
// guard can be opened unconditionally with the run's dtype). Guards nest; each
// has its own cache of parameter copies.
class AutocastGuard {
 public:
  explicit AutocastGuard(DType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  AutocastState* previous_;
};

// Number of parameter casts made by the innermost guard (tests check that a
// parameter used twice is cast once).
int64_t parameter_casts();

}  // namespace pf::autocast
