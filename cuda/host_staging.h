// Host-to-device copies through pinned memory.
//
// A copy from pageable memory (a std::vector, a CPU tensor) is not truly
// asynchronous: the driver stages it through pinned memory of its own and may
// wait for the stream first, so each step's batch upload would wait for the
// previous step's kernels, a host sync in all but name. HostStaging copies the
// source into a pinned block of its own (a host memcpy, microseconds for a
// batch), queues the transfer from that block and returns: the caller may
// reuse its memory at once, and the host runs ahead of the GPU. The ring of
// blocks is cuda/staging_ring.h; this is the CUDA runtime under it.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>

#include "cuda/staging_ring.h"

namespace pf::cuda {

struct CudaStagingRuntime {
  using Event = cudaEvent_t;
  cudaStream_t stream;

  void* alloc_pinned(size_t n);
  void free_pinned(void* p);
  Event new_event();
  bool finished(Event e);  // cudaEventQuery, leaving no "not ready" error behind (cuda/event_poll.h)
  void wait(Event e);
  void destroy(Event e);
  void transfer(void* dst, const void* src, size_t n);
  void record(Event e);
};

using HostStaging = StagingRing<CudaStagingRuntime>;

}  // namespace pf::cuda
