// Times the attribution methods (proformer/inference/attribution.h) on random
// 80-nt promoters and a randomly initialised model: --sequences promoters per
// repetition, one warm-up then --reps timed, median reported as sequences/s.
// The PyTorch twin is bench/attributions_bench.py; bench/attributions_vs_pytorch
// runs both and prints the table.
//
//   bench_attributions --config small|full --method saliency --sequences 32 --batch 32 --reps 3 --threads 2
//
// Work per promoter: saliency and input-x-gradient one forward and backward
// row; integrated-gradients --ig-steps rows (uniform baseline); ism 3L + 1 = 241
// forward rows. --batch model rows go through each pass.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "apps/devices.h"
#include "bench/configs.h"
#include "apps/command_line.h"
#include "proformer/inference/attribution.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// n random promoters of 80 nt, ids r0, r1, ...
std::vector<SequenceRecord> random_records(int64_t n) {
  std::mt19937_64 rng(7);
  std::vector<SequenceRecord> records;
  for (int64_t k = 0; k < n; ++k) {
    SequenceRecord record;
    record.id = "r";
    record.id += std::to_string(k);  // not "r" + std::to_string(k): GCC 12 warns -Wrestrict falsely
    for (int i = 0; i < 80; ++i) record.sequence += "ACGT"[rng() % 4];
    records.push_back(std::move(record));
  }
  return records;
}

int main_body(int argc, char** argv) {
  CommandLine cli("bench_attributions", "bench_attributions [options]",
                  "Times one attribution method on random promoters (sequences/s).");
  cli.option("config", "full or small", "small");
  cli.option("method", "saliency, input-x-gradient, integrated-gradients or ism", "saliency");
  cli.option("sequences", "promoters per repetition", "32");
  cli.option("batch", "model rows per forward (and backward) pass", "32");
  cli.option("ig-steps", "integrated gradients: path points", "32");
  cli.option("reps", "timed repetitions (after one warm-up)", "3");
  cli.option("threads", "CPU threads", "2");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = int(cli.get_int("threads", 1));
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  const ModelConfig config = bench::config_named(cli.get("config"), "bench_attributions");
  LoadedModel model{std::make_shared<Proformer>(config, 0), {}, ""};
  model.model->eval();
  AttributionOptions options;
  options.method = attribution_method_from_name(cli.get("method"));
  options.batch_size = cli.get_int("batch", 1);
  options.ig_steps = int(cli.get_int("ig-steps", 1));
  const std::vector<SequenceRecord> records = random_records(cli.get_int("sequences", 1));
  const int reps = int(cli.get_int("reps", 1));

  std::vector<double> seconds;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    attribute(model, records, options, 0);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) seconds.push_back(s);  // rep 0 warms up caches and the allocator
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("{\"impl\": \"proformer-cpp\", \"config\": \"%s\", \"method\": \"%s\", \"sequences\": %zu, "
              "\"batch\": %ld, \"ig_steps\": %d, \"threads\": %d, \"median_s\": %.4f, \"per_s\": %.3f}\n",
              cli.get("config").c_str(), cli.get("method").c_str(), records.size(), long(options.batch_size),
              options.ig_steps, threads, median, double(records.size()) / median);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("bench_attributions", main_body, argc, argv);
}
