// The optimiser's kernels (their CPU twins: core/cpu/optimizer.cpp).
// The fused Adam/AdamW step, one thread per parameter element i, computed in
// A = compute_t<T> (f32 for bf16/f16 storage: load, compute, store).
// The segment kernels over a flat gradient buffer (nn/optim/flat_parameters.h):
// block p owns segment p = x[offsets[p] .. offsets[p + 1]); its threads stride
// over the segment and, for the sum, combine with block_reduce in a fixed
// order, so the result is the same every run. One block per parameter leaves
// the largest parameter to one SM (~1M elements: tens of microseconds),
// against the ~13 launches per parameter it replaces.
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

template <typename T>
__global__ void segment_sum_squares_kernel(const T* x, const int64_t* offsets, double* out) {
  const int64_t begin = offsets[blockIdx.x], end = offsets[blockIdx.x + 1];
  double acc = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const double e = double(to_compute(x[i]));
    acc += e * e;
  }
  acc = block_reduce(acc, Sum<double>{});
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

template <typename T, typename A = compute_t<T>>
__global__ void scale_segments_kernel(T* x, const int64_t* offsets, const double* factor) {
  const int64_t begin = offsets[blockIdx.x], end = offsets[blockIdx.x + 1];
  const A f = A(factor[blockIdx.x]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) x[i] = from_compute<T>(to_compute(x[i]) * f);
}

}  // namespace

void CudaBackend::segment_sum_squares(const Tensor& x, const Tensor& offsets, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), "segment_sum_squares", [&]<typename T>() {
    launch(stream_, out.numel(), segment_sum_squares_kernel<T>, x.data<T>(), offsets.data<int64_t>(),
           out.data<double>());
  });
}

void CudaBackend::scale_segments(const Tensor& x, const Tensor& offsets, const Tensor& factor) {
  dispatch_float_or_half(x.dtype(), "scale_segments", [&]<typename T>() {
    launch(stream_, factor.numel(), scale_segments_kernel<T>, x.data<T>(), offsets.data<int64_t>(),
           factor.data<double>());
  });
}

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
