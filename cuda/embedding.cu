// Index kernels: embedding lookup and its scatter-add backward, one-hot.
// A bad index does not read or write out of bounds: the kernel skips it and
// reports it through IndexErrorSink (thrown at the next synchronisation).
#include <type_traits>

#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

// out [N, D] from weight [V, D] and ids [N]; thread i = n * D + d writes
// out[n, d] = weight[ids[n], d].
template <typename T, typename I>
__global__ void embedding_kernel(const T* weight, const I* ids, T* out, int64_t V, int64_t D, int64_t n_elements,
                                 IndexErrorSink errors) {
  const int64_t i = global_index();
  if (i >= n_elements) return;
  const int64_t n = i / D, d = i % D;
  const int64_t id = int64_t(ids[n]);
  if (id < 0 || id >= V) {
    if (d == 0) errors.report(n, id, V);
    out[i] = from_compute<T>(0);
    return;
  }
  out[i] = weight[id * D + d];
}

// dweight [V, D] (zeroed before, in the compute type: f32 for bf16/f16) +=
// dout [N, D] rows scattered to ids [N]; thread i = n * D + d adds dout[n, d]
// into dweight[ids[n], d]. Two ids may hit the same row, hence atomicAdd (the
// order of the additions is not fixed).
template <typename T, typename I>
__global__ void embedding_backward_kernel(const I* ids, const T* dout, compute_t<T>* dweight, int64_t V, int64_t D,
                                          int64_t n_elements, IndexErrorSink errors) {
  const int64_t i = global_index();
  if (i >= n_elements) return;
  const int64_t n = i / D, d = i % D;
  const int64_t id = int64_t(ids[n]);
  if (id < 0 || id >= V) {
    if (d == 0) errors.report(n, id, V);
    return;
  }
  atomicAdd(&dweight[id * D + d], to_compute(dout[i]));
}

// out [N, C] (zeroed before); thread n sets out[n, ids[n]] = 1.
template <typename T, typename I>
__global__ void one_hot_kernel(const I* ids, T* out, int64_t C, int64_t N, IndexErrorSink errors) {
  const int64_t n = global_index();
  if (n >= N) return;
  const int64_t id = int64_t(ids[n]);
  if (id < 0 || id >= C) {
    errors.report(n, id, C);
    return;
  }
  out[n * C + id] = from_compute<T>(1);
}

}  // namespace

void CudaBackend::embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  const int64_t V = weight.size(0), D = weight.size(1);
  dispatch_float_or_half(weight.dtype(), "embedding", [&]<typename T>() {
    dispatch_index(ids.dtype(), "embedding", [&]<typename I>() {
      const int64_t n = out.numel();
      launch(stream_, blocks_for(n), embedding_kernel<T, I>, weight.data<T>(), ids.data<I>(), out.data<T>(), V, D, n,
             IndexErrorSink{index_error_device_, "embedding"});
    });
  });
}

void CudaBackend::embedding_backward(const Tensor& ids, const Tensor& dout, const Tensor& dweight) {
  const int64_t V = dweight.size(0), D = dweight.size(1);
  dispatch_float_or_half(dweight.dtype(), "embedding_backward", [&]<typename T>() {
    // Half types accumulate in an f32 copy (no atomicAdd on our 16-bit types), cast at the end.
    using A = compute_t<T>;
    const Tensor acc = std::is_same_v<A, T> ? dweight : Tensor::empty(dweight.shape(), dtype_of<A>::value, dweight.device());
    dispatch_index(ids.dtype(), "embedding_backward", [&]<typename I>() {
      const int64_t n = dout.numel();
      zero_fill(stream_, acc);
      launch(stream_, blocks_for(n), embedding_backward_kernel<T, I>, ids.data<I>(), dout.data<T>(), acc.data<A>(), V, D,
             n, IndexErrorSink{index_error_device_, "embedding_backward"});
    });
    if (!acc.is_same(dweight)) copy(acc, dweight);
  });
}

void CudaBackend::one_hot(const Tensor& ids, const Tensor& out) {
  const int64_t C = out.size(-1), N = ids.numel();
  dispatch_float_or_half(out.dtype(), "one_hot", [&]<typename T>() {
    dispatch_index(ids.dtype(), "one_hot", [&]<typename I>() {
      zero_fill(stream_, out);
      launch(stream_, blocks_for(N), one_hot_kernel<T, I>, ids.data<I>(), out.data<T>(), C, N,
             IndexErrorSink{index_error_device_, "one_hot"});
    });
  });
}

}  // namespace pf::cuda
