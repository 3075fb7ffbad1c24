// The two compilations of loop_nest.cpp, one per instruction set, as
// core/cpu/sgemm.cpp sees them. Call one only where cpu_runs() says the CPU
// has its instructions: the AVX-512 one faults (SIGILL) elsewhere.
#pragma once
#include "core/cpu/sgemm.h"

namespace pf::cpu {
namespace sgemm_avx2 {
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel);
SgemmBlocking blocking();
}  // namespace sgemm_avx2
namespace sgemm_avx512 {
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel);
SgemmBlocking blocking();
}  // namespace sgemm_avx512
}  // namespace pf::cpu
