// BLIS-style fp32 GEMM: c = alpha * a @ b + beta * c.
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
// Packing copies each block once into the order the micro-kernel reads it
// (unit stride, zero-padded to whole tiles), so any strides of a and b, including
// transposed views, cost one copy and the edges need no special kernel. The
// micro-kernel is written once with GCC vector extensions; the vector width and
// the tile come from the target: AVX-512 (16 floats, 12 x 32 tile) or AVX2 (8
// floats, 6 x 16 tile, as BLIS's haswell/zen kernels).
#include "core/cpu/sgemm.h"

#if PF_HAVE_SGEMM
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace pf::cpu {

namespace {

// Tiles and blocks as BLIS picks them for these cores (skx; haswell/zen): a
// B~ sliver (kKC x kNR: 48 / 16 KiB) stays in L1, an A~ block (kMC x kKC:
// 720 / 144 KiB) in L2, the B~ panel (kKC x kNC: 4.5 / 4 MiB) in L3.
#if defined(__AVX512F__)
constexpr int kVecWidth = 16;  // floats per zmm register
constexpr int kMR = 12, kNV = 2;  // 24 accumulators + 2 of b + 1 broadcast of 32 registers
constexpr int64_t kMC = 480, kKC = 384, kNC = 3072;
#else
constexpr int kVecWidth = 8;  // floats per ymm register
constexpr int kMR = 6, kNV = 2;  // 12 accumulators + 2 of b + 1 broadcast of 16 registers
constexpr int64_t kMC = 144, kKC = 256, kNC = 4080;
#endif
constexpr int kNR = kNV * kVecWidth;

using Vec = float __attribute__((vector_size(kVecWidth * sizeof(float))));

Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

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
    PF_CHECK(buf.data != nullptr, "sgemm", "out of host memory for a packing buffer of ", floats, " floats");
    buf.size = floats;
  }
  return buf.data;
}

// One packed sliver of width W: dst[k * W + r] = scale * src[r * r_stride +
// k * k_stride] for r < rows, zero for rows <= r < W. The loop order follows
// memory: k outermost when the sliver's rows sit side by side (r_stride 1),
// otherwise each row along k (its writes, W floats apart, stay in L1).
template <int W>
void pack_sliver(const float* src, int64_t r_stride, int64_t k_stride, int64_t rows, int64_t kc, float scale,
                 float* dst) {
  if (rows < W) std::fill(dst, dst + W * kc, 0.0f);
  if (r_stride == 1) {
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t r = 0; r < rows; ++r) dst[k * W + r] = scale * src[k * k_stride + r];
  } else {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < kc; ++k) dst[k * W + r] = scale * src[r * r_stride + k * k_stride];
  }
}

// A~ [mc, kc] -> slivers of kMR rows: alpha * a(r, k) at [k * kMR + r].
void pack_a(const float* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float alpha, float* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR, dst += kMR * kc)
    pack_sliver<kMR>(a + i0 * rs, rs, cs, std::min<int64_t>(kMR, mc - i0), kc, alpha, dst);
}

// Sliver `sliver` of B~ (b [kc, nc] in slivers of kNR columns): b(k, j) at [k * kNR + j].
void pack_b(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, int64_t sliver, float* dst) {
  const int64_t j0 = sliver * kNR;
  pack_sliver<kNR>(b + j0 * cs, cs, rs, std::min<int64_t>(kNR, nc - j0), kc, 1.0f, dst + j0 * kc);
}

// c[m, n] = acc + beta * c for the top-left m x n corner of one tile (m <= kMR,
// n <= kNR); beta == 0 does not read c.
void write_tile(const Vec (&acc)[kMR][kNV], float* c, int64_t ldc, int64_t m, int64_t n, float beta) {
  if (m == kMR && n == kNR) {
    for (int i = 0; i < kMR; ++i)
      for (int v = 0; v < kNV; ++v) {
        float* p = c + i * ldc + v * kVecWidth;
        store(p, beta == 0.0f ? acc[i][v] : acc[i][v] + beta * load(p));
      }
    return;
  }
  float tile[kMR][kNR];
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) store(&tile[i][v * kVecWidth], acc[i][v]);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float& out = c[i * ldc + j];
      out = beta == 0.0f ? tile[i][j] : tile[i][j] + beta * out;
    }
}

// The micro-kernel: a kMR x kNR tile of c from one A~ sliver [kc, kMR] and one
// B~ sliver [kc, kNR]. Per k: kNV vector loads of b, kMR broadcasts of a and
// kMR * kNV fused multiply-adds into accumulators that never leave registers.
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                  float beta) {
  for (int i = 0; i < kMR; ++i) {  // fetch the c tile while the loop runs: it is written last
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + kNR - 1, 1);
  }
  Vec acc[kMR][kNV] = {};
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR) {
    Vec bv[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) bv[v] = load(b + v * kVecWidth);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const float ai = a[i];
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  write_tile(acc, c, ldc, m, n, beta);
}

// c[mc, nc] (+)= A~ @ B~: every tile of one packed block against one packed panel.
void macro_kernel(const float* pa, const float* pb, int64_t mc, int64_t nc, int64_t kc, float* c, int64_t ldc,
                  float beta) {
  for (int64_t jr = 0; jr < nc; jr += kNR)
    for (int64_t ir = 0; ir < mc; ir += kMR)
      micro_kernel(kc, pa + ir * kc, pb + jr * kc, c + ir * ldc + jr, ldc, std::min<int64_t>(kMR, mc - ir),
                   std::min<int64_t>(kNR, nc - jr), beta);
}

// c = beta * c (for K == 0 or alpha == 0, where no product is added).
void scale(int64_t M, int64_t N, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

}  // namespace

SgemmBlocking sgemm_blocking() { return {kMR, kNR, kMC, kKC, kNC}; }

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, float* c,
           int64_t ldc, bool parallel) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.0f) return scale(M, N, beta, c, ldc);
  const int threads = parallel ? omp_get_max_threads() : 1;
  // M is cut into a multiple of `threads` blocks of (nearly) equal height, each
  // at most kMC rows, so that no thread waits for a longer last block.
  int64_t blocks = (M + kMC - 1) / kMC;
  blocks = round_up(blocks, std::min<int64_t>(threads, (M + kMR - 1) / kMR));
  const int64_t mc_max = round_up((M + blocks - 1) / blocks, kMR);
  blocks = (M + mc_max - 1) / mc_max;
  const int64_t kc_max = std::min(K, kKC), nc_max = std::min(N, kNC);
  float* packed_b = scratch(0, kc_max * round_up(nc_max, kNR));  // B~, the calling thread's, shared

#pragma omp parallel num_threads(threads) if (threads > 1)  // one thread: no team to start
  {
    float* packed_a = scratch(1, mc_max * kc_max);  // A~, one per thread
    for (int64_t jc = 0; jc < N; jc += kNC) {
      const int64_t nc = std::min(kNC, N - jc);
      for (int64_t pc = 0; pc < K; pc += kKC) {
        const int64_t kc = std::min(kKC, K - pc);
        const float beta_here = pc == 0 ? beta : 1.0f;  // later k-slices accumulate
#pragma omp for schedule(static)
        for (int64_t sliver = 0; sliver < (nc + kNR - 1) / kNR; ++sliver)
          pack_b(b.data + pc * b.row_stride + jc * b.col_stride, b.row_stride, b.col_stride, kc, nc, sliver,
                 packed_b);
        // (the loop's implicit barrier: B~ is complete before anyone reads it)
#pragma omp for schedule(static)
        for (int64_t block = 0; block < blocks; ++block) {
          const int64_t ic = block * mc_max, mc = std::min(mc_max, M - ic);
          pack_a(a.data + ic * a.row_stride + pc * a.col_stride, a.row_stride, a.col_stride, mc, kc, alpha,
                 packed_a);
          macro_kernel(packed_a, packed_b, mc, nc, kc, c + ic * ldc + jc, ldc, beta_here);
        }
        // (and here: everyone is done with B~ before it is packed again)
      }
    }
  }
}

}  // namespace pf::cpu

#endif  // PF_HAVE_SGEMM
