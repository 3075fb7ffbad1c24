// Index kernels: embedding lookup and its scatter-add backward, one-hot.
#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace pf {

void CpuBackend::embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  const int64_t V = weight.size(0), D = weight.size(1), N = ids.numel();
  dispatch_float_or_half(weight.dtype(), "embedding", [&]<typename T>() {  // a gather: any float type
    dispatch_index(ids.dtype(), "embedding", [&]<typename I>() {
      const T* wp = weight.data<T>();
      const I* ip = ids.data<I>();
      T* op = out.data<T>();
      check_ids(ip, N, V, "embedding");
      for (int64_t n = 0; n < N; ++n) std::copy(wp + int64_t(ip[n]) * D, wp + (int64_t(ip[n]) + 1) * D, op + n * D);
    });
  });
}

void CpuBackend::embedding_backward(const Tensor& ids, const Tensor& dout, const Tensor& dweight) {
  const int64_t V = dweight.size(0), D = dweight.size(1), N = ids.numel();
  dispatch_float_or_half(dweight.dtype(), "embedding_backward", [&]<typename T>() {
    dispatch_index(ids.dtype(), "embedding_backward", [&]<typename I>() {
      using C = compute_t<T>;
      const I* ip = ids.data<I>();
      const T* gp = dout.data<T>();
      check_ids(ip, N, V, "embedding_backward");
      // Summed in C; for half types the [V, D] sums are rounded once at the end.
      std::vector<C> sums(size_t(dweight.numel()), C(0));
      for (int64_t n = 0; n < N; ++n) {  // serial: two ids may hit the same row
        C* row = sums.data() + int64_t(ip[n]) * D;
        for (int64_t d = 0; d < D; ++d) row[d] += load(gp[n * D + d]);
      }
      T* dp = dweight.data<T>();
      for (size_t i = 0; i < sums.size(); ++i) dp[i] = store<T>(sums[i]);
    });
  });
}

void CpuBackend::one_hot(const Tensor& ids, const Tensor& out) {
  const int64_t C = out.size(-1), N = ids.numel();
  dispatch_float_or_half(out.dtype(), "one_hot", [&]<typename T>() {
    dispatch_index(ids.dtype(), "one_hot", [&]<typename I>() {
      const I* ip = ids.data<I>();
      T* op = out.data<T>();
      check_ids(ip, N, C, "one_hot");
      std::fill(op, op + out.numel(), store<T>(0));
      for (int64_t n = 0; n < N; ++n) op[n * C + int64_t(ip[n])] = store<T>(1);
    });
  });
}

}  // namespace pf
