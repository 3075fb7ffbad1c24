// Reductions over the middle dim of a [outer, n, inner] layout: any contiguous
// run of dims can be reduced this way without moving data.
#include <algorithm>
#include <limits>

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {

// out[o, i] = reduce_{k < n} x[o, k, i], accumulating in double for sums of
// many f32 values. The loop over k is outside the loop over i so that both
// layouts ([rows, n] -> [rows] and [n, cols] -> [cols]) read memory in order;
// threads split the (o, i-block) pairs.
template <typename T, typename Combine>
void reduce_middle(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, double init, Combine combine) {
  const int64_t block = 256;
  const int64_t blocks_per_outer = (inner + block - 1) / block;
#pragma omp parallel for if (outer * n * inner > kParallelThreshold)
  for (int64_t task = 0; task < outer * blocks_per_outer; ++task) {
    const int64_t o = task / blocks_per_outer;
    const int64_t i0 = (task % blocks_per_outer) * block;
    const int64_t len = std::min(block, inner - i0);
    double acc[block];
    for (int64_t i = 0; i < len; ++i) acc[i] = init;
    for (int64_t k = 0; k < n; ++k) {
      const T* row = x + (o * n + k) * inner + i0;
      for (int64_t i = 0; i < len; ++i) acc[i] = combine(acc[i], double(load(row[i])));
    }
    for (int64_t i = 0; i < len; ++i) out[o * inner + i0 + i] = store<T>(compute_t<T>(acc[i]));
  }
}

}  // namespace

void CpuBackend::sum(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), "sum", [&]<typename T>() {
    reduce_middle(x.data<T>(), outer, n, inner, out.data<T>(), 0.0, [](double a, double v) { return a + v; });
  });
}

void CpuBackend::max(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), "max", [&]<typename T>() {
    reduce_middle(x.data<T>(), outer, n, inner, out.data<T>(), -std::numeric_limits<double>::infinity(),
                  [](double a, double v) { return v > a ? v : a; });
  });
}

}  // namespace pf
