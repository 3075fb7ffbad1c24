// Packing: copying a block of a or b once into the order the micro-kernel
// reads it (unit stride, zero-padded to whole tiles), widened to f32. Any
// strides of a and b, transposed views included, then cost one copy, and the
// edges need no special kernel.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/cpu/sgemm.h"
#include "core/cpu/sgemm/elements.h"
#include "core/cpu/sgemm/isa.h"

namespace pf::cpu::PF_SGEMM_ISA {
namespace {

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

// Element (i, j) of m, as T.
template <typename T>
const T* element(const ConstMatrix& m, int64_t i, int64_t j) {
  return static_cast<const T*>(m.data) + i * m.row_stride + j * m.col_stride;
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

}  // namespace
}  // namespace pf::cpu::PF_SGEMM_ISA
