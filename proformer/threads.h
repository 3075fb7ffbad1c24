// The CPU threads of the calling thread's computations: OpenMP's parallel
// regions (the CPU backend's kernels) and Eigen's own. One function, so the
// trainer and the Predictor set them alike.
#pragma once

namespace pf::proformer {

// threads > 0: that many for the calling thread's later work; 0 keeps the
// default (OpenMP's: all cores, or OMP_NUM_THREADS).
void set_cpu_threads(int threads);

}  // namespace pf::proformer
