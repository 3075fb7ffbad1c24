// Prints this machine's fp32 limit (register-only FMA loop) on 1 thread and on
// --threads threads, one JSON line, for bench/cpu_vs_pytorch's "% of peak".
// A bf16 probe (AVX-512 BF16 dot products) belongs beside it once the
// mixed-precision block of the table exists; this CPU family may lack it.
//
//   peak_flops --threads 2
#include <cstdio>
#include <string>

#include "bench/peak.h"
#include "apps/command_line.h"

namespace {

int main_body(int argc, char** argv) {
  pf::proformer::CommandLine cli("peak_flops", "peak_flops [options]", "Measures the fp32 FMA peak of this CPU.");
  cli.option("threads", "CPU threads for the second figure", "2");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = std::stoi(cli.get("threads"));
  std::printf("{\"fp32_gflops_1t\": %.1f, \"fp32_gflops\": %.1f, \"threads\": %d}\n",
              pf::bench::measure_fp32_peak_gflops(1), pf::bench::measure_fp32_peak_gflops(threads), threads);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return pf::proformer::run_app("peak_flops", main_body, argc, argv); }
