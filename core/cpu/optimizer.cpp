// The fused Adam/AdamW step: one pass over a parameter and its moments. Any
// float type (bf16/f16 loaded, updated in f32, stored); mixed-precision
// training keeps f32 master weights and moments, so it runs in f32 there.
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

}  // namespace pf
