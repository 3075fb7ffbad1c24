// The CPU threads of the calling thread's computations: OpenMP's parallel
// regions (the CPU backend's kernels) and Eigen's own. One function, so the
// trainer and the Predictor set them alike.
//
// The default is the cores this process may use: the CPUs of its affinity
// mask (what OpenMP counts), fewer when a cgroup caps its CPU time (a
// container started with --cpus=2 on a 64-core machine sees 64 CPUs, but two
// cores' worth of time: 64 threads there would mostly wait for each other).
#pragma once
#include <optional>
#include <string_view>

namespace pf::proformer {

// threads > 0: that many for the calling thread's later work. 0: the default,
// OMP_NUM_THREADS when set, else default_cpu_threads().
void set_cpu_threads(int threads);

// The cores this process may use: OpenMP's count of the affinity mask's CPUs,
// capped by the cgroup's CPU quota (cgroup v2 cpu.max, or v1's cfs quota).
int default_cpu_threads();

// Cores' worth of a cgroup v2 cpu.max line ("QUOTA PERIOD", or "max PERIOD"
// for no cap), rounded up: "150000 100000" -> 2. nullopt for no cap or a line
// it cannot read.
std::optional<int> cpu_quota_cores(std::string_view cpu_max);

}  // namespace pf::proformer
