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
// linear_weight_grad: dw [K, N] = x^T dy and dbias [N] = dy's rows summed, as
// one cuBLASLt call that sums the bias gradient in its epilogue
// (CUBLASLT_EPILOGUE_BGRADA) while the GEMM reads dy: column-major, dw is D
// [N, K] = dy^T x, A = dy^T [N, R], B = x [R, K], and BGRADA sums A over the
// GEMM's k (= R) into a vector of D's m (= N) rows. The same fallback: where
// cuBLASLt declines, Backend::linear_weight_grad's GEMM and sum.
// The descriptors and the heuristic's algorithm are made once per shape,
// dtype, operand layout, epilogue and alignment (LtKey) and kept by the
// backend; a call sets only the bias pointer.
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
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, out = nullptr;  // A, B and C = D
  cublasLtMatmulPreference_t preference = nullptr;
  LtDescriptors() = default;
  LtDescriptors(const LtDescriptors&) = delete;
  LtDescriptors& operator=(const LtDescriptors&) = delete;
  ~LtDescriptors() {
    if (preference) cublasLtMatmulPreferenceDestroy(preference);
    if (out) cublasLtMatrixLayoutDestroy(out);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
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

// What decides a cuBLASLt call's descriptors and algorithm, in cuBLAS's
// column-major terms D [m, n] = op(A) [m, k] op(B) [k, n] (D contiguous,
// leading dimension m): dtype, epilogue, shapes, how each operand is read and
// the operands' and bias's alignments.
struct LtKey {
  DType dtype;
  bool tf32;
  cublasLtEpilogue_t epilogue;
  int64_t m, n, k;
  cublasOperation_t op_a, op_b;
  int64_t ld_a, ld_b;
  uint32_t align_a, align_b, align_d, align_bias;
  auto operator<=>(const LtKey&) const = default;
};

// One key's descriptors and the algorithm the heuristic chose, or none
// (cuBLASLt does not support the case: the caller falls back every time).
struct LinearPlan {
  LtDescriptors d;
  cublasLtMatmulHeuristicResult_t algo{};
  bool supported = false;
};

// Builds the descriptors of `key` and asks the heuristic for an algorithm.
std::unique_ptr<LinearPlan> plan_linear(cublasLtHandle_t lt, const LtKey& key) {
  const GemmTypes types = gemm_types(key.dtype, key.tf32);
  auto plan = std::make_unique<LinearPlan>();
  LtDescriptors& d = plan->d;
  cublasCheck(cublasLtMatmulDescCreate(&d.matmul, types.compute, CUDA_R_32F));  // alpha, beta and bias math in f32
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSA, key.op_a);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSB, key.op_b);
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_EPILOGUE, key.epilogue);
  d.a = operand_layout(types.data, key.m, key.k, {key.op_a, key.ld_a});
  d.b = operand_layout(types.data, key.k, key.n, {key.op_b, key.ld_b});
  cublasCheck(cublasLtMatrixLayoutCreate(&d.out, types.data, uint64_t(key.m), uint64_t(key.n), key.m));  // D [m, n]
  cublasCheck(cublasLtMatmulPreferenceCreate(&d.preference));  // no workspace
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_a);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_b);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_d);
  set_preference(d.preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_d);

  int found = 0;
  const cublasStatus_t searched =
      cublasLtMatmulAlgoGetHeuristic(lt, d.matmul, d.a, d.b, d.out, d.out, d.preference, 1, &plan->algo, &found);
  if (searched != CUBLAS_STATUS_NOT_SUPPORTED) cublasCheck(searched);
  plan->supported = searched == CUBLAS_STATUS_SUCCESS && found > 0;
  return plan;
}

}  // namespace

// Built once per key: the descriptors and the heuristic query cost host time
// on every call otherwise (about 145 calls a step at the full model).
struct LinearPlans {
  std::map<LtKey, std::unique_ptr<LinearPlan>> by_key;
};
void LinearPlansDeleter::operator()(LinearPlans* plans) const { delete plans; }

namespace {

// D = op(A) op(B) with key's epilogue and its bias (or bias-gradient) vector,
// on `plans`' plan for key; false (nothing done) where cuBLASLt declines.
bool run_lt(cublasLtHandle_t lt, LinearPlans& plans, cudaStream_t stream, const LtKey& key, const void* a,
            const void* b, void* d_out, void* bias) {
  std::unique_ptr<LinearPlan>& plan = plans.by_key[key];
  if (!plan) plan = plan_linear(lt, key);
  if (!plan->supported) return false;
  LtDescriptors& d = plan->d;
  set_attribute(d.matmul, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);  // in D's dtype (the default)
  const float one = 1.0f, zero = 0.0f;
  const cublasStatus_t ran = cublasLtMatmul(lt, d.matmul, &one, a, d.a, b, d.b, &zero, d_out, d.out, d_out, d.out,
                                            &plan->algo.algo, nullptr, 0, stream);
  if (ran == CUBLAS_STATUS_NOT_SUPPORTED) return false;
  cublasCheck(ran);
  return true;
}

}  // namespace

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
  const LtKey key{out.dtype(), tf32_, relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS, N, R, K, vw.op,
                  vx.op, vw.ld, vx.ld, pointer_alignment(w.raw_data()), pointer_alignment(x.raw_data()),
                  pointer_alignment(out.raw_data()), pointer_alignment(bias.raw_data())};
  if (!linear_plans_) linear_plans_.reset(new LinearPlans);
  return run_lt(cublas_lt_, *linear_plans_, stream_, key, w.raw_data(), x.raw_data(), out.raw_data(), bias.raw_data());
}

void CudaBackend::linear_weight_grad(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias) {
  if (dw.numel() == 0 || dy.size(0) == 0 || !weight_grad_epilogue(x, dy, dw, dbias))
    Backend::linear_weight_grad(x, dy, dw, dbias);
}

bool CudaBackend::weight_grad_epilogue(const Tensor& x, const Tensor& dy, const Tensor& dw, const Tensor& dbias) {
  if (dw.dtype() == DType::f64 || !bias_epilogue_allowed(dbias.raw_data())) return false;
  const int64_t R = dy.size(0), N = dy.size(1), K = x.size(1);
  const TransposedView vdy = transposed_view(R, N, dy.stride(0), dy.stride(1));  // op(A) = dy^T [N, R]
  const TransposedView vx = transposed_view(K, R, x.stride(1), x.stride(0));     // op(B) = x [R, K]
  const LtKey key{dw.dtype(), tf32_, CUBLASLT_EPILOGUE_BGRADA, N, K, R, vdy.op, vx.op, vdy.ld, vx.ld,
                  pointer_alignment(dy.raw_data()), pointer_alignment(x.raw_data()), pointer_alignment(dw.raw_data()),
                  pointer_alignment(dbias.raw_data())};
  if (!linear_plans_) linear_plans_.reset(new LinearPlans);
  return run_lt(cublas_lt_, *linear_plans_, stream_, key, dy.raw_data(), x.raw_data(), dw.raw_data(),
                dbias.raw_data());
}

}  // namespace pf::cuda
