// Our own GEMM with f32 arithmetic for the CPU backend: a BLIS-style packed,
// cache-blocked product with a register-blocked micro-kernel (see sgemm.cpp for
// the loops). Operands and result may be f32, bf16 or f16: the packing widens
// a and b to f32 as it copies them and the micro-kernel rounds its f32 sums to
// c's type as it stores them, so half products need no f32 copies.
// CpuBackend::gemm uses it for f32, and for bf16/f16 unless oneDNN has native
// kernels for them, when the target has AVX2+FMA or AVX-512 (PF_HAVE_SGEMM);
// otherwise, and for f64, Eigen's product.
#pragma once
#include <cstdint>

#include "core/dtype.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define PF_HAVE_SGEMM 1
#else
#define PF_HAVE_SGEMM 0
#endif

namespace pf::cpu {

// A strided matrix of f32, bf16 or f16: element (i, j) sits at data[i *
// row_stride + j * col_stride] (in elements). A row-major matrix has
// col_stride 1, a transposed view row_stride 1.
struct ConstMatrix {
  const void* data;
  int64_t row_stride, col_stride;
  DType dtype = DType::f32;
};

// The result: a row-major matrix of f32, bf16 or f16 with leading dimension ld.
struct OutMatrix {
  void* data;
  int64_t ld;
  DType dtype = DType::f32;
};

// c = alpha * a @ b + beta * c for a [M, K], b [K, N] and c [M, N], summed in
// f32 and rounded once to c's type (to nearest even, as core/dtype.h's
// conversions): a half c equals the f32 product of the same (widened) inputs,
// rounded. beta == 0 overwrites c without reading it (NaNs in c do not leak).
// K == 0 gives c = beta * c. parallel: spread the work over OpenMP's threads
// (false when the caller already runs one product per thread).
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel);

// The micro-kernel's register tile and the cache blocks chosen for this target.
struct SgemmBlocking {
  int mr, nr;          // micro-tile: mr rows x nr columns of c held in registers
  int64_t mc, kc, nc;  // a block [mc, kc] stays in L2, a panel [kc, nc] in L3
};
SgemmBlocking sgemm_blocking();

}  // namespace pf::cpu
