#include "apps/openmp_waiting.h"

#include <unistd.h>

#include <cstdlib>

namespace pf::proformer {

void exec_with_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  setenv("GOMP_SPINCOUNT", kOpenMpSpinCount, 1);
  execv("/proc/self/exe", argv);
}

}  // namespace pf::proformer
