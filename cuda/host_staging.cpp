#include "cuda/host_staging.h"

#include <cuda_runtime.h>

#include "cuda/check.h"
#include "cuda/event_poll.h"

namespace pf::cuda {

void* CudaStagingRuntime::alloc_pinned(size_t n) {
  void* p = nullptr;
  cudaCheck(cudaMallocHost(&p, n));
  return p;
}

void CudaStagingRuntime::free_pinned(void* p) { cudaCheck(cudaFreeHost(p)); }

cudaEvent_t CudaStagingRuntime::new_event() {
  cudaEvent_t e = nullptr;
  cudaCheck(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

bool CudaStagingRuntime::finished(cudaEvent_t e) {
  return poll_finished(cudaEventQuery(e), cudaSuccess, cudaErrorNotReady, cudaGetLastError,
                       [](cudaError_t status) { cudaCheck(status); });
}

void CudaStagingRuntime::wait(cudaEvent_t e) { cudaCheck(cudaEventSynchronize(e)); }

void CudaStagingRuntime::destroy(cudaEvent_t e) { cudaCheck(cudaEventDestroy(e)); }

void CudaStagingRuntime::transfer(void* dst, const void* src, size_t n) {
  cudaCheck(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream));
}

void CudaStagingRuntime::record(cudaEvent_t e) { cudaCheck(cudaEventRecord(e, stream)); }

}  // namespace pf::cuda
