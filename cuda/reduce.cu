// Reductions over the middle dim of a [outer, n, inner] layout (any contiguous
// run of dims reduces this way without moving data). Both use launch_reduce
// (common.cuh) and accumulate in double, as the CPU does.
#include "cuda/common.cuh"

namespace pf::cuda {

void CudaBackend::sum(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), "sum", [&]<typename T>() {
    launch_reduce(stream_, ReadMiddle<T>{x.data<T>(), n, inner}, Sum<double>{}, outer, n, inner, out.data<T>());
  });
}

void CudaBackend::max(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_float_or_half(x.dtype(), "max", [&]<typename T>() {
    launch_reduce(stream_, ReadMiddle<T>{x.data<T>(), n, inner}, Max<double>{}, outer, n, inner, out.data<T>());
  });
}

}  // namespace pf::cuda
