// Elements in memory (f32, bf16, f16) <-> f32 in registers: how the GEMM
// widens half operands as it packs them and rounds its f32 sums to c's type as
// it stores them. Rounding is to nearest even, bit for bit as core/dtype.h's
// conversions (NaN payloads aside); F16C converts f16 in hardware.
//
// The bf16 conversions are written out here rather than calling core/dtype.h's
// inline ones: an inline function of a shared header, compiled in the AVX-512
// copy of these loops, may be the copy the linker keeps for the whole program,
// and would then run AVX-512 code on an AVX2 CPU. Everything here has internal
// linkage (tests/core/test_sgemm_isa.cpp checks the objects for that).
#pragma once
#include <immintrin.h>

#include <cstring>

#include "core/cpu/sgemm/isa.h"
#include "core/dtype.h"

namespace pf::cpu::PF_SGEMM_ISA {
namespace {

float load_one(float x) { return x; }
float load_one(bf16 x) {  // a bf16 is the top half of an f32
  uint32_t bits = uint32_t(x.bits) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
float load_one(f16 x) { return _cvtsh_ss(x.bits); }

void store_one(float* p, float x) { *p = x; }
void store_one(bf16* p, float x);  // below, with store_vec's lanes
void store_one(f16* p, float x) { p->bits = _cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

// kVecWidth elements from p (unaligned).
Vec load_vec(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 8 elements from p (unaligned) as f32, whatever the target's vector width:
// the transposing packer's loads, and load_vec's half types on AVX2.
__m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__m256 load8(const bf16* p) {
  const __m256i widened = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(widened, 16));
}
__m256 load8(const f16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// kVecWidth bf16 or f16 elements (unaligned), widened to f32 in one register.
// (Assembled 8 at a time through memory, the register was read whole right
// after two half-width stores into it, a store-forwarding stall that held
// packing f16 operands at a fifth of its speed on a Zen 4.)
#if PF_SGEMM_AVX512
Vec load_vec(const bf16* p) {
  const __m512i widened = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return Vec(_mm512_castsi512_ps(_mm512_slli_epi32(widened, 16)));
}
Vec load_vec(const f16* p) { return Vec(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))); }
#else
Vec load_vec(const bf16* p) { return Vec(load8(p)); }
Vec load_vec(const f16* p) { return Vec(load8(p)); }
#endif

// f32 bits -> bf16 bits, to nearest even; a NaN stays a NaN (quiet bit set).
// The same expression serves one value and a register of them.
template <typename U32>
U32 bf16_bits(U32 u) {
  const U32 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded;
}

void store_one(bf16* p, float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  p->bits = uint16_t(bf16_bits(u));
}

void store_vec(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
void store_vec(bf16* p, Vec v) {
  U32Vec u;
  std::memcpy(&u, &v, sizeof u);
  const U16Vec h = __builtin_convertvector(bf16_bits(u), U16Vec);
  std::memcpy(p, &h, sizeof h);
}
void store_vec(f16* p, Vec v) {
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
#if PF_SGEMM_AVX512
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(__m512(v), kRound));
#else
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(__m256(v), kRound));
#endif
}

}  // namespace
}  // namespace pf::cpu::PF_SGEMM_ISA
