#include "cuda/host_staging.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "cuda/check.h"
#include "cuda/event_poll.h"

namespace pf::cuda {

namespace {

// The ring grows past this only by waiting: a host this far ahead of the GPU
// gains nothing from running further ahead.
constexpr size_t kMaxBlocks = 256;
constexpr size_t kMinCapacity = size_t(64) << 10;

bool finished(cudaEvent_t event) {
  return poll_finished(cudaEventQuery(event), cudaSuccess, cudaErrorNotReady, cudaGetLastError,
                       [](cudaError_t status) { cudaCheck(status); });
}

}  // namespace

HostStaging::~HostStaging() {
  for (Block& block : ring_) {
    if (block.sent != nullptr) {
      cudaEventSynchronize(block.sent);
      cudaEventDestroy(block.sent);
    }
    cudaFreeHost(block.host);
  }
}

HostStaging::Block& HostStaging::free_block(size_t nbytes) {
  if (ring_.empty()) ring_.resize(kBlocks);
  if (ring_[next_].sent != nullptr && !finished(ring_[next_].sent)) {
    if (ring_.size() < kMaxBlocks) {
      ring_.insert(ring_.begin() + long(next_), Block{});  // a fresh block here; the busy one comes next
    } else {
      cudaCheck(cudaEventSynchronize(ring_[next_].sent));
    }
  }
  Block& block = ring_[next_];
  next_ = (next_ + 1) % ring_.size();
  if (block.sent == nullptr) cudaCheck(cudaEventCreateWithFlags(&block.sent, cudaEventDisableTiming));
  if (block.capacity < nbytes) {  // its last transfer has finished: it may be freed
    if (block.host != nullptr) cudaCheck(cudaFreeHost(block.host));
    block.capacity = std::max(std::bit_ceil(nbytes), kMinCapacity);
    cudaCheck(cudaMallocHost(&block.host, block.capacity));
  }
  return block;
}

void HostStaging::copy_to_device(const void* host_src, void* dst, size_t nbytes, cudaStream_t stream) {
  if (nbytes == 0) return;
  if (nbytes > kMaxStaged) {
    cudaCheck(cudaMemcpyAsync(dst, host_src, nbytes, cudaMemcpyHostToDevice, stream));
    return;
  }
  Block& block = free_block(nbytes);
  std::memcpy(block.host, host_src, nbytes);
  cudaCheck(cudaMemcpyAsync(dst, block.host, nbytes, cudaMemcpyHostToDevice, stream));
  cudaCheck(cudaEventRecord(block.sent, stream));
}

}  // namespace pf::cuda
