// The default CPU thread count (proformer/threads.h): the affinity mask's
// CPUs, capped by a cgroup's CPU quota.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstdlib>

#include "proformer/threads.h"

using namespace pf::proformer;

TEST_CASE("threads: a cgroup v2 cpu.max line gives its cap in whole cores, rounded up") {
  CHECK(cpu_quota_cores("200000 100000") == 2);
  CHECK(cpu_quota_cores("150000 100000") == 2);
  CHECK(cpu_quota_cores("50000 100000") == 1);
  CHECK(cpu_quota_cores("100000 100000") == 1);
  CHECK(cpu_quota_cores("1600000 100000") == 16);
  CHECK_FALSE(cpu_quota_cores("max 100000"));   // no cap
  CHECK_FALSE(cpu_quota_cores(""));
  CHECK_FALSE(cpu_quota_cores("200000"));
  CHECK_FALSE(cpu_quota_cores("-1 100000"));
  CHECK_FALSE(cpu_quota_cores("2e5x 100000"));
}

TEST_CASE("threads: the default is the cores this process may use, and OMP_NUM_THREADS wins over it") {
  const int cores = default_cpu_threads();
  CHECK(cores >= 1);
  CHECK(cores <= omp_get_num_procs());
  const int before = omp_get_max_threads();
  const char* user = std::getenv("OMP_NUM_THREADS");  // CTest sets it to 1 for the suite
  set_cpu_threads(0);
  CHECK(omp_get_max_threads() == (user != nullptr ? before : cores));
  set_cpu_threads(3);
  CHECK(omp_get_max_threads() == 3);
  omp_set_num_threads(before);
}
