// Index kernels: embedding lookup and its backward (a segment sum over ids
// sorted with cub, deterministic), one-hot.
// A bad index does not read or write out of bounds: the kernel skips it and
// reports it through IndexErrorSink (thrown at the next synchronisation).
#include <cub/device/device_radix_sort.cuh>

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

// rows [N] = 0, 1, ..., N - 1: the values that sort along with the ids.
__global__ void iota_kernel(int32_t* rows, int64_t N) {
  const int64_t n = global_index();
  if (n < N) rows[n] = int32_t(n);
}

// dweight [V, D] (zeroed before) = the rows of dout [N, D] summed by id, each
// element of dweight by one thread, with no atomics: sorted_ids [N] and
// rows [N] are ids and 0..N-1 sorted by id, stably, so the rows of one id
// form a segment in increasing n. Thread i = k * D + d, where k starts a
// segment, sums column d of the segment's rows in that order: the CPU's order
// (core/cpu/embedding.cpp), hence its bits, every run.
template <typename T, typename I>
__global__ void embedding_backward_kernel(const I* sorted_ids, const int32_t* rows, const T* dout, T* dweight,
                                          int64_t V, int64_t N, int64_t D, IndexErrorSink errors) {
  const int64_t i = global_index();
  if (i >= N * D) return;
  const int64_t k = i / D, d = i % D;
  const int64_t id = int64_t(sorted_ids[k]);
  if (k > 0 && int64_t(sorted_ids[k - 1]) == id) return;  // inside a segment: its first thread sums it
  if (id < 0 || id >= V) {
    if (d == 0) errors.report(rows[k], id, V);
    return;
  }
  compute_t<T> sum = 0;
  for (int64_t j = k; j < N && int64_t(sorted_ids[j]) == id; ++j) sum += to_compute(dout[int64_t(rows[j]) * D + d]);
  dweight[id * D + d] = from_compute<T>(sum);
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
  const int64_t V = dweight.size(0), D = dweight.size(1), N = ids.numel();
  PF_CHECK(N <= INT32_MAX, "embedding_backward", N, " ids, more than the sort's int32 row numbers hold");
  zero_fill(stream_, dweight);  // rows no id hits
  if (N == 0) return;
  dispatch_index(ids.dtype(), "embedding_backward", [&]<typename I>() {
    // A stable radix sort of (id, n) pairs: the rows of each id, in increasing n.
    const Tensor rows = Tensor::empty({N}, DType::i32, dweight.device());         // [N]
    const Tensor sorted_rows = Tensor::empty({N}, DType::i32, dweight.device());  // [N]
    const Tensor sorted_ids = Tensor::empty({N}, ids.dtype(), dweight.device());  // [N]
    launch(stream_, blocks_for(N), iota_kernel, rows.data<int32_t>(), N);
    size_t scratch_bytes = 0;
    cudaCheck(cub::DeviceRadixSort::SortPairs(nullptr, scratch_bytes, ids.data<I>(), sorted_ids.data<I>(),
                                              rows.data<int32_t>(), sorted_rows.data<int32_t>(), int(N), 0,
                                              int(sizeof(I) * 8), stream_));
    const Tensor scratch = Tensor::empty({int64_t(scratch_bytes)}, DType::u8, dweight.device());
    cudaCheck(cub::DeviceRadixSort::SortPairs(scratch.raw_data(), scratch_bytes, ids.data<I>(), sorted_ids.data<I>(),
                                              rows.data<int32_t>(), sorted_rows.data<int32_t>(), int(N), 0,
                                              int(sizeof(I) * 8), stream_));
    dispatch_float_or_half(dweight.dtype(), "embedding_backward", [&]<typename T>() {
      launch(stream_, blocks_for(N * D), embedding_backward_kernel<T, I>, sorted_ids.data<I>(),
             sorted_rows.data<int32_t>(), dout.data<T>(), dweight.data<T>(), V, N, D,
             IndexErrorSink{index_error_device_, "embedding_backward"});
    });
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
