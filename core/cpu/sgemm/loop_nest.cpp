// BLIS-style GEMM in f32 arithmetic: c = alpha * a @ b + beta * c, with a, b
// and c each f32, bf16 or f16. This file is the loop nest; beside it are what
// each loop calls:
//
//   isa.h            the vector width, register tile and cache blocks of this compilation
//   elements.h       f32/bf16/f16 in memory <-> f32 in registers (widening, rounding)
//   packing.h        copying blocks of a and b into slivers (and prefetching them)
//   micro_kernel.h   one register tile of c; the macro-kernel over a block's tiles
//   partial_sums.h   where a block's product goes (an f32 panel for a half c)
//
// The product is cut so that each level of the memory hierarchy holds what the
// level below it re-reads (Goto & van de Geijn, "Anatomy of high-performance
// matrix multiplication", 2008; the BLIS loop names):
//
//   for jc over N by NC:                       c columns [jc, jc + nc)
//     for pc over K by KC:                       the k-slice [pc, pc + kc)
//       pack b[pc.., jc..]  -> B~ [kc, nc]        in NR-wide slivers, shared, in L3
//       for ic over M by MC (threads):
//         pack alpha * a[ic.., pc..] -> A~ [mc, kc] in MR-tall slivers, per thread, in L2
//         for jr over nc by NR:                   one B~ sliver [kc, NR] stays in L1
//           for ir over mc by MR:
//             micro-kernel: c[MR, NR] (+)= A~ sliver @ B~ sliver, all in registers
//
// The micro-kernel is written once with GCC vector extensions. This file is
// compiled once per instruction set (AVX2: 8 floats, 6 x 16 tile, as BLIS's
// haswell/zen kernels; AVX-512: 16 floats, 12 x 32 tile, as skx), and
// core/cpu/sgemm.cpp calls the one the CPU runs. tests/core/test_sgemm.cpp
// checks each one that the CPU runs against a product in f64.
#include "core/cpu/sgemm/loop_nest.h"

#include <omp.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

#include "core/cpu/host_cache.h"
#include "core/cpu/sgemm/elements.h"
#include "core/cpu/sgemm/isa.h"
#include "core/cpu/sgemm/packing.h"
#include "core/cpu/sgemm/partial_sums.h"

namespace pf::cpu::PF_SGEMM_ISA {
namespace {

// Calls fn.template operator()<T>() with T the element type of an f32, bf16 or
// f16 matrix (core/cpu/sgemm.cpp has checked that it is one of them: an error
// thrown from here would compile pf::Error's inline code with this file's
// instructions, see elements.h).
template <typename Fn>
void with_element_type(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn.template operator()<float>(); return;
    case DType::bf16: fn.template operator()<bf16>(); return;
    case DType::f16: fn.template operator()<f16>(); return;
    default: std::abort();
  }
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// One 64-byte aligned scratch buffer per thread and slot that only grows, so
// packing allocates nothing once the largest product has run.
float* scratch(int slot, int64_t floats) {
  struct Buffer {
    float* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffers[2];
  Buffer& buf = buffers[slot];
  if (buf.size < floats) {
    std::free(buf.data);
    buf.data = static_cast<float*>(std::aligned_alloc(64, size_t(round_up(floats * 4, 64))));
    if (buf.data == nullptr) throw std::bad_alloc();
    buf.size = floats;
  }
  return buf.data;
}

// c = beta * c (for K == 0 or alpha == 0, where no product is added).
template <typename T>
void scale(int64_t M, int64_t N, float beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T* p = c + i * ldc + j;
      store_one(p, beta == 0.0f ? 0.0f : beta * load_one(*p));
    }
}

// sgemm() for c of element type T, K > 0.
template <typename T>
void sgemm_into(int64_t M, int64_t N, int64_t K, float alpha, const ConstMatrix& a, const ConstMatrix& b, float beta,
                T* c, int64_t ldc, bool parallel) {
  const int threads = parallel ? omp_get_max_threads() : 1;
  // M is cut into a multiple of `threads` blocks of (nearly) equal height, each
  // at most kMC rows, so that no thread waits for a longer last block.
  int64_t blocks = (M + kMC - 1) / kMC;
  blocks = round_up(blocks, std::min<int64_t>(threads, (M + kMR - 1) / kMR));
  const int64_t mc_max = round_up((M + blocks - 1) / blocks, kMR);
  blocks = (M + mc_max - 1) / mc_max;
  const int64_t kc_max = std::min(K, kKC), nc_max = std::min(N, kNC);
  float* packed_b = scratch(0, kc_max * round_up(nc_max, kNR));  // B~, the calling thread's, shared
  // [M, nc_max] f32 partial sums of a half c over several k-slices, from the caching allocator.
  std::unique_ptr<void, void (*)(void*)> partial(nullptr, host_cache_free);
  if (!std::is_same_v<T, float> && K > kKC) partial.reset(host_cache_allocate(size_t(M * nc_max) * sizeof(float)));

#pragma omp parallel num_threads(threads) if (threads > 1)  // one thread: no team to start
  {
    float* packed_a = scratch(1, mc_max * kc_max);  // A~, one per thread
    for (int64_t jc = 0; jc < N; jc += kNC) {
      const int64_t nc = std::min(kNC, N - jc);
      for (int64_t pc = 0; pc < K; pc += kKC) {
        const int64_t kc = std::min(kKC, K - pc);
        {  // each thread packs an equal share of B~'s slivers
          const int64_t slivers = (nc + kNR - 1) / kNR, t = omp_get_thread_num(), nt = omp_get_num_threads();
          with_element_type(b.dtype, [&]<typename TB>() {
            pack_b<TB>(b, pc, jc, kc, nc, slivers * t / nt, slivers * (t + 1) / nt, packed_b);
          });
        }
#pragma omp barrier  // B~ is complete before anyone reads it
#pragma omp for schedule(static)
        for (int64_t block = 0; block < blocks; ++block) {
          const int64_t ic = block * mc_max, mc = std::min(mc_max, M - ic);
          with_element_type(a.dtype, [&]<typename TA>() { pack_a<TA>(a, ic, pc, mc, kc, alpha, packed_a); });
          block_product(packed_a, packed_b, ic, jc, pc, mc, nc, kc, K, beta, c, ldc,
                        static_cast<float*>(partial.get()), nc_max);
        }
        // (and here: everyone is done with B~ before it is packed again)
      }
    }
  }
}

}  // namespace

SgemmBlocking blocking() { return {kMR, kNR, kMC, kKC, kNC}; }

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel) {
  if (M == 0 || N == 0) return;
  with_element_type(c.dtype, [&]<typename T>() {
    T* out = static_cast<T*>(c.data);
    if (K == 0 || alpha == 0.0f) return scale(M, N, beta, out, c.ld);
    sgemm_into(M, N, K, alpha, a, b, beta, out, c.ld, parallel);
  });
}

}  // namespace pf::cpu::PF_SGEMM_ISA
