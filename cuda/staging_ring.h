// The ring of pinned host blocks behind CudaBackend::copy_from_host (see
// cuda/host_staging.h for why uploads are staged at all).
//
// copy(src, dst, n): a block of at least n bytes whose last transfer has
// finished gets a host memcpy of src, then an asynchronous transfer from the
// block to dst is queued with an event behind it, and copy returns: the
// caller may reuse src at once. A block is written again only after its
// event has passed. When the next block in the ring is still in flight (the
// host is a ring's worth of uploads ahead of the device), a fresh block joins
// the ring there instead of the host waiting, up to kMaxBlocks; past that the
// host waits for that block's event. Copies over kMaxStaged bytes (weights at
// start-up, a checkpoint) are not staged: rare, and not worth pinning that
// much memory for.
//
// Header only and free of CUDA, like cuda/event_poll.h: the runtime's calls
// come through Runtime, so the CPU tests run this same ring against a fake
// device whose transfers complete when the test says
// (tests/cuda_host/test_staging_ring.cpp). Runtime provides
//   void* alloc_pinned(size_t n);  void free_pinned(void* p);
//   Event new_event();  bool finished(Event e);  void wait(Event e);  void destroy(Event e);
//   void transfer(void* dst, const void* src, size_t n);  // async, queued on the stream
//   void record(Event e);                                 // behind what is queued
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <vector>

namespace pf::cuda {

template <typename Runtime>
class StagingRing {
 public:
  using Event = typename Runtime::Event;
  static constexpr size_t kBlocks = 16;                   // blocks in the ring at first
  static constexpr size_t kMaxBlocks = 256;               // grown to, before the host waits
  static constexpr size_t kMaxStaged = size_t(16) << 20;  // larger copies are not staged
  static constexpr size_t kMinCapacity = size_t(64) << 10;

  explicit StagingRing(Runtime runtime) : runtime_(std::move(runtime)) {}
  ~StagingRing() {
    try {  // at teardown a failing runtime has nothing left to report to
      for (Block& block : ring_) {
        if (block.has_event) {
          runtime_.wait(block.sent);
          runtime_.destroy(block.sent);
        }
        if (block.host != nullptr) runtime_.free_pinned(block.host);
      }
    } catch (...) {
    }
  }
  StagingRing(const StagingRing&) = delete;
  StagingRing& operator=(const StagingRing&) = delete;

  // Queues dst <- src (n bytes); src may be reused on return.
  void copy(const void* src, void* dst, size_t n) {
    if (n == 0) return;
    if (n > kMaxStaged) {
      runtime_.transfer(dst, src, n);
      return;
    }
    Block& block = free_block(n);
    std::memcpy(block.host, src, n);
    runtime_.transfer(dst, block.host, n);
    runtime_.record(block.sent);
  }

  size_t blocks() const { return ring_.size(); }
  Runtime& runtime() { return runtime_; }

 private:
  struct Block {
    void* host = nullptr;  // pinned
    size_t capacity = 0;
    Event sent{};  // recorded behind the block's last transfer
    bool has_event = false;
  };

  // A block of at least n bytes whose last transfer has finished.
  Block& free_block(size_t n) {
    if (ring_.empty()) ring_.resize(kBlocks);
    if (ring_[next_].has_event && !runtime_.finished(ring_[next_].sent)) {
      if (ring_.size() < kMaxBlocks) {
        ring_.insert(ring_.begin() + long(next_), Block{});  // a fresh block here; the busy one comes next
      } else {
        runtime_.wait(ring_[next_].sent);
      }
    }
    Block& block = ring_[next_];
    next_ = (next_ + 1) % ring_.size();
    if (!block.has_event) {
      block.sent = runtime_.new_event();
      block.has_event = true;
    }
    if (block.capacity < n) {  // its last transfer has finished: it may be freed
      if (block.host != nullptr) runtime_.free_pinned(block.host);
      block.capacity = std::max(std::bit_ceil(n), kMinCapacity);
      block.host = runtime_.alloc_pinned(block.capacity);
    }
    return block;
  }

  Runtime runtime_;
  std::vector<Block> ring_;
  size_t next_ = 0;  // the ring position tried first
};

}  // namespace pf::cuda
