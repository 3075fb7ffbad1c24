// The fused Adam/AdamW step (the formula of core/cpu/optimizer.cpp), one
// thread per parameter element i.
#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

template <typename T>
__global__ void adam_step_kernel(T* param, const T* grad, T* m, T* v, T beta1, T beta2, T step_size, T eps, T keep,
                                 int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  m[i] = beta1 * m[i] + (T(1) - beta1) * grad[i];
  v[i] = beta2 * v[i] + (T(1) - beta2) * grad[i] * grad[i];
  param[i] = param[i] * keep - step_size * m[i] / (sqrt(v[i]) + eps);
}

}  // namespace

void CudaBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double beta1,
                            double beta2, double step_size, double eps, double decay) {
  dispatch_float(param.dtype(), "adam_step", [&]<typename T>() {
    const int64_t n = param.numel();
    launch(stream_, blocks_for(n), adam_step_kernel<T>, param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(),
           T(beta1), T(beta2), T(step_size), T(eps), T(1.0 - decay), n);
  });
}

}  // namespace pf::cuda
