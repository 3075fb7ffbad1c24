// Our own GEMM with f32 arithmetic for the CPU backend: a BLIS-style packed,
// cache-blocked product with a register-blocked micro-kernel (the loops are in
// core/cpu/sgemm/loop_nest.cpp). Operands and result may be f32, bf16 or f16:
// the packing widens a and b to f32 as it copies them and the micro-kernel
// rounds its f32 sums to c's type as it stores them, so half products need no
// f32 copies. CpuBackend::gemm uses it for f32, and for bf16/f16 unless oneDNN
// has native kernels for them, wherever the CPU has AVX2 + FMA; otherwise, and
// for f64, Eigen's product.
//
// The loops are compiled once per instruction set, AVX2 and AVX-512, whatever
// the build's -march, and the first call picks the widest one this CPU runs
// (as oneDNN and OpenBLAS do). So a portable build (PF_NATIVE=OFF, for
// x86-64-v3) still multiplies with AVX-512 where the CPU has it.
#pragma once
#include <cstdint>

#include "core/dtype.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PF_HAVE_SGEMM 1  // the loops are built (core/CMakeLists.txt); whether the CPU runs one: sgemm_isa()
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

// The instruction sets the loops are compiled for.
enum class SgemmIsa {
  none,    // the CPU has neither: CpuBackend::gemm uses Eigen's product
  avx2,    // AVX2 + FMA + F16C (x86-64-v3): 8 floats a register, 6 x 16 tile
  avx512,  // AVX-512 F/BW/DQ/VL (x86-64-v4): 16 floats a register, 12 x 32 tile
};
const char* sgemm_isa_name(SgemmIsa isa);  // "none", "avx2", "avx512"

// Whether this CPU (and its OS, which must save the wider registers) runs isa.
bool cpu_runs(SgemmIsa isa);

// The widest instruction set this CPU runs, decided once: what sgemm() uses.
SgemmIsa sgemm_isa();

// c = alpha * a @ b + beta * c for a [M, K], b [K, N] and c [M, N], summed in
// f32 and rounded once to c's type (to nearest even, as core/dtype.h's
// conversions): a half c equals the f32 product of the same (widened) inputs,
// rounded. beta == 0 overwrites c without reading it (NaNs in c do not leak).
// K == 0 gives c = beta * c. parallel: spread the work over OpenMP's threads
// (false when the caller already runs one product per thread). Needs
// sgemm_isa() != none.
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel);

// The same with the loops of a given instruction set, which the CPU must run
// (tests and benchmarks compare them).
void sgemm_with(SgemmIsa isa, int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta,
                OutMatrix c, bool parallel);

// The micro-kernel's register tile and the cache blocks of an instruction set's loops.
struct SgemmBlocking {
  int mr, nr;          // micro-tile: mr rows x nr columns of c held in registers
  int64_t mc, kc, nc;  // a block [mc, kc] stays in L2, a panel [kc, nc] in L3
};
SgemmBlocking sgemm_blocking(SgemmIsa isa = sgemm_isa());

}  // namespace pf::cpu
