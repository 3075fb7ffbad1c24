// Host-to-device copies through pinned memory.
//
// A copy from pageable memory (a std::vector, a CPU tensor) is not truly
// asynchronous: the driver stages it through pinned memory of its own and may
// wait for the stream first, so each step's batch upload would wait for the
// previous step's kernels, a host sync in all but name. HostStaging copies the
// source into a pinned block of its own (a host memcpy, microseconds for a
// batch), queues the transfer from that block and returns: the caller may
// reuse its memory at once, and the host runs ahead of the GPU.
//
// The blocks form a ring. A block is written again only after the event
// recorded behind its last transfer has passed; when it has not (the host is
// kBlocks uploads ahead of the GPU), a fresh block joins the ring there
// instead of the host waiting. Copies over kMaxStaged bytes (weights at
// start-up, a checkpoint) go straight from pageable memory: rare, and not
// worth pinning that much memory for.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <vector>

namespace pf::cuda {

class HostStaging {
 public:
  static constexpr size_t kBlocks = 16;              // blocks in the ring at first
  static constexpr size_t kMaxStaged = size_t(16) << 20;  // larger copies are not staged

  HostStaging() = default;
  ~HostStaging();
  HostStaging(const HostStaging&) = delete;
  HostStaging& operator=(const HostStaging&) = delete;

  // Queues dst <- host_src (nbytes) on `stream`; host_src may be reused on return.
  void copy_to_device(const void* host_src, void* dst, size_t nbytes, cudaStream_t stream);

 private:
  struct Block {
    void* host = nullptr;  // pinned (cudaMallocHost)
    size_t capacity = 0;
    cudaEvent_t sent = nullptr;  // recorded behind the block's last transfer
  };
  // A block of at least nbytes whose last transfer has finished.
  Block& free_block(size_t nbytes);

  std::vector<Block> ring_;
  size_t next_ = 0;  // the ring position tried first
};

}  // namespace pf::cuda
