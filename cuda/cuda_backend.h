// The CUDA backend: every Backend kernel (core/backend.h) on one GPU, computing
// what the CPU backend (core/cpu/) computes. All work goes, in order, to one
// stream, so memory can be reused as soon as it is freed (stream-ordered
// allocator) and only copies to the host wait for the GPU. Files by concern,
// mirroring core/cpu/:
//   register.h        the public entry point: register_backend()
//   cuda_backend.cpp  construction, registration, memory and host copies
//   host_staging      host-to-device copies through a ring of pinned blocks
//                     (staging_ring.h, CUDA-free, tested on the CPU)
//   common.cuh        what the .cu files share: dispatch, launch, reductions
//   memory.cu         copy/cast (strided), fill, random fills, dropout mask
//   elementwise.cu    unary (+ backward), binary (broadcasting), scalar,
//                     add_scaled
//   reduce.cu         sum, max
//   gemm.cpp          batched GEMM through cuBLAS, one call per GEMM
//                     (gemm_batch.cu fills pointer arrays for it)
//   linear.cpp        GEMM + bias through cuBLASLt's bias epilogue, and the
//                     weight gradient with the bias gradient (BGRADA epilogue)
//   nn_kernels.cu     softmax, layer norm, SwiGLU, cross-entropy
//   conv.cu           unfold1d/fold1d (im2col), depthwise conv1d
//   embedding.cu      embedding gather/scatter-add, one-hot
//   nccl_communicator all-reduce across processes (when NCCL is found)
// Kernels take f32 and f64; copy and fill take every dtype, and the ops that
// pf::ops hands to a GPU in bf16/f16 (unary, binary, scalar, add_scaled, sum,
// max, gemm, linear) take those too, computing in f32; the mixed calls of
// core/backend.h take an f32 input with a half output or gradient.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <memory>

#include "core/backend.h"
#include "cuda/host_staging.h"

namespace pf::cuda {

// A bad index met by a kernel (embedding id, one-hot class, cross-entropy
// target). Kernels cannot throw, so the first one is recorded in device
// memory, and the next synchronize() or copy_to_host(), which wait for the
// stream anyway, read the record back and throw it as pf::Error.
struct KernelIndexError {
  int flag;        // 0 until a kernel claims the record (atomicCAS to 1)
  const char* op;  // a host string literal; the device only carries the pointer
  long long position, value, bound;
};

// linear()'s and linear_weight_grad()'s cuBLASLt descriptors and algorithms
// by epilogue and shape (cuda/linear.cpp).
struct LinearPlans;
struct LinearPlansDeleter {
  void operator()(LinearPlans* plans) const;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  int device() const { return device_; }
  // The stream every kernel, copy and collective of this backend runs on.
  cudaStream_t stream() const { return stream_; }

  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr) override;
  void copy_to_host(const void* src, void* host_dst, size_t nbytes) override;
  void copy_from_host(const void* host_src, void* dst, size_t nbytes) override;
  void synchronize() override;
  void set_tf32(bool allowed) override { tf32_ = allowed; }

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
  void linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out) override;
  void linear_weight_grad(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias) override;

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
  void depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left, const Tensor& dx,
                                 const Tensor& dw) override;
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

 private:
  // Waits for the stream, then throws the KernelIndexError recorded, if any.
  void wait_and_check();
  // linear() as one cuBLASLt call with the bias (and ReLU) in its epilogue;
  // false (and nothing done) where cuBLASLt does not support the case.
  bool linear_epilogue(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out);
  // linear_weight_grad() as one cuBLASLt call with the bias gradient in its
  // epilogue (BGRADA); false (and nothing done) where cuBLASLt does not support it.
  bool weight_grad_epilogue(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias);

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cublasLtHandle_t cublas_lt_ = nullptr;            // linear()'s bias epilogue
  bool stream_ordered_alloc_ = false;               // cudaMallocAsync when the device has memory pools
  bool tf32_ = false;                               // f32 GEMMs in CUBLAS_COMPUTE_32F_FAST_TF32
  KernelIndexError* index_error_device_ = nullptr;  // written by kernels
  KernelIndexError* index_error_host_ = nullptr;    // pinned copy, read back at each wait
  std::unique_ptr<LinearPlans, LinearPlansDeleter> linear_plans_;  // linear()'s and linear_weight_grad()'s
  std::unique_ptr<HostStaging> staging_;                           // copy_from_host's pinned blocks, on stream_
};

// The registered backend (pf::Error if register_backend() was not called).
CudaBackend& cuda_backend();

}  // namespace pf::cuda
