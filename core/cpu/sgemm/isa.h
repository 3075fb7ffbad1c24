// The instruction set one compilation of the GEMM loops is for, and what
// follows from it: the vector width, the register tile and the cache blocks.
//
// loop_nest.cpp is compiled twice (core/CMakeLists.txt), once with AVX2 + FMA
// + F16C and PF_SGEMM_AVX512=0, once with AVX-512 and PF_SGEMM_AVX512=1. Each
// compilation puts everything it defines in its own namespace (PF_SGEMM_ISA:
// sgemm_avx2 or sgemm_avx512), so that no AVX-512 function can stand in for
// an AVX2 one at link time; core/cpu/sgemm.cpp picks one at run time.
#pragma once
#include <cstdint>

#if !defined(PF_SGEMM_AVX512)
#error "core/cpu/sgemm/ is compiled through core/CMakeLists.txt, which sets PF_SGEMM_AVX512"
#endif

#if PF_SGEMM_AVX512
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__F16C__)
#error "the AVX-512 GEMM loops need -mavx512f -mavx512bw -mf16c (core/CMakeLists.txt)"
#endif
#define PF_SGEMM_ISA sgemm_avx512
#else
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "the AVX2 GEMM loops need -mavx2 -mfma -mf16c (core/CMakeLists.txt)"
#endif
#define PF_SGEMM_ISA sgemm_avx2
#endif

namespace pf::cpu::PF_SGEMM_ISA {

// Tiles and blocks as BLIS picks them for these cores (skx; haswell/zen): a
// B~ sliver (kKC x kNR: 48 / 16 KiB) stays in L1, an A~ block (kMC x kKC:
// 720 / 144 KiB) in L2, the B~ panel (kKC x kNC: 4.5 / 4 MiB) in L3.
#if PF_SGEMM_AVX512
constexpr int kVecWidth = 16;     // floats per zmm register
constexpr int kMR = 12, kNV = 2;  // 24 accumulators + 2 of b + 1 broadcast of 32 registers
constexpr int64_t kMC = 480, kKC = 384, kNC = 3072;
#else
constexpr int kVecWidth = 8;     // floats per ymm register
constexpr int kMR = 6, kNV = 2;  // 12 accumulators + 2 of b + 1 broadcast of 16 registers
constexpr int64_t kMC = 144, kKC = 256, kNC = 4080;
#endif
constexpr int kNR = kNV * kVecWidth;  // the tile's width in floats

// One register of floats, and of the 16- and 32-bit lanes that bf16 rounding uses.
using Vec = float __attribute__((vector_size(kVecWidth * sizeof(float))));
using U16Vec = uint16_t __attribute__((vector_size(kVecWidth * sizeof(uint16_t))));
using U32Vec = uint32_t __attribute__((vector_size(kVecWidth * sizeof(uint32_t))));

}  // namespace pf::cpu::PF_SGEMM_ISA
