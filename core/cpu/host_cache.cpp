// Size-classed free lists over glibc's aligned_alloc, and posix_memalign on
// huge-page boundaries for blocks of 2 MiB and more (see host_cache.h).
#include "core/cpu/host_cache.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer a cached block is poisoned, so a use after free is
// still reported until the block is handed out again, and so is the tail of a
// handed-out block past the bytes asked for, so an overflow into the rest of
// its size class is reported too.
#include <sanitizer/asan_interface.h>
#define PF_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define PF_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define PF_POISON(p, n) ((void)(p), (void)(n))
#define PF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace pf::cpu {

namespace {

// The size handed out for a request: 64-byte multiples up to 4 KiB, then four
// classes per power of two (4096, 5120, 6144, 7168, 8192, 10240, ...), so a
// block wastes under a quarter of itself and similar sizes share a list.
size_t size_class(size_t nbytes) {
  if (nbytes <= 4096) return std::max<size_t>((nbytes + 63) / 64 * 64, 64);
  const int top = 63 - __builtin_clzll(nbytes - 1);  // 2^top < nbytes <= 2^(top + 1)
  const size_t step = size_t(1) << (top - 2);
  return (nbytes + step - 1) / step * step;
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_lists;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live;                     // handed-out block -> its size class
  HostMemoryStats stats;
  size_t limit = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE)) / 2;

  void note_in_use(void* p, size_t bytes) {  // (mutex held)
    live[p] = bytes;
    stats.in_use += bytes;
    stats.peak_in_use = std::max(stats.peak_in_use, stats.in_use);
    stats.peak_reserved = std::max(stats.peak_reserved, stats.in_use + stats.cached);
  }
};

// Blocks of at least one huge page (2 MiB) start on a huge-page boundary and
// ask for transparent huge pages (a hint; THP is often "madvise"-only): one TLB
// entry then maps 512 times as much, which the GEMM's packing needs when it
// reads rows of a [B*T, 4096] activation, each 16 KiB from the next.
constexpr size_t kHugePageBytes = size_t(2) << 20;

void* system_allocate(size_t bytes) {
  if (bytes < kHugePageBytes) return std::aligned_alloc(64, bytes);  // 64 bytes: AVX-512 loads, Eigen's maps
  void* p = nullptr;  // (posix_memalign: aligned_alloc wants a size that is a multiple of the alignment)
  if (posix_memalign(&p, kHugePageBytes, bytes) != 0) return nullptr;
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: static tensors may be freed after it
  return *c;
}

}  // namespace

void* host_cache_allocate(size_t nbytes) {
  Cache& c = cache();
  const size_t bytes = size_class(nbytes);
  {
    std::lock_guard lock(c.mutex);
    auto it = c.free_lists.find(bytes);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached -= bytes;
      ++c.stats.hits;
      c.note_in_use(p, bytes);
      PF_UNPOISON(p, nbytes);
      PF_POISON(static_cast<char*>(p) + nbytes, bytes - nbytes);
      return p;
    }
    ++c.stats.misses;
  }
  void* p = system_allocate(bytes);
  if (p == nullptr) {  // the cache may hold what the system lacks
    host_cache_trim();
    p = system_allocate(bytes);
  }
  PF_CHECK(p != nullptr, "allocate", "out of host memory allocating ", nbytes, " bytes (",
           host_memory_stats().in_use >> 20, " MiB in use). HINT: lower the batch size");
  PF_POISON(static_cast<char*>(p) + nbytes, bytes - nbytes);
  std::lock_guard lock(c.mutex);
  c.note_in_use(p, bytes);
  return p;
}

void host_cache_free(void* ptr) {
  if (ptr == nullptr) return;
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    auto it = c.live.find(ptr);
    PF_CHECK(it != c.live.end(), "deallocate", "pointer ", ptr, " was not allocated by the CPU backend");
    const size_t bytes = it->second;
    c.live.erase(it);
    c.stats.in_use -= bytes;
    if (c.stats.cached + bytes <= c.limit) {
      PF_POISON(ptr, bytes);
      c.free_lists[bytes].push_back(ptr);
      c.stats.cached += bytes;
      return;
    }
    PF_UNPOISON(ptr, bytes);
  }
  std::free(ptr);  // over the limit: back to the system
}

HostMemoryStats host_memory_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.stats;
}

void host_cache_trim() {
  Cache& c = cache();
  std::vector<std::pair<void*, size_t>> blocks;
  {
    std::lock_guard lock(c.mutex);
    for (auto& [bytes, list] : c.free_lists)
      for (void* p : list) blocks.emplace_back(p, bytes);
    c.free_lists.clear();
    c.stats.cached = 0;
  }
  for (auto [p, bytes] : blocks) {
    PF_UNPOISON(p, bytes);
    std::free(p);
  }
  malloc_trim(0);  // glibc keeps freed heap pages mapped; hand them back to the system too
}

size_t set_host_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return std::exchange(c.limit, bytes);
}

}  // namespace pf::cpu
