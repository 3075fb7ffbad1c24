// Which compilation of the GEMM loops (core/cpu/sgemm/loop_nest.cpp) runs:
// the widest this CPU has, asked of the CPU once (cpuid, through GCC's
// __builtin_cpu_supports, which also checks that the OS saves the registers).
#include "core/cpu/sgemm.h"

#if PF_HAVE_SGEMM
#include "core/cpu/sgemm/loop_nest.h"
#include "core/error.h"

namespace pf::cpu {

const char* sgemm_isa_name(SgemmIsa isa) {
  switch (isa) {
    case SgemmIsa::avx2: return "avx2";
    case SgemmIsa::avx512: return "avx512";
    case SgemmIsa::none: break;
  }
  return "none";
}

bool cpu_runs(SgemmIsa isa) {
  switch (isa) {
    case SgemmIsa::avx2:  // every CPU with AVX2 and FMA has F16C
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SgemmIsa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && cpu_runs(SgemmIsa::avx2);
    case SgemmIsa::none: return true;
  }
  return false;
}

SgemmIsa sgemm_isa() {
  static const SgemmIsa chosen = cpu_runs(SgemmIsa::avx512) ? SgemmIsa::avx512
                                 : cpu_runs(SgemmIsa::avx2)  ? SgemmIsa::avx2
                                                             : SgemmIsa::none;
  return chosen;
}

namespace {

// The loops of isa, which the CPU runs, after the checks that the loops leave
// to us (they throw nothing of their own: see sgemm/elements.h).
void run(SgemmIsa isa, int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta,
         OutMatrix c, bool parallel) {
  for (DType t : {a.dtype, b.dtype, c.dtype})
    PF_CHECK(t == DType::f32 || t == DType::bf16 || t == DType::f16, "sgemm", "operands must be f32, bf16 or f16, got ",
             t);
  if (isa == SgemmIsa::avx512) return sgemm_avx512::sgemm(M, N, K, alpha, a, b, beta, c, parallel);
  sgemm_avx2::sgemm(M, N, K, alpha, a, b, beta, c, parallel);
}

}  // namespace

void sgemm_with(SgemmIsa isa, int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta,
                OutMatrix c, bool parallel) {
  PF_CHECK(isa != SgemmIsa::none && cpu_runs(isa), "sgemm", "this CPU does not run the ", sgemm_isa_name(isa),
           " GEMM loops");
  run(isa, M, N, K, alpha, a, b, beta, c, parallel);
}

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel) {
  const SgemmIsa isa = sgemm_isa();
  PF_CHECK(isa != SgemmIsa::none, "sgemm", "no GEMM loops for this CPU (it lacks AVX2 + FMA)");
  run(isa, M, N, K, alpha, a, b, beta, c, parallel);
}

SgemmBlocking sgemm_blocking(SgemmIsa isa) {
  PF_CHECK(isa != SgemmIsa::none, "sgemm", "no GEMM loops for this CPU (it lacks AVX2 + FMA)");
  return isa == SgemmIsa::avx512 ? sgemm_avx512::blocking() : sgemm_avx2::blocking();
}

}  // namespace pf::cpu

#endif  // PF_HAVE_SGEMM
