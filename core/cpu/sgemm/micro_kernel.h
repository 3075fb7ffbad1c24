// The micro-kernel: one register tile of c, kMR x kNR, from one packed A~
// sliver and one packed B~ sliver; and the macro-kernel that runs it over every
// tile of a packed block.
#pragma once
#include <algorithm>
#include <cstring>

#include "core/cpu/sgemm/elements.h"
#include "core/cpu/sgemm/isa.h"

namespace pf::cpu::PF_SGEMM_ISA {
namespace {

// Where tiles of c go: out = acc + beta * in (beta == 0 does not read in).
// in and out are c itself, or, for a half c summed over several k-slices, an
// f32 panel that holds the partial sums between the slices (partial_sums.h).
template <typename In, typename Out>
struct TileIO {
  const In* in;
  int64_t ld_in;
  Out* out;
  int64_t ld_out;
  float beta;

  TileIO at(int64_t i, int64_t j) const { return {in + i * ld_in + j, ld_in, out + i * ld_out + j, ld_out, beta}; }
};

// One tile's top-left m x n corner (m <= kMR, n <= kNR) to c.
template <typename In, typename Out>
void write_tile(const Vec (&acc)[kMR][kNV], const TileIO<In, Out>& c, int64_t m, int64_t n) {
  if (m == kMR && n == kNR) {
    for (int i = 0; i < kMR; ++i)
      for (int v = 0; v < kNV; ++v) {
        Vec x = acc[i][v];
        if (c.beta != 0.0f) x += c.beta * load_vec(c.in + i * c.ld_in + v * kVecWidth);
        store_vec(c.out + i * c.ld_out + v * kVecWidth, x);
      }
    return;
  }
  float tile[kMR][kNR];
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) store_vec(&tile[i][v * kVecWidth], acc[i][v]);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float x = tile[i][j];
      if (c.beta != 0.0f) x += c.beta * load_one(c.in[i * c.ld_in + j]);
      store_one(c.out + i * c.ld_out + j, x);
    }
}

// acc = A~ sliver [kc, kMR] @ B~ sliver [kc, kNR]. Per k: kNV vector loads of
// b, kMR broadcasts of a and kMR * kNV fused multiply-adds into accumulators
// that never leave registers. Out of line, so that this one loop serves every
// element type of c: inlined into the kernels of a bf16 or f16 c, GCC spilled
// accumulators to the stack and those products ran about 20 % slower. Four k
// per pass: rolled, the loop ran at about 80 % of the FMA peak on L1-resident
// slivers (Zen 3), unrolled by four at about 90 %.
[[gnu::noinline]] void multiply_slivers(int64_t kc, const float* a, const float* b, Vec (&out)[kMR][kNV]) {
  Vec acc[kMR][kNV] = {};  // local: `out` might alias a or b, which would keep it in memory
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR) {
    Vec bv[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) bv[v] = load_vec(b + v * kVecWidth);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const float ai = a[i];
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  std::memcpy(out, acc, sizeof acc);
}

// The micro-kernel: a kMR x kNR tile of c from one A~ sliver and one B~ sliver.
template <typename In, typename Out>
void micro_kernel(int64_t kc, const float* a, const float* b, const TileIO<In, Out>& c, int64_t m, int64_t n) {
  for (int i = 0; i < kMR; ++i) {  // fetch the c tile while the loop runs: it is read and written last
    __builtin_prefetch(c.out + i * c.ld_out, 1);
    __builtin_prefetch(c.out + i * c.ld_out + kNR - 1, 1);
    if (static_cast<const void*>(c.in) != static_cast<const void*>(c.out) && c.beta != 0.0f) {
      __builtin_prefetch(c.in + i * c.ld_in);  // the f32 partial sums, apart from a half c
      __builtin_prefetch(c.in + i * c.ld_in + kNR - 1);
    }
  }
  Vec acc[kMR][kNV];
  multiply_slivers(kc, a, b, acc);
  write_tile(acc, c, m, n);
}

// c[mc, nc] (+)= A~ @ B~: every tile of one packed block against one packed panel.
template <typename In, typename Out>
void macro_kernel(const float* pa, const float* pb, int64_t mc, int64_t nc, int64_t kc, const TileIO<In, Out>& c) {
  for (int64_t jr = 0; jr < nc; jr += kNR)
    for (int64_t ir = 0; ir < mc; ir += kMR)
      micro_kernel(kc, pa + ir * kc, pb + jr * kc, c.at(ir, jr), std::min<int64_t>(kMR, mc - ir),
                   std::min<int64_t>(kNR, nc - jr));
}

}  // namespace
}  // namespace pf::cpu::PF_SGEMM_ISA
