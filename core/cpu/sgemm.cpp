// BLIS-style GEMM in f32 arithmetic: c = alpha * a @ b + beta * c, with a, b
// and c each f32, bf16 or f16.
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
// same copy widens bf16/f16 operands to f32 (a 16-bit shift for bf16, F16C's
// vcvtph2ps for f16), and the micro-kernel's store rounds its f32 sums to c's
// type, so half products cost no more memory passes than f32 ones. The
// micro-kernel is written once with GCC vector extensions; the vector width and
// the tile come from the target: AVX-512 (16 floats, 12 x 32 tile) or AVX2 (8
// floats, 6 x 16 tile, as BLIS's haswell/zen kernels).
#include "core/cpu/sgemm.h"

#if PF_HAVE_SGEMM
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>

#include "core/cpu/host_cache.h"
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
using U16Vec = uint16_t __attribute__((vector_size(kVecWidth * sizeof(uint16_t))));
using U32Vec = uint32_t __attribute__((vector_size(kVecWidth * sizeof(uint32_t))));

// ---- elements in memory (f32, bf16, f16) <-> f32 in registers ----
// Rounding is to nearest even, bit for bit as core/dtype.h's conversions (NaN
// payloads aside); F16C does f16 in hardware where the target has it.

float load_one(float x) { return x; }
float load_one(bf16 x) { return bf16_to_float(x); }
float load_one(f16 x) {
#ifdef __F16C__
  return _cvtsh_ss(x.bits);
#else
  return f16_to_float(x);
#endif
}
void store_one(float* p, float x) { *p = x; }
void store_one(bf16* p, float x) { *p = float_to_bf16(x); }
void store_one(f16* p, float x) {
#ifdef __F16C__
  p->bits = _cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
  *p = float_to_f16(x);
#endif
}

// kVecWidth elements from p (unaligned).
Vec load_vec(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 8 elements from p (unaligned) as f32, whatever the target's vector width:
// the transposing packer's loads, and the pieces of load_vec's half types.
__m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__m256 load8(const bf16* p) {
  const __m256i widened = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(widened, 16));
}
__m256 load8(const f16* p) {
#ifdef __F16C__
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#else
  alignas(32) float x[8];
  for (int i = 0; i < 8; ++i) x[i] = f16_to_float(p[i]);
  return _mm256_load_ps(x);
#endif
}

template <typename Half>
Vec load_vec(const Half* p) {  // bf16 or f16, widened 8 at a time
  Vec v;
  for (int i = 0; i < kVecWidth; i += 8) {
    const __m256 x = load8(p + i);
    std::memcpy(reinterpret_cast<float*>(&v) + i, &x, sizeof x);
  }
  return v;
}

void store_vec(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
void store_vec(bf16* p, Vec v) {  // float_to_bf16 lane by lane
  U32Vec u;
  std::memcpy(&u, &v, sizeof u);
  const U32Vec rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const U32Vec out = (u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded;  // keep NaN a NaN
  const U16Vec h = __builtin_convertvector(out, U16Vec);
  std::memcpy(p, &h, sizeof h);
}
void store_vec(f16* p, Vec v) {
#ifdef __F16C__
  for (int i = 0; i < kVecWidth; i += 8) {
    __m256 x;
    std::memcpy(&x, reinterpret_cast<const float*>(&v) + i, sizeof x);
    const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + i), h);
  }
#else
  for (int i = 0; i < kVecWidth; ++i) p[i] = float_to_f16(v[i]);
#endif
}

// Calls fn.template operator()<T>() with T the element type of an f32, bf16 or f16 matrix.
template <typename Fn>
void with_element_type(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn.template operator()<float>(); return;
    case DType::bf16: fn.template operator()<bf16>(); return;
    case DType::f16: fn.template operator()<f16>(); return;
    default: PF_FAIL("sgemm", "operands must be f32, bf16 or f16, got ", dtype);
  }
}

// Element (i, j) of m, as T.
template <typename T>
const T* element(const ConstMatrix& m, int64_t i, int64_t j) {
  return static_cast<const T*>(m.data) + i * m.row_stride + j * m.col_stride;
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
    PF_CHECK(buf.data != nullptr, "sgemm", "out of host memory for a packing buffer of ", floats, " floats");
    buf.size = floats;
  }
  return buf.data;
}

// ---- packing ----

// dst[k * W + r] = scale * src[r * r_stride + k] for k < 8 and r < Count
// stored rows, from the first `rows` rows (the others are zeros): an 8 x 8
// block turned around in registers. Rows 2i, 2i+1 interleave (unpack), then
// pairs of those (shuffle), then the 128-bit halves (permute): column k of the
// block ends up whole in one register, stored as dst's k-th run of W.
template <int Count, typename T>
void transpose_8x8(const T* src, int64_t r_stride, int64_t rows, float scale, float* dst, int64_t W) {
  __m256 row[8];
  for (int r = 0; r < 8; ++r)
    row[r] = r < rows ? _mm256_mul_ps(_mm256_set1_ps(scale), load8(src + r * r_stride)) : _mm256_setzero_ps();
  __m256 pair[8], quad[8];
  for (int r = 0; r < 8; r += 2) {  // pair[r]: rows r, r+1 interleaved for k 0, 1 | 4, 5; pair[r+1]: k 2, 3 | 6, 7
    pair[r] = _mm256_unpacklo_ps(row[r], row[r + 1]);
    pair[r + 1] = _mm256_unpackhi_ps(row[r], row[r + 1]);
  }
  for (int r = 0; r < 8; r += 4) {  // quad[r + k']: rows r..r+3 of k' | k' + 4, k' = 0..3
    quad[r + 0] = _mm256_shuffle_ps(pair[r], pair[r + 2], 0x44);
    quad[r + 1] = _mm256_shuffle_ps(pair[r], pair[r + 2], 0xee);
    quad[r + 2] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], 0x44);
    quad[r + 3] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], 0xee);
  }
  for (int k = 0; k < 4; ++k) {  // rows 0..3 and 4..7 of k, then of k + 4
    const __m256 low = _mm256_permute2f128_ps(quad[k], quad[4 + k], 0x20);
    const __m256 high = _mm256_permute2f128_ps(quad[k], quad[4 + k], 0x31);
    std::memcpy(dst + k * W, &low, Count * sizeof(float));  // a constant size: no call
    std::memcpy(dst + (k + 4) * W, &high, Count * sizeof(float));
  }
}

// One packed sliver of width W: dst[k * W + r] = scale * src[r * r_stride +
// k * k_stride] (widened to f32) for r < rows, zero for rows <= r < W. k is
// outermost, so the writes go in order. When the sliver's rows sit side by side
// (r_stride 1) each k reads them as whole vectors (if the sliver is full).
// Otherwise the rows are read side by side, `rows` sequential streams that the
// hardware prefetcher follows: 8 rows by 8 values of k at a time, turned around
// in registers, where k is contiguous, else an element at a time. (Packing a
// row at a time along k was 2–4x slower: each short run waited on memory.
// Spreading each row's vector of k to its k with scalar stores held the
// attention scores' product at 45 GFLOP/s on one Zen 3 core, against 55 now.)
template <int W, typename T>
void pack_sliver(const T* src, int64_t r_stride, int64_t k_stride, int64_t rows, int64_t kc, float scale,
                 float* dst) {
  if (rows < W) std::fill(dst, dst + W * kc, 0.0f);
  if (r_stride == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const T* s = src + k * k_stride;
      float* d = dst + k * W;
      if (W % kVecWidth == 0 && rows == W)
        for (int v = 0; v < W / kVecWidth; ++v) store_vec(d + v * kVecWidth, scale * load_vec(s + v * kVecWidth));
      else
        for (int64_t r = 0; r < rows; ++r) d[r] = scale * load_one(s[r]);
    }
  } else {
    int64_t k = 0;
    if (k_stride == 1)  // rows r..r+7 (zeros past `rows`) land in dst's columns r..r+7 (those below W)
      for (; k + 8 <= kc; k += 8)
        for (int r = 0; r < rows; r += 8) {
          const T* block = src + r * r_stride + k;
          if (r + 8 <= W)
            transpose_8x8<8>(block, r_stride, rows - r, scale, dst + k * W + r, W);
          else if constexpr (W % 8 != 0)  // the last W % 8 columns (none where W is a multiple of 8)
            transpose_8x8<W % 8>(block, r_stride, rows - r, scale, dst + k * W + r, W);
        }
    for (; k < kc; ++k)  // the rest, and a strided k, an element at a time
      for (int64_t r = 0; r < rows; ++r) dst[k * W + r] = scale * load_one(src[r * r_stride + k * k_stride]);
  }
}

// Where an operand's sliver rows sit side by side in memory (a row-major b, a
// column-major a) its slivers are packed kPackSteps values of k at a time
// across all the slivers a thread packs: each k's row of the operand is then
// read along its length, and each sliver is written in runs of kPackSteps * W
// floats. (A sliver at a time read a few dozen bytes of each of kc rows, each
// on its own page: the loads waited on memory.)
constexpr int64_t kPackSteps = 16;

// Asks for the cache lines of a sliver whose rows run along k (k_stride 1),
// one sliver before pack_sliver reads it: its rows are runs of 1 KiB far apart,
// too short for the hardware prefetcher, so without this each packed element
// waited on memory (packing took a seventh of a training step).
template <typename T>
void prefetch_rows(const T* src, int64_t r_stride, int64_t rows, int64_t kc) {
  constexpr int64_t kLine = 64 / sizeof(T);  // elements per cache line
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < kc; k += kLine) __builtin_prefetch(src + r * r_stride + k);
}

// Slivers [s0, s1) of width W from the operand whose row r, value k sits at
// origin[r * r_stride + k * k_stride] (r < rows, k < kc): sliver s's element
// (r, k) to dst[s * W * kc + k * W + r - s * W], times scale. Where the rows sit
// side by side, kPackSteps values of k at a time across the slivers; else a
// whole sliver at a time, the next one's rows prefetched where they run along k.
template <int W, typename T>
void pack_slivers(const T* origin, int64_t r_stride, int64_t k_stride, int64_t rows, int64_t kc, int64_t s0,
                  int64_t s1, float scale, float* dst) {
  const bool rows_side_by_side = r_stride == 1;
  const int64_t steps = rows_side_by_side ? kPackSteps : kc;
  for (int64_t k0 = 0; k0 < kc; k0 += steps)
    for (int64_t sliver = s0; sliver < s1; ++sliver) {
      const int64_t r0 = sliver * W;
      if (!rows_side_by_side && k_stride == 1 && r0 + W < rows)
        prefetch_rows(origin + (r0 + W) * r_stride, r_stride, std::min<int64_t>(W, rows - r0 - W), kc);
      pack_sliver<W>(origin + r0 * r_stride + k0 * k_stride, r_stride, k_stride, std::min<int64_t>(W, rows - r0),
                     std::min(steps, kc - k0), scale, dst + r0 * kc + k0 * W);
    }
}

// A~ [mc, kc] from a's block at (ic, pc) -> slivers of kMR rows: alpha * a(r, k) at [k * kMR + r].
template <typename T>
void pack_a(const ConstMatrix& a, int64_t ic, int64_t pc, int64_t mc, int64_t kc, float alpha, float* dst) {
  pack_slivers<kMR>(element<T>(a, ic, pc), a.row_stride, a.col_stride, mc, kc, 0, (mc + kMR - 1) / kMR, alpha, dst);
}

// B~ slivers [s0, s1): b's panel [kc, nc] at (pc, jc) in slivers of kNR columns, b(k, j) at [k * kNR + j].
template <typename T>
void pack_b(const ConstMatrix& b, int64_t pc, int64_t jc, int64_t kc, int64_t nc, int64_t s0, int64_t s1,
            float* dst) {
  pack_slivers<kNR>(element<T>(b, pc, jc), b.col_stride, b.row_stride, nc, kc, s0, s1, 1.0f, dst);
}

// ---- the kernels ----

// Where tiles of c go: out = acc + beta * in (beta == 0 does not read in).
// in and out are c itself, or, for a half c summed over several k-slices, an
// f32 panel that holds the partial sums between the slices.
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

// The block's product at (ic, jc) for the k-slice at pc into c [M, N] (ld
// ldc). A half c with more than one k-slice sums in `partial` [M, ld_partial]
// (f32): the first slice adds beta * c there, the last rounds to c once. An f32
// c (or one slice) sums in c itself, as BLIS does.
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

SgemmBlocking sgemm_blocking() { return {kMR, kNR, kMC, kKC, kNC}; }

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMatrix a, ConstMatrix b, float beta, OutMatrix c,
           bool parallel) {
  for (DType t : {a.dtype, b.dtype})  // checked here: the packing runs inside the threads
    with_element_type(t, []<typename>() {});
  if (M == 0 || N == 0) return;
  with_element_type(c.dtype, [&]<typename T>() {
    T* out = static_cast<T*>(c.data);
    if (K == 0 || alpha == 0.0f) return scale(M, N, beta, out, c.ld);
    sgemm_into(M, N, K, alpha, a, b, beta, out, c.ld, parallel);
  });
}

}  // namespace pf::cpu

#endif  // PF_HAVE_SGEMM
