// Our own fp32 GEMM for the CPU backend: a BLIS-style packed, cache-blocked
// product with a register-blocked micro-kernel (see sgemm.cpp for the loops).
// CpuBackend::gemm uses it for f32 when the target has AVX2+FMA or AVX-512
// (PF_HAVE_SGEMM); otherwise, and for f64, Eigen's product.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define PF_HAVE_SGEMM 1
#else
#define PF_HAVE_SGEMM 0
#endif

namespace pf::cpu {

// A strided matrix: element (i, j) sits at data[i * row_stride + j * col_stride].
// A row-major matrix has col_stride 1, a transposed view row_stride 1.
struct ConstMatrix {
  const float* data;
  int64_t row_stride, col_stride;
};

// c = alpha * a @ b + beta * c for a [M, K], b [K, N] and c [M, N] row-major
// with leading dimension ldc. beta == 0 overwrites c without reading it (NaNs
// in c do not leak). K == 0 gives c = beta * c. parallel: spread the work over
// OpenMP's threads (false when the caller already runs one product per thread).
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, float* c,
           int64_t ldc, bool parallel);

// The micro-kernel's register tile and the cache blocks chosen for this target.
struct SgemmBlocking {
  int mr, nr;          // micro-tile: mr rows x nr columns of c held in registers
  int64_t mc, kc, nc;  // a block [mc, kc] stays in L2, a panel [kc, nc] in L3
};
SgemmBlocking sgemm_blocking();

}  // namespace pf::cpu
