// The fused Adam/AdamW step (the formula of core/cpu/optimizer.cpp), one
// thread per parameter element i, computed in A = compute_t<T> (f32 for
// bf16/f16 storage: load, compute, store).
#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

template <typename T, typename A = compute_t<T>>
__global__ void adam_step_kernel(T* param, const T* grad, T* m, T* v, A beta1, A beta2, A step_size, A eps, A keep,
                                 const double* skip, int64_t n) {
  const int64_t i = global_index();
  if (i >= n || (skip != nullptr && *skip != 0.0)) return;
  const A g = to_compute(grad[i]);
  const A m_new = beta1 * to_compute(m[i]) + (A(1) - beta1) * g;
  const A v_new = beta2 * to_compute(v[i]) + (A(1) - beta2) * g * g;
  m[i] = from_compute<T>(m_new);
  v[i] = from_compute<T>(v_new);
  param[i] = from_compute<T>(to_compute(param[i]) * keep - step_size * m_new / (sqrt(v_new) + eps));
}

}  // namespace

void CudaBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1,
                            double beta2, double step_size, double eps, double decay, const Tensor& skip) {
  dispatch_float_or_half(param.dtype(), "adam_step", [&]<typename T>() {
    using A = compute_t<T>;
    const int64_t n = param.numel();
    launch(stream_, blocks_for(n), adam_step_kernel<T>, param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(),
           A(beta1), A(beta2), A(step_size), A(eps), A(1.0 - decay),
           skip.defined() ? skip.data<double>() : nullptr, n);
  });
}

}  // namespace pf::cuda
