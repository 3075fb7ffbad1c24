// linear: out [R, N] = x [R, K] @ w [K, N] + bias [N] (then a ReLU, for the
// conv module's pointwise conv) as one cuBLASLt call, the bias added in the
// GEMM's epilogue (CUBLASLT_EPILOGUE_BIAS, or RELU_BIAS) instead of copied
// into out before a beta = 1 GEMM and followed by a ReLU pass. In cuBLAS's column-major terms
// (gemm_types.h) out is D [N, R] = w^T x^T, and the epilogue adds its bias
// vector (length m = N) to each column of D, i.e. to every row of out. Only
// the model's dtypes (f32, bf16, f16) take this path, and where cuBLASLt does
// not support a case (alignment, a bias under 16 bytes aligned, no algorithm),
// linear falls back to Backend::linear's copy + GEMM: slower, never wrong.
// f64 always does.
// The descriptors and the heuristic's algorithm are made once per shape,
// dtype, operand layout and alignment (LinearKey) and kept by the backend;
// a call sets only the bias pointer.
#include <map>
#include <memory>

#include "cuda/alignment.h"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/gemm_types.h"

namespace pf::cuda {

namespace {

// The cuBLASLt descriptors of one linear shape, destroyed with the backend.
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

// What decides a linear's descriptors and algorithm: shapes, dtype, how
// each operand is read, the epilogue and the operands' and bias's alignments.
struct LinearKey {
  DType dtype;
  bool tf32, relu;
  int64_t R, N, K;
  cublasOperation_t op_w, op_x;
  int64_t ld_w, ld_x;
  uint32_t align_w, align_x, align_out, align_bias;
  auto operator<=>(const LinearKey&) const = default;
};

// One key's descriptors and the algorithm the heuristic chose, or none
// (cuBLASLt does not support the case: linear falls back every time).
struct LinearPlan {
  LtDescriptors d;
  cublasLtMatmulHeuristicResult_t algo{};
  bool supported = false;
};

// Builds the descriptors of `key` and asks the heuristic for an algorithm.
std::unique_ptr<LinearPlan> plan_linear(cublasLtHandle_t lt, const LinearKey& key) {
  const GemmTypes types = gemm_types(key.dtype, key.tf32);
  auto plan = std::make_unique<LinearPlan>();
  LtDescriptors& d = plan->d;
  cublasCheck(cublasLtMatmulDescCreate(&d.matmul, types.compute, CUDA_R_32F));  // alpha, beta and bias math in f32
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSA, key.op_w);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSB, key.op_x);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_EPILOGUE,
                key.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS);
  d.w = operand_layout(types.data, key.N, key.K, {key.op_w, key.ld_w});
  d.x = operand_layout(types.data, key.K, key.R, {key.op_x, key.ld_x});
  cublasCheck(cublasLtMatrixLayoutCreate(&d.out, types.data, uint64_t(key.N), uint64_t(key.R), key.N));  // D [N, R]
  cublasCheck(cublasLtMatmulPreferenceCreate(&d.preference));  // no workspace
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_w);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_x);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_out);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_out);

  int found = 0;
  const cublasStatus_t searched =
      cublasLtMatmulAlgoGetHeuristic(lt, d.matmul, d.w, d.x, d.out, d.out, d.preference, 1, &plan->algo, &found);
  if (searched != CUBLAS_STATUS_NOT_SUPPORTED) cublasCheck(searched);
  plan->supported = searched == CUBLAS_STATUS_SUCCESS && found > 0;
  return plan;
}

}  // namespace

// Built once per key: the descriptors and the heuristic query cost host time
// on every call otherwise (about 145 calls a step at the full model).
struct LinearPlans {
  std::map<LinearKey, std::unique_ptr<LinearPlan>> by_key;
};
void LinearPlansDeleter::operator()(LinearPlans* plans) const { delete plans; }

void CudaBackend::linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu, const Tensor& out) {
  if (out.numel() == 0 || x.size(1) == 0 || !linear_epilogue(x, w, bias, relu, out))
    Backend::linear(x, w, bias, relu, out);
}

bool CudaBackend::linear_epilogue(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu,
                                  const Tensor& out) {
  if (out.dtype() == DType::f64 || !bias_epilogue_allowed(bias.raw_data())) return false;
  const int64_t R = out.size(0), N = out.size(1), K = x.size(1);
  const TransposedView vw = transposed_view(K, N, w.stride(0), w.stride(1));  // op(A) = w^T [N, K]
  const TransposedView vx = transposed_view(R, K, x.stride(0), x.stride(1));  // op(B) = x^T [K, R]
  // The operands' actual alignments: a view at an odd offset gets a kernel that can read it.
  const LinearKey key{out.dtype(), tf32_, relu, R, N, K, vw.op, vx.op, vw.ld, vx.ld, pointer_alignment(w.raw_data()),
                      pointer_alignment(x.raw_data()), pointer_alignment(out.raw_data()),
                      pointer_alignment(bias.raw_data())};
  if (!linear_plans_) linear_plans_.reset(new LinearPlans);
  std::unique_ptr<LinearPlan>& plan = linear_plans_->by_key[key];
  if (!plan) plan = plan_linear(cublas_lt_, key);
  if (!plan->supported) return false;

  LtDescriptors& d = plan->d;
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias.raw_data());  // bias in out's dtype (the default)
  const float one = 1.0f, zero = 0.0f;
  const cublasStatus_t ran = cublasLtMatmul(cublas_lt_, d.matmul, &one, w.raw_data(), d.w, x.raw_data(), d.x, &zero,
                                            out.raw_data(), d.out, out.raw_data(), d.out, &plan->algo.algo, nullptr, 0,
                                            stream_);
  if (ran == CUBLAS_STATUS_NOT_SUPPORTED) return false;
  cublasCheck(ran);
  return true;
}

}  // namespace pf::cuda
