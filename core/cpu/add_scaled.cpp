// out = x + alpha * y in one pass: the residual adds of the model's half-step
// feed-forwards (x + 0.5 * FFN(x)) without a separate scaling pass. This file
// is compiled with -ffp-contract=off (core/CMakeLists.txt), so t = alpha * y
// is rounded before x + t, exactly as ops::mul then ops::add compute it.
#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {

// x, out hold T, y holds TY: T itself, or a half type widened to f32 as it is loaded.
template <typename T, typename TY>
void add_scaled_as(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) {
  using C = compute_t<T>;
  const C s = C(alpha);
  map_broadcast<T, TY>(x, y, out, [s](T a, TY b) {
    const C t = s * load(b);
    return store<T>(load(a) + t);
  });
}

}  // namespace

void CpuBackend::add_scaled(const Tensor& x, const Tensor& y, double alpha, const Tensor& out) {
  if (y.dtype() == DType::bf16 && out.dtype() == DType::f32) return add_scaled_as<float, bf16>(x, y, alpha, out);
  if (y.dtype() == DType::f16 && out.dtype() == DType::f32) return add_scaled_as<float, f16>(x, y, alpha, out);
  dispatch_float_or_half(out.dtype(), "add_scaled", [&]<typename T>() { add_scaled_as<T, T>(x, y, alpha, out); });
}

}  // namespace pf
