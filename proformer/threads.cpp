#include "proformer/threads.h"

#include <omp.h>

#include <Eigen/Core>

namespace pf::proformer {

void set_cpu_threads(int threads) {
  if (threads <= 0) return;
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

}  // namespace pf::proformer
