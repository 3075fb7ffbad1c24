// The CPU backend's caching allocator: freed blocks are kept in free lists by
// size class and handed out again, so a training step, which allocates the
// same sizes as the step before it, gets memory whose pages are already
// mapped (no page faults, no kernel time). CpuBackend::allocate/deallocate
// go through it. Thread-safe (OpenMP threads and the prefetcher allocate).
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::cpu {

// The cache's high-water report, in bytes.
struct HostMemoryStats {
  size_t in_use = 0;       // handed out and not yet freed (rounded to size classes)
  size_t cached = 0;       // freed, kept in the free lists
  size_t peak_in_use = 0;  // the most ever in use at once
  size_t peak_reserved = 0;  // the most ever in use + cached at once
  uint64_t hits = 0, misses = 0;  // allocations served from the free lists / from the system
};

void* host_cache_allocate(size_t nbytes);  // 64-byte aligned; throws pf::Error when out of memory
void host_cache_free(void* ptr);
HostMemoryStats host_memory_stats();
// Returns every cached block to the system (also done when a fresh block
// cannot be had, and block by block when the cache would exceed its limit).
void host_cache_trim();
// The most bytes the free lists may hold; a freed block that would exceed it
// goes back to the system. Default: half the physical memory. Returns the
// previous limit.
size_t set_host_cache_limit(size_t bytes);

}  // namespace pf::cpu
