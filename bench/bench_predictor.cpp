// The library's in-memory API (proformer/api/predictor.h) timed from C++, the
// twin of the same calls from Python (bench/python_vs_infer):
//
//   bench_predictor --save DIR/PREFIX --config full|small     a seeded, untrained checkpoint to time
//   bench_predictor --checkpoint CKPT --latency --reps 50     Predictor::predict of one promoter, median ms
//   bench_predictor --checkpoint CKPT --sequences FILE        Predictor::predict of every line of FILE, seq/s
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/configs.h"
#include "proformer/api/predictor.h"
#include "proformer/checkpoint.h"
#include "apps/command_line.h"
#include "proformer/data/reader.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// One DREAM test promoter with its flanks, the single sequence timed.
constexpr const char* kPromoter =
    "TGCATTTTTTTCACATCAAAAAAAAAAAAAAAAAAAAAAACTAGCAAACCAATGAAGCGGCTTGGCTTACAGGTACATTTTACCTTAGCGCTAAATGGGTTACGGCTGTT";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int main_body(int argc, char** argv) {
  CommandLine cli("bench_predictor", "bench_predictor (--save PREFIX | --checkpoint CKPT) [options]",
                  "Times Predictor::predict: one promoter at a time (--latency) or a file of promoters.");
  cli.option("save", "write a seeded, untrained checkpoint of --config to PREFIX and exit");
  cli.option("config", "full or small", "full");
  cli.option("checkpoint", "the checkpoint to time");
  cli.flag("latency", "time predict() of one promoter, --reps times after a warm-up");
  cli.option("sequences", "time predict() of every sequence of this file (one per line), once");
  cli.option("reps", "timed repetitions", "50");
  cli.option("threads", "CPU threads", "2");
  cli.option("batch-size", "rows per forward pass", "32");
  if (!cli.parse(argc, argv)) return 0;
  if (cli.has("save")) {
    Proformer model(bench::config_named(cli.get("config"), "bench_predictor"), 1);
    save_checkpoint(cli.get("save"), model, nullptr, TrainState{}, "");
    return 0;
  }
  RunSettings settings;
  settings.threads = int(cli.get_int("threads", 1));
  settings.batch_size = cli.get_int("batch-size", 1);
  const Predictor model({cli.get("checkpoint")}, settings);
  if (cli.enabled("latency")) {
    model.predict({kPromoter});  // warm-up: caches, thread pool
    std::vector<double> ms;
    for (int64_t r = 0; r < cli.get_int("reps", 1); ++r) {
      const auto start = std::chrono::steady_clock::now();
      model.predict({kPromoter});
      ms.push_back(1e3 * seconds_since(start));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("latency_ms %.3f (median of %zu; min %.3f, max %.3f)\n", ms[ms.size() / 2], ms.size(), ms.front(),
                ms.back());
  }
  if (cli.has("sequences")) {
    std::vector<std::string> sequences;
    LineReader lines(cli.get("sequences"));
    for (std::string line; lines.next(line);)
      if (!line.empty()) sequences.push_back(line.substr(0, line.find('\t')));
    const auto start = std::chrono::steady_clock::now();
    model.predict(sequences);
    const double s = seconds_since(start);
    std::printf("sequences %zu seconds %.3f seq_per_s %.2f\n", sequences.size(), s, double(sequences.size()) / s);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("bench_predictor", main_body, argc, argv); }
