// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): a counter-based generator. Value i of a random fill depends only on
// (seed, counter), never on which thread computes it, so the CPU and CUDA
// backends and any thread count give the same numbers.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/host_device.h"

namespace pf {

struct Philox4 {
  uint32_t v[4];
};

PF_HOST_DEVICE inline uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(p >> 32);
  return uint32_t(p);
}

// Four 32-bit random words for block `counter` of stream `seed`.
PF_HOST_DEVICE inline Philox4 philox4x32(uint64_t seed, uint64_t counter) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo32(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo32(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Uniform float in [0, 1) with 24 random bits.
PF_HOST_DEVICE inline float uint_to_unit_float(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

// Element `index` of the uniform [0, 1) stream (seed, offset): word index % 4 of
// block offset + index / 4.
PF_HOST_DEVICE inline float philox_uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  Philox4 r = philox4x32(seed, offset + index / 4);
  return uint_to_unit_float(r.v[index % 4]);
}

// Element `index` of the standard normal stream (seed, offset): Box-Muller on
// the words of block offset + index / 2 (two normals per pair of words).
PF_HOST_DEVICE inline float philox_normal(uint64_t seed, uint64_t offset, uint64_t index) {
  Philox4 r = philox4x32(seed, offset + index / 2);
  uint32_t pair = uint32_t(index % 2) * 2;
  float u1 = (float(r.v[pair] >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]: log is finite
  float u2 = uint_to_unit_float(r.v[pair + 1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
}

// lo + (hi - lo) u and mean + std z as one fused multiply-add each: fma rounds
// once on every device, so a fill does not depend on whether a compiler
// contracts a * b + c on its own (nvcc does by default, a host compiler may
// or may not), and the CPU and CUDA fills stay bit-identical.
PF_HOST_DEVICE inline double uniform_between(double lo, double hi, float u) { return fma(hi - lo, double(u), lo); }
PF_HOST_DEVICE inline double normal_with(double mean, double std, float z) { return fma(std, double(z), mean); }

// A seeded stream that hands out disjoint counter ranges: each random fill of n
// elements calls next_offset(n) and uses counters [offset, offset + n) (in
// blocks), so consecutive fills never overlap and a run is reproducible from
// (seed, offset) alone, which is what checkpoints store.
//
// Data parallel: with `rows` set, this process computes rows [begin, begin +
// count) of a batch of `batch` rows (its share of a global batch, see
// proformer/training/train_step.h). A uniform fill (dropout) of numel elements then
// stands for the whole batch's fill of numel / count elements per row: it
// advances offset as that fill would and returns the counter at which these
// rows start in it, so the values do not depend on how the batch is split.
struct Generator {
  struct Rows {
    uint64_t begin = 0, count = 0, batch = 0;  // count 0: plain fills
  };
  uint64_t seed = 0;
  uint64_t offset = 0;
  Rows rows;
  explicit Generator(uint64_t seed_ = 0, uint64_t offset_ = 0) : seed(seed_), offset(offset_) {}
  uint64_t next_offset(uint64_t numel) {
    uint64_t start = offset, skip = 0;
    if (rows.count > 0) {
      const uint64_t per_row = numel / rows.count;
      skip = rows.begin * per_row;  // elements of the batch's fill before these rows
      PF_CHECK(per_row * rows.count == numel && skip % 4 == 0, "Generator", "a fill of ", numel,
               " elements for rows ", rows.begin, "..", rows.begin + rows.count, " of ", rows.batch,
               " (expected whole rows starting on a Philox block of 4 values)");
      numel = per_row * rows.batch;
    }
    offset += numel;  // one block per element is wasteful but simple and always enough
    return start + skip / 4;  // element i of the fill is element skip + i of the batch's
  }
  // Host-side draws (data pipeline, initialisers that run on the CPU).
  float uniform() { return philox_uniform(seed, next_offset(1), 0); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) {
    Philox4 r = philox4x32(seed, next_offset(1));
    uint64_t x = (uint64_t(r.v[0]) << 32) | r.v[1];
    return x % n;
  }
};

}  // namespace pf
