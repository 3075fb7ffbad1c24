// The hardware's limits that the benchmarks report their "% of peak" against.
#pragma once

namespace pf::bench {

// fp32 GFLOP/s of a register-only FMA loop on `threads` threads (best of 3).
double measure_fp32_peak_gflops(int threads);

}  // namespace pf::bench
