// The CPU backend's caching allocator (core/cpu/host_cache.cpp): freed blocks
// come back for the next request of their size class, pages are faulted in
// once, the high-water report adds up, trim and the limit release memory, and
// OpenMP threads may allocate at once. Figures are deltas: other tests in the
// same process use the allocator too.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <cstring>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/host_cache.h"

using namespace pf;

namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

}  // namespace

TEST_CASE("host cache: a freed block is handed out again, and the report adds up") {
  cpu::host_cache_trim();  // a block of these classes cached by an earlier test would be a hit, not a miss
  const cpu::HostMemoryStats before = cpu::host_memory_stats();
  void* a = cpu_backend().allocate(5000);  // size class 5120
  cpu::HostMemoryStats s = cpu::host_memory_stats();
  CHECK(s.in_use - before.in_use == 5120);
  CHECK(s.peak_in_use >= s.in_use);
  cpu_backend().deallocate(a);
  s = cpu::host_memory_stats();
  CHECK(s.in_use == before.in_use);
  CHECK(s.cached - before.cached == 5120);
  void* b = cpu_backend().allocate(5100);  // same class: the same block
  CHECK(b == a);
  CHECK(cpu::host_memory_stats().hits == s.hits + 1);
  void* c = cpu_backend().allocate(5200);  // next class (6144): a fresh block
  CHECK(c != a);
  CHECK(cpu::host_memory_stats().misses == s.misses + 1);
  cpu_backend().deallocate(b);
  cpu_backend().deallocate(c);
}

TEST_CASE("host cache: the second use of a large block faults in no pages") {
  const size_t bytes = size_t(48) << 20;  // above glibc's largest mmap threshold (32 MiB)
  cpu::host_cache_trim();  // a block cached by an earlier test in this process would make the first use free
  auto touch = [&] {
    void* p = cpu_backend().allocate(bytes);
    const long start = minor_faults();
    std::memset(p, 1, bytes);
    const long faults = minor_faults() - start;
    cpu_backend().deallocate(p);
    return faults;
  };
  const long first = touch(), second = touch();
  INFO("minor faults: first use ", first, ", second use ", second);
  CHECK(first > 20);  // 12288 pages of 4 KiB, or 24 of 2 MiB with transparent huge pages
  CHECK(second < 10);
}

TEST_CASE("host cache: trim and the limit give memory back") {
  void* a = cpu_backend().allocate(1 << 20);
  cpu_backend().deallocate(a);
  CHECK(cpu::host_memory_stats().cached >= size_t(1) << 20);
  cpu::host_cache_trim();
  CHECK(cpu::host_memory_stats().cached == 0);
  const size_t limit = cpu::set_host_cache_limit(0);  // nothing may stay cached
  a = cpu_backend().allocate(1 << 20);
  cpu_backend().deallocate(a);
  CHECK(cpu::host_memory_stats().cached == 0);
  cpu::set_host_cache_limit(limit);
}

TEST_CASE("host cache: OpenMP threads allocate and free at once") {
  const size_t in_use = cpu::host_memory_stats().in_use;
#pragma omp parallel for num_threads(4) schedule(dynamic)
  for (int i = 0; i < 4000; ++i) {
    std::vector<void*> blocks;
    for (size_t bytes : {64, 3000, 70000, 300000}) blocks.push_back(cpu_backend().allocate(bytes + size_t(i % 7)));
    for (void* p : blocks) cpu_backend().deallocate(p);
  }
  CHECK(cpu::host_memory_stats().in_use == in_use);
}

TEST_CASE("host cache: freeing a pointer it did not hand out is an error") {
  int not_ours = 0;
  CHECK_THROWS_WITH_AS(cpu_backend().deallocate(&not_ours), doctest::Contains("not allocated by the CPU backend"),
                       Error);
}
