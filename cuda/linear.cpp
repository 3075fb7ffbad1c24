// linear: out [R, N] = x [R, K] @ w [K, N] + bias [N] (then a ReLU, for the
// conv module's pointwise conv) as one cuBLASLt call, the bias added in the
// GEMM's epilogue (CUBLASLT_EPILOGUE_BIAS, or RELU_BIAS) instead of copied
// into out before a beta = 1 GEMM and followed by a ReLU pass. In cuBLAS's column-major terms
// (gemm_types.h) out is D [N, R] = w^T x^T, and the epilogue adds its bias
// vector (length m = N) to each column of D, i.e. to every row of out. Only
// the model's dtypes (f32, bf16, f16) take this path, and where cuBLASLt does
// not support a case (alignment, no algorithm), linear falls back to
// Backend::linear's copy + GEMM: slower, never wrong. f64 always does.
#include "cuda/alignment.h"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/gemm_types.h"

namespace pf::cuda {

namespace {

// The cuBLASLt descriptors of one call, destroyed with it.
struct LtDescriptors {
  cublasLtMatmulDesc_t matmul = nullptr;
  cublasLtMatrixLayout_t w = nullptr, x = nullptr, out = nullptr;  // cuBLASLt's A, B and C = D
  cublasLtMatmulPreference_t preference = nullptr;
  LtDescriptors() = default;
  LtDescriptors(const LtDescriptors&) = delete;
  LtDescriptors& operator=(const LtDescriptors&) = delete;
  ~LtDescriptors() {
    if (preference) cublasLtMatmulPreferenceDestroy(preference);
    if (out) cublasLtMatrixLayoutDestroy(out);
    if (x) cublasLtMatrixLayoutDestroy(x);
    if (w) cublasLtMatrixLayoutDestroy(w);
    if (matmul) cublasLtMatmulDescDestroy(matmul);
  }
};

template <typename V>
void set_attribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const V& value) {
  cublasCheck(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(value)));
}

void set_preference(cublasLtMatmulPreference_t preference, cublasLtMatmulPreferenceAttributes_t attribute,
                    uint32_t value) {
  cublasCheck(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof(value)));
}

// The layout in memory of an operand that cuBLASLt reads as op(X) [rows, cols]
// through `view`: X itself is [rows, cols] for op N, [cols, rows] for op T.
cublasLtMatrixLayout_t operand_layout(cudaDataType type, int64_t rows, int64_t cols, const TransposedView& view) {
  const bool as_is = view.op == CUBLAS_OP_N;
  cublasLtMatrixLayout_t layout = nullptr;
  cublasCheck(cublasLtMatrixLayoutCreate(&layout, type, uint64_t(as_is ? rows : cols), uint64_t(as_is ? cols : rows),
                                         view.ld));
  return layout;
}

}  // namespace

void CudaBackend::linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out) {
  if (out.numel() == 0 || x.size(1) == 0 || !linear_epilogue(x, w, bias, relu, out))
    Backend::linear(x, w, bias, relu, out);
}

bool CudaBackend::linear_epilogue(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu,
                                  const Tensor& out) {
  if (out.dtype() == DType::f64) return false;
  const int64_t R = out.size(0), N = out.size(1), K = x.size(1);
  const GemmTypes types = gemm_types(out.dtype(), tf32_);
  const TransposedView vw = transposed_view(K, N, w.stride(0), w.stride(1));  // op(A) = w^T [N, K]
  const TransposedView vx = transposed_view(R, K, x.stride(0), x.stride(1));  // op(B) = x^T [K, R]
  LtDescriptors d;
  cublasCheck(cublasLtMatmulDescCreate(&d.matmul, types.compute, CUDA_R_32F));  // alpha, beta and bias math in f32
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSA, vw.op);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSB, vx.op);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_EPILOGUE, relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias.raw_data());  // bias in out's dtype (the default)
  d.w = operand_layout(types.data, N, K, vw);
  d.x = operand_layout(types.data, K, R, vx);
  cublasCheck(cublasLtMatrixLayoutCreate(&d.out, types.data, uint64_t(N), uint64_t(R), N));  // D [N, R]
  cublasCheck(cublasLtMatmulPreferenceCreate(&d.preference));  // no workspace
  // The operands' actual alignments: a view at an odd offset gets a kernel that can read it.
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, pointer_alignment(w.raw_data()));
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, pointer_alignment(x.raw_data()));
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, pointer_alignment(out.raw_data()));
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, pointer_alignment(out.raw_data()));

  cublasLtMatmulHeuristicResult_t algo{};
  int found = 0;
  const cublasStatus_t searched = cublasLtMatmulAlgoGetHeuristic(cublas_lt_, d.matmul, d.w, d.x, d.out, d.out,
                                                                 d.preference, 1, &algo, &found);
  if (searched == CUBLAS_STATUS_NOT_SUPPORTED || (searched == CUBLAS_STATUS_SUCCESS && found == 0)) return false;
  cublasCheck(searched);

  const float one = 1.0f, zero = 0.0f;
  const cublasStatus_t ran = cublasLtMatmul(cublas_lt_, d.matmul, &one, w.raw_data(), d.w, x.raw_data(), d.x, &zero,
                                            out.raw_data(), d.out, out.raw_data(), d.out, &algo.algo, nullptr, 0,
                                            stream_);
  if (ran == CUBLAS_STATUS_NOT_SUPPORTED) return false;
  cublasCheck(ran);
  return true;
}

}  // namespace pf::cuda
