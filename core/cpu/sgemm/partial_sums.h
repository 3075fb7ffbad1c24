// Where a block's product goes. An f32 c sums its k-slices in c itself, as
// BLIS does. A half c (bf16, f16) summed over more than one k-slice keeps its
// partial sums in an f32 panel between the slices, so that it is rounded once,
// at the end: the first slice adds beta * c into the panel, the middle ones add
// to it, the last one rounds the panel to c.
#pragma once
#include "core/cpu/sgemm/isa.h"
#include "core/cpu/sgemm/micro_kernel.h"

namespace pf::cpu::PF_SGEMM_ISA {
namespace {

// The block's product at (ic, jc) for the k-slice at pc into c [M, N] (ld
// ldc); `partial` [M, ld_partial] (f32) is null for an f32 c or a single slice.
template <typename T>
void block_product(const float* pa, const float* pb, int64_t ic, int64_t jc, int64_t pc, int64_t mc, int64_t nc,
                   int64_t kc, int64_t K, float beta, T* c, int64_t ldc, float* partial, int64_t ld_partial) {
  T* c_block = c + ic * ldc + jc;
  if (partial == nullptr)
    return macro_kernel(pa, pb, mc, nc, kc, TileIO<T, T>{c_block, ldc, c_block, ldc, pc == 0 ? beta : 1.0f});
  float* p_block = partial + ic * ld_partial;
  if (pc == 0)
    macro_kernel(pa, pb, mc, nc, kc, TileIO<T, float>{c_block, ldc, p_block, ld_partial, beta});
  else if (pc + kc < K)
    macro_kernel(pa, pb, mc, nc, kc, TileIO<float, float>{p_block, ld_partial, p_block, ld_partial, 1.0f});
  else
    macro_kernel(pa, pb, mc, nc, kc, TileIO<float, T>{p_block, ld_partial, c_block, ldc, 1.0f});
}

}  // namespace
}  // namespace pf::cpu::PF_SGEMM_ISA
