// The hardware's fp32 limit, measured: fused multiply-adds on registers only
// (no memory traffic), on every thread at once.
#include "bench/peak.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace {

// Widest vector the target has: 16 floats with AVX-512, 8 with AVX2.
#if defined(__AVX512F__)
constexpr int kWidth = 16;
#else
constexpr int kWidth = 8;
#endif
using Vec = float __attribute__((vector_size(kWidth * sizeof(float))));

// kChains independent FMA chains: enough to cover the FMA latency (4 cycles)
// times the FMA pipes (2) of the cores we run on, few enough to stay in registers.
constexpr int kChains = 12;

// Seconds for `iters` rounds of kChains FMAs on one thread; the sum is
// returned through `sink` so that the compiler cannot drop the loop.
double fma_loop(int64_t iters, float* sink) {
  Vec acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = Vec{} + float(i);
  Vec x = Vec{} + 0.999999f, y = Vec{} + 1e-7f;
  asm volatile("" : "+x"(x), "+x"(y));  // opaque: no constant folding
  const auto start = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * x + y;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Vec total = Vec{};
  for (int i = 0; i < kChains; ++i) total += acc[i];
  *sink = total[0];
  return seconds;
}

}  // namespace

namespace pf::bench {

double measure_fp32_peak_gflops(int threads) {
  const int64_t iters = 20'000'000;  // ~0.1 s per thread at 3 GHz
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {  // best of 3: the machine may be busy
    double slowest = 0;
    float sink = 0;
#pragma omp parallel num_threads(threads) reduction(max : slowest) reduction(+ : sink)
    {
      float s = 0;
      slowest = std::max(slowest, fma_loop(iters, &s));
      sink += s;
    }
    if (sink == 12345.0f) std::puts("");  // keeps `sink` alive
    best = std::max(best, 2.0 * kWidth * kChains * double(iters) * threads / slowest / 1e9);
  }
  return best;
}

}  // namespace pf::bench
