// Batched GEMM through cuBLAS, reading every operand in place: C^T = B^T A^T
// in cuBLAS's column-major terms, transposed views folded into the op (see
// gemm_types.h), and c written at its own row and batch strides (ldc and the
// batch strides), so a permuted layout is written in place. The batch dims,
// merged where they are one run, make one call: a
// strided-batched call when one dim is left, else a pointer-array batched
// call whose arrays a small kernel fills on the device (attention's q
// [B, H, T, Dh] viewed in [B, T, H, Dh] memory has B and H unmergeable: one
// call of batch B * H, not B calls of batch H).
#include <algorithm>
#include <climits>
#include <vector>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/gemm_batch.h"
#include "cuda/gemm_types.h"

namespace pf::cuda {

TransposedView transposed_view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 && (row_stride >= cols || rows == 1))  // row-major: memory holds X^T [cols, rows]
    return {CUBLAS_OP_N, std::max<int64_t>({row_stride, cols, 1})};
  return {CUBLAS_OP_T, std::max<int64_t>({col_stride, rows, 1})};  // column-major: memory holds X [rows, cols]
}

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

namespace {

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

// What every cuBLAS call of one gemm() shares, in cuBLAS's terms: it computes
// C^T [n_rows = N, n_cols = M] = B^T A^T, so its first operand is b.
struct GemmCall {
  cublasHandle_t handle;
  cudaStream_t stream;
  int device;
  TransposedView va, vb;
  int m, n, k;  // cuBLAS's m = N, n = M
  int ldc;      // c's row stride: C^T's leading dimension
  const void* alpha;
  const void* beta;
  GemmTypes types;
  int64_t element;  // bytes per element

  // One strided-batched call over one batch dim.
  void strided(const BatchDim& dim, const char* a, const char* b, char* c) const {
    cublasCheck(cublasGemmStridedBatchedEx(handle, vb.op, va.op, m, n, k, alpha, b, types.data,
                                           checked_int(vb.ld, "leading dimension"), dim.b, a, types.data,
                                           checked_int(va.ld, "leading dimension"), dim.a, beta, c, types.data, ldc,
                                           dim.c, checked_int(dim.size, "batch"), types.compute, CUBLAS_GEMM_DEFAULT));
  }

  // One pointer-array batched call over up to kMaxGemmBatchDims dims. The
  // arrays come from the device pool and are freed when this returns, after
  // the call is enqueued: the pool frees in stream order (cudaFreeAsync) or
  // synchronises (cudaFree), so cuBLAS reads them before they are reused.
  void pointer_array(const BatchDim* dims, int count_dims, const char* a, const char* b, char* c) const {
    GemmBatch batch{};
    batch.dims = count_dims;
    int64_t count = 1;
    for (int d = 0; d < count_dims; ++d) {
      batch.size[d] = dims[d].size;
      batch.a[d] = dims[d].a;
      batch.b[d] = dims[d].b;
      batch.c[d] = dims[d].c;
      count *= dims[d].size;
    }
    Tensor pointers = Tensor::empty({3, count}, DType::i64, Device::cuda(device));  // [3, count]: a, b, c
    void** p = static_cast<void**>(pointers.raw_data());
    gemm_pointer_arrays(stream, batch, count, a, b, c, element, p);
    cublasCheck(cublasGemmBatchedEx(handle, vb.op, va.op, m, n, k, alpha, p + count, types.data,
                                    checked_int(vb.ld, "leading dimension"), p, types.data,
                                    checked_int(va.ld, "leading dimension"), beta, p + 2 * count, types.data, ldc,
                                    checked_int(count, "batch"), types.compute, CUBLAS_GEMM_DEFAULT));
  }
};

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
  const bool f64 = c.dtype() == DType::f64;
  const float alpha32 = float(alpha), beta32 = float(beta);
  const GemmCall call{cublas_,
                      stream_,
                      device_,
                      transposed_view(M, K, a.stride(-2), a.stride(-1)),
                      transposed_view(K, N, b.stride(-2), b.stride(-1)),
                      checked_int(N, "N"),
                      checked_int(M, "M"),
                      checked_int(K, "K"),
                      checked_int(M > 1 ? c.stride(-2) : N, "leading dimension"),
                      f64 ? static_cast<const void*>(&alpha) : &alpha32,
                      f64 ? static_cast<const void*>(&beta) : &beta32,
                      gemm_types(c.dtype(), tf32_),
                      int64_t(dtype_size(c.dtype()))};

  const std::vector<BatchDim> dims = batch_dims(a, b, c);
  // One call takes the last kMaxGemmBatchDims dims; only a batch of more
  // unmergeable dims than that loops on the host over the leading ones.
  const size_t host_dims = dims.size() > size_t(kMaxGemmBatchDims) ? dims.size() - kMaxGemmBatchDims : 0;
  int64_t outer = 1;
  for (size_t d = 0; d < host_dims; ++d) outer *= dims[d].size;
  const char* a_base = static_cast<const char*>(a.raw_data());
  const char* b_base = static_cast<const char*>(b.raw_data());
  char* c_base = static_cast<char*>(c.raw_data());
  for (int64_t item = 0; item < outer; ++item) {
    int64_t off_a = 0, off_b = 0, off_c = 0, rest = item;
    for (size_t d = host_dims; d-- > 0;) {  // host dims, innermost first
      const int64_t index = rest % dims[d].size;
      rest /= dims[d].size;
      off_a += index * dims[d].a;
      off_b += index * dims[d].b;
      off_c += index * dims[d].c;
    }
    const char* a_item = a_base + off_a * call.element;
    const char* b_item = b_base + off_b * call.element;
    char* c_item = c_base + off_c * call.element;
    if (dims.size() - host_dims == 1)
      call.strided(dims.back(), a_item, b_item, c_item);
    else
      call.pointer_array(dims.data() + host_dims, int(dims.size() - host_dims), a_item, b_item, c_item);
  }
}

}  // namespace pf::cuda
