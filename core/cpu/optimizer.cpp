// The fused Adam/AdamW step: one pass over a parameter and its moments.
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace pf {

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1,
                           double beta2, double step_size, double eps, double decay) {
  dispatch_float(param.dtype(), "adam_step", [&]<typename T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    const int64_t n = param.numel();
    const T b1 = T(beta1), b2 = T(beta2), step = T(step_size), e = T(eps), keep = T(1.0 - decay);
#pragma omp parallel for simd if (n > 32768)
    for (int64_t i = 0; i < n; ++i) {
      mp[i] = b1 * mp[i] + (T(1) - b1) * g[i];
      vp[i] = b2 * vp[i] + (T(1) - b2) * g[i] * g[i];
      p[i] = p[i] * keep - step * mp[i] / (std::sqrt(vp[i]) + e);
    }
  });
}

}  // namespace pf
