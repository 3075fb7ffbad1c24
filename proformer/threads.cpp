#include "proformer/threads.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

namespace pf::proformer {

namespace {

// The first line of a file, "" when it cannot be read.
std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The cgroup's CPU cap in cores: v2's cpu.max, else v1's cfs quota and period.
std::optional<int> cgroup_cores() {
  if (const std::string v2 = first_line("/sys/fs/cgroup/cpu.max"); !v2.empty()) return cpu_quota_cores(v2);
  const std::string quota = first_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const std::string period = first_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (quota.empty() || period.empty() || quota == "-1") return std::nullopt;
  return cpu_quota_cores(quota + " " + period);
}

}  // namespace

std::optional<int> cpu_quota_cores(std::string_view cpu_max) {
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::optional<double> quota = parse_number(cpu_max.substr(0, space));  // "max": no cap
  const std::optional<double> period = parse_number(cpu_max.substr(space + 1));
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return std::max(1, int(std::ceil(*quota / *period)));
}

int default_cpu_threads() {
  const int affinity = omp_get_num_procs();  // libgomp counts the affinity mask's CPUs
  const std::optional<int> capped = cgroup_cores();
  return capped ? std::min(affinity, *capped) : affinity;
}

void set_cpu_threads(int threads) {
  if (threads <= 0) {
    if (std::getenv("OMP_NUM_THREADS") != nullptr) return;  // the user's choice, which OpenMP has read
    static const int cores = default_cpu_threads();  // read once: the cgroup files are not free
    threads = cores;
  }
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

}  // namespace pf::proformer
