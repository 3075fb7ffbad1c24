// Batched GEMM through cuBLAS, reading every operand in place.
//
// cuBLAS is column-major, and a row-major [M, N] matrix is the column-major
// [N, M] matrix C^T. So the backend asks cuBLAS for C^T = B^T A^T: m = N,
// n = M, cuBLAS's first operand is b and its second is a. An operand stored
// row-major is, read column-major, already its own transpose (op N); one stored
// column-major (a transposed view) is read as is and transposed by cuBLAS
// (op T). The batch dims become strided-batched calls: one call over the
// largest batch dim, a host loop over the others (attention's q [B, H, T, Dh]
// viewed in [B, T, H, Dh] memory has B and H unmergeable: 8 calls of batch
// 512, not 512 of batch 8).
#include <algorithm>
#include <climits>
#include <vector>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace pf::cuda {

namespace {

// How cuBLAS reads X^T for the [rows, cols] matrix X whose element (i, j) sits
// at i * row_stride + j * col_stride (one of the strides is 1). The test for
// row-major is core/cpu/gemm.cpp's.
struct TransposedView {
  cublasOperation_t op;
  int64_t ld;  // leading dimension of the column-major matrix in memory
};

TransposedView transposed_view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 && (row_stride >= cols || rows == 1))  // row-major: memory holds X^T [cols, rows]
    return {CUBLAS_OP_N, std::max<int64_t>({row_stride, cols, 1})};
  return {CUBLAS_OP_T, std::max<int64_t>({col_stride, rows, 1})};  // column-major: memory holds X [rows, cols]
}

// One batch dim with its stride in a, b and c (in elements).
struct BatchDim {
  int64_t size, a, b, c;
};

// c's batch dims with size-1 dims dropped and neighbours merged where they
// are one run in all three tensors, so that a batch laid out uniformly (the
// usual case, broadcast included) becomes a single dim.
std::vector<BatchDim> batch_dims(const Tensor& a, const Tensor& b, const Tensor& c) {
  std::vector<BatchDim> dims;
  for (int64_t d = 0; d < c.dim() - 2; ++d) {
    const BatchDim next{c.size(d), a.stride(d), b.stride(d), c.stride(d)};
    if (next.size == 1) continue;
    if (!dims.empty()) {
      BatchDim& last = dims.back();
      if (last.a == next.a * next.size && last.b == next.b * next.size && last.c == next.c * next.size) {
        last = {last.size * next.size, next.a, next.b, next.c};
        continue;
      }
    }
    dims.push_back(next);
  }
  if (dims.empty()) dims.push_back({1, 0, 0, 0});
  return dims;
}

// The cuBLAS types for a dtype; alpha and beta are passed in the compute type.
struct GemmTypes {
  cudaDataType data;
  cublasComputeType_t compute;
};

GemmTypes gemm_types(DType dtype, bool tf32) {
  switch (dtype) {
    case DType::f32:  // true f32 unless TF32 was allowed (set_tf32)
      return {CUDA_R_32F, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
    case DType::f64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F};
    case DType::bf16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
    case DType::f16: return {CUDA_R_16F, CUBLAS_COMPUTE_32F};
    default: PF_FAIL("gemm", "CUDA GEMM needs a floating dtype, got ", dtype);
  }
}

int checked_int(int64_t v, const char* what) {
  PF_CHECK(v <= INT_MAX, "gemm", what, " ", v, " exceeds cuBLAS's int range");
  return int(v);
}

}  // namespace

void CudaBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  const int64_t M = c.size(-2), N = c.size(-1), K = a.size(-1);
  if (c.numel() == 0) return;
  if (K == 0) {  // an empty sum: c = beta * c
    if (beta == 0.0)
      fill(c, 0.0);
    else
      scalar(ScalarOp::Mul, c, beta, c);
    return;
  }
  const GemmTypes types = gemm_types(c.dtype(), tf32_);
  const bool f64 = c.dtype() == DType::f64;
  const float alpha32 = float(alpha), beta32 = float(beta);
  const void* alpha_ptr = f64 ? static_cast<const void*>(&alpha) : &alpha32;
  const void* beta_ptr = f64 ? static_cast<const void*>(&beta) : &beta32;

  const TransposedView va = transposed_view(M, K, a.stride(-2), a.stride(-1));
  const TransposedView vb = transposed_view(K, N, b.stride(-2), b.stride(-1));
  std::vector<BatchDim> dims = batch_dims(a, b, c);
  // One strided-batched call covers the largest dim (moved last)...
  std::swap(*std::max_element(dims.begin(), dims.end(), [](const BatchDim& x, const BatchDim& y) { return x.size < y.size; }),
            dims.back());
  const BatchDim inner = dims.back();
  int64_t outer = 1;  // ...and the host loops over the others
  for (size_t d = 0; d + 1 < dims.size(); ++d) outer *= dims[d].size;

  const size_t element = dtype_size(c.dtype());
  const char* a_base = static_cast<const char*>(a.raw_data());
  const char* b_base = static_cast<const char*>(b.raw_data());
  char* c_base = static_cast<char*>(c.raw_data());
  for (int64_t item = 0; item < outer; ++item) {
    int64_t off_a = 0, off_b = 0, off_c = 0, rest = item;
    for (size_t d = dims.size() - 1; d-- > 0;) {  // outer dims, innermost first
      const int64_t index = rest % dims[d].size;
      rest /= dims[d].size;
      off_a += index * dims[d].a;
      off_b += index * dims[d].b;
      off_c += index * dims[d].c;
    }
    cublasCheck(cublasGemmStridedBatchedEx(cublas_, vb.op, va.op, checked_int(N, "N"), checked_int(M, "M"),
                                           checked_int(K, "K"), alpha_ptr, b_base + off_b * element, types.data,
                                           checked_int(vb.ld, "leading dimension"), inner.b, a_base + off_a * element,
                                           types.data, checked_int(va.ld, "leading dimension"), inner.a, beta_ptr,
                                           c_base + off_c * element, types.data, checked_int(N, "N"), inner.c,
                                           checked_int(inner.size, "batch"), types.compute, CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace pf::cuda
