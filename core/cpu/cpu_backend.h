// The CPU backend: our packed GEMM and Eigen for matrix products, plain loops
// (parallelised with OpenMP over rows) for everything else. Kernels are grouped by concern:
//   memory.cpp       allocate (host_cache.cpp: the caching allocator), copy/cast,
//                    fill, random
//   elementwise.cpp  unary, binary (broadcasting), scalar
//   add_scaled.cpp   x + alpha * y (built without fused multiply-add)
//   reduce.cpp       sum, max
//   gemm.cpp         batched GEMM: f32, bf16 and f16 through sgemm.cpp (packed,
//                    our micro-kernel; half types widened in the packing),
//                    f64 through Eigen; f32 through oneDNN where it is this
//                    machine's engine (f32_engine.cpp: which, and why)
//   gemm_half.cpp    oneDNN's matmul: bf16/f16 where the CPU has the
//                    instructions, f32 where PF_CPU_GEMM=onednn
//   nn_kernels.cpp   softmax, layer norm, SwiGLU, cross-entropy, dropout mask
//   conv.cpp         unfold1d/fold1d (im2col), depthwise conv1d
//   embedding.cpp    embedding gather/scatter-add, one-hot
//   optimizer.cpp    the fused Adam step
#pragma once
#include <string>
#include <atomic>

#include "core/backend.h"
#include "core/cpu/f32_engine.h"
#include "core/cpu/kernel_helpers.h"

namespace pf {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  const char* name() const override { return "cpu"; }
  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr) override;
  void copy_to_host(const void* src, void* host_dst, size_t nbytes) override;
  void copy_from_host(const void* host_src, void* dst, size_t nbytes) override;
  void synchronize() override {}

  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void random_uniform(const Tensor& dst, double lo, double hi, uint64_t seed, uint64_t offset) override;
  void random_normal(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) override;

  void unary(UnaryOp op, const Tensor& x, const Tensor& out) override;
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void scalar(ScalarOp op, const Tensor& x, double s, const Tensor& out) override;
  void add_scaled(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) override;

  void sum(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) override;
  void max(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) override;

  void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) override;
  // gemm() with our own kernels (sgemm, Eigen), whatever the f32 engine.
  void gemm_ours(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta);
  // Whether gemm() runs products of this dtype on our sgemm, which reads and
  // writes any row stride at full speed (oneDNN's matmul falls back to a
  // slower kernel for strided operands).
  static bool sgemm_runs(DType dtype);
  // Where sgemm_runs: each weight's product into its columns of out (no
  // joined copy of the weights); elsewhere Backend's joined one.
  void linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases,
                     const Tensor& out) override;
  // Where sgemm_runs f32: dx as the sum of each weight's product (g's columns
  // of it, transposed weight), as a GEMM adds its k-slices; elsewhere
  // Backend's joined one (a half dx is then rounded once).
  void linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws, const Tensor& dx) override;
  // gemm() for bf16/f16 where sgemm does not take them (gemm_half.cpp).
  void gemm_half(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta);
  // Whether half GEMMs of this dtype run on oneDNN's native kernels here (the
  // CPU has bf16/f16 dot-product instructions and the build found oneDNN).
  static bool native_half_gemm(DType dtype);
  // Whether the build found oneDNN, and an f32 gemm() through its matmul:
  // false (nothing done) without it or for a case it rejects (gemm_half.cpp).
  static bool onednn_built();
  static bool gemm_onednn_f32(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta);
  // The engine of this process's f32 products, ours or oneDNN's, and how it
  // was chosen (PF_CPU_GEMM, or measured on this CPU once per machine:
  // f32_engine.h); set_f32_gemm overrides it (tests, benchmarks).
  static cpu::F32Engine f32_gemm();
  static std::string f32_gemm_how();
  static void set_f32_gemm(cpu::F32Engine engine);
  // Which GEMM code runs on this CPU, for logs: "f32 onednn (measured here
  // ...), bf16 onednn, f16 sgemm avx512 (12 x 32 tile)" (gemm.cpp).
  static std::string gemm_kernels();

  void softmax(const Tensor& x, const Tensor& y, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override;
  void softmax_backward_recompute(const Tensor& x, const Tensor& dy, const Tensor& dx) override;
  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                           const Tensor& dbeta) override;
  void swiglu(const Tensor& x, const Tensor& y) override;
  void swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) override;
  void unfold1d(const Tensor& x, int64_t pad_left, const Tensor& cols) override;
  void fold1d(const Tensor& dcols, int64_t pad_left, const Tensor& dx) override;
  void depthwise_conv1d(const Tensor& x, const Tensor& w, int64_t pad_left, const Tensor& y) override;
  void depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left,
                                 const Tensor& dx, const Tensor& dw) override;
  void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) override;
  void embedding_backward(const Tensor& ids, const Tensor& dout, const Tensor& dweight) override;
  void one_hot(const Tensor& ids, const Tensor& out) override;
  void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                              const Tensor& dlogits) override;
  void dropout_mask(const Tensor& mask, double p, uint64_t seed, uint64_t offset) override;
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1, double beta2,
                 double step_size, double eps, double decay, const Tensor& skip) override;
  void segment_sum_squares(const Tensor& x, const Tensor& offsets, const Tensor& out) override;
  void scale_segments(const Tensor& x, const Tensor& offsets, const Tensor& factor) override;
};

// The process-wide CPU backend.
CpuBackend& cpu_backend();

}  // namespace pf
