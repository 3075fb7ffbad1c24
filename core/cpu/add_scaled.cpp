// out = x + alpha * y in one pass: the residual adds of the model's half-step
// feed-forwards (x + 0.5 * FFN(x)) without a separate scaling pass. This file
// is compiled with -ffp-contract=off (core/CMakeLists.txt), so t = alpha * y
// is rounded before x + t, exactly as ops::mul then ops::add compute it.
#include "core/cpu/cpu_backend.h"

namespace pf {

void CpuBackend::add_scaled(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) {
  dispatch_float_or_half(out.dtype(), "add_scaled", [&]<typename T>() {
    using C = compute_t<T>;
    const C s = C(alpha);
    map_broadcast<T>(x, y, out, [s](T a, T b) {
      const C t = s * load(b);
      return store<T>(load(a) + t);
    });
  });
}

}  // namespace pf
