// The optimiser's kernels. The fused Adam/AdamW step: one pass over a
// parameter and its moments. Any float type (bf16/f16 loaded, updated in f32,
// stored); mixed-precision training keeps f32 master weights and moments, so
// it runs in f32 there. The segment kernels: per-parameter norms and scaling
// over the flat gradient buffer (nn/optim/flat_parameters.h), one segment per
// thread, each summed in order, so the result does not depend on the threads.
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace pf {

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1,
                           double beta2, double step_size, double eps, double decay, const Tensor& skip) {
  if (skip.defined() && *skip.data<double>() != 0.0) return;
  dispatch_float_or_half(param.dtype(), "adam_step", [&]<typename T>() {
    using C = compute_t<T>;
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    const int64_t n = param.numel();
    const C b1 = C(beta1), b2 = C(beta2), step = C(step_size), e = C(eps), keep = C(1.0 - decay);
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) {
      const C gi = load(g[i]);
      const C mi = b1 * load(mp[i]) + (C(1) - b1) * gi;
      const C vi = b2 * load(vp[i]) + (C(1) - b2) * gi * gi;
      mp[i] = store<T>(mi);
      vp[i] = store<T>(vi);
      p[i] = store<T>(load(p[i]) * keep - step * mi / (std::sqrt(vi) + e));
    }
  });
}

void CpuBackend::segment_sum_squares(const Tensor& x, const Tensor& offsets, const Tensor& out) {
  const int64_t* bounds = offsets.data<int64_t>();  // [P + 1]
  double* sums = out.data<double>();                 // [P]
  const int64_t segments = out.numel();
  dispatch_float_or_half(x.dtype(), "segment_sum_squares", [&]<typename T>() {
    const T* values = x.data<T>();
#pragma omp parallel for schedule(dynamic)
    for (int64_t p = 0; p < segments; ++p) {
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = bounds[p]; i < bounds[p + 1]; ++i) {
        const double e = double(load(values[i]));
        acc += e * e;
      }
      sums[p] = acc;
    }
  });
}

void CpuBackend::scale_segments(const Tensor& x, const Tensor& offsets, const Tensor& factor) {
  const int64_t* bounds = offsets.data<int64_t>();  // [P + 1]
  const double* factors = factor.data<double>();     // [P]
  const int64_t segments = factor.numel();
  dispatch_float_or_half(x.dtype(), "scale_segments", [&]<typename T>() {
    using C = compute_t<T>;
    T* values = x.data<T>();
#pragma omp parallel for schedule(dynamic)
    for (int64_t p = 0; p < segments; ++p) {
      const C f = C(factors[p]);
#pragma omp simd
      for (int64_t i = bounds[p]; i < bounds[p + 1]; ++i) values[i] = store<T>(load(values[i]) * f);
    }
  });
}

}  // namespace pf
