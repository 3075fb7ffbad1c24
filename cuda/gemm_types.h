// What cuda/gemm.cpp (cuBLAS) and cuda/linear.cpp (cuBLASLt) share: how a
// row-major operand is read column-major, the cuBLAS types of a dtype, and
// the check that a size fits cuBLAS's int.
//
// cuBLAS is column-major, and a row-major [M, N] matrix is the column-major
// [N, M] matrix C^T. So both ask cuBLAS for C^T = B^T A^T: m = N, n = M,
// cuBLAS's first operand is b and its second is a.
#pragma once
#include <cublas_v2.h>

#include <cstdint>

#include "core/dtype.h"

namespace pf::cuda {

// How cuBLAS reads X^T for the [rows, cols] matrix X whose element (i, j) sits
// at i * row_stride + j * col_stride (one of the strides is 1). An operand
// stored row-major is, read column-major, already its own transpose (op N);
// one stored column-major (a transposed view) is read as is and transposed by
// cuBLAS (op T). The test for row-major is core/cpu/gemm.cpp's.
struct TransposedView {
  cublasOperation_t op;
  int64_t ld;  // leading dimension of the column-major matrix in memory
};
TransposedView transposed_view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride);

// The cuBLAS types for a dtype; alpha and beta are passed in the compute type
// (f64 for f64, else f32).
struct GemmTypes {
  cudaDataType data;
  cublasComputeType_t compute;
};
GemmTypes gemm_types(DType dtype, bool tf32);

// v as an int, or pf::Error naming `what` when it exceeds cuBLAS's int range.
int checked_int(int64_t v, const char* what);

}  // namespace pf::cuda
