// Times Proformer on synthetic inputs: inference (forward, no graph) and one
// training step (forward, backward, clipping, Adam), several repetitions,
// median reported. The PyTorch twin is bench/reference_bench.py; the script
// bench/cpu_vs_pytorch runs both and prints the ratio; scripts/gpu-check.sh
// runs both on a GPU. activation_mb is the step's peak of live tensor bytes
// above what lives across steps (parameters, Adam state, inputs), on the
// device the model runs on.
//
//   bench_model --config full|small --mode infer|train --batch 16 --reps 5 --threads 2 [--device cuda]
#include <omp.h>
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "apps/devices.h"
#include "core/storage.h"
#include "proformer/cli.h"
#include "proformer/model.h"
#include "nn/optimizer.h"

using namespace pf;
using namespace pf::proformer;

namespace {

ModelConfig config_named(const std::string& name) {
  ModelConfig c;  // full: the original
  if (name == "small") {
    c.dim = 128;
    c.blocks = 2;
    c.heads = 4;
    c.head_dim = 128;
  } else {
    PF_CHECK(name == "full", "bench_model", "--config must be full or small, got '", name, "'");
  }
  return c;
}

int main_body(int argc, char** argv) {
  CommandLine cli("bench_model", "bench_model [options]", "Times Proformer inference or training steps on random tokens.");
  cli.option("config", "full or small", "full");
  cli.option("mode", "infer or train", "infer");
  cli.option("batch", "batch size", "16");
  cli.option("reps", "timed repetitions (after one warm-up)", "5");
  cli.option("threads", "CPU threads", "2");
  cli.option("device", "cpu, cuda or cuda:N", "cpu");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = std::stoi(cli.get("threads"));
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  const ModelConfig config = config_named(cli.get("config"));
  const int64_t B = std::stoll(cli.get("batch")), S = 2 * config.seq_len;
  const int reps = std::stoi(cli.get("reps"));
  const bool train = cli.get("mode") == "train";
  const Device device = parse_device(cli.get("device"));

  Proformer model(config, 0);
  model.to(device);
  Generator gen(1);
  Tensor tokens = ops::to(ops::to(ops::uniform({B, S}, 0, 5.999, gen), DType::i32), device);  // ids 0..5
  Tensor targets = ops::to(ops::to(ops::uniform({B, S}, 0, 3.999, gen), DType::i32), device);
  Tensor mask = ops::to(ops::to(ops::uniform({B, S}, 0, 1.05, gen), DType::i32), DType::f32);  // ~5 % ones
  const double masked = ops::sum(mask).item();
  mask = ops::to(mask, device);
  Tensor labels = ops::to(ops::normal({B}, 0, 1, gen), device);
  nn::Adam optimizer(model.named_parameters(), {});

  std::vector<double> seconds;
  size_t activation_bytes = 0;  // the step's peak above what lives across steps
  for (int rep = 0; rep <= reps; ++rep) {
    const size_t before = storage_stats(device.kind).live_bytes;
    reset_storage_peak(device.kind);
    const auto start = std::chrono::steady_clock::now();
    if (train) {
      model.train();
      Loss loss = proformer_loss(model.forward(tokens, gen), labels, targets, mask, masked);
      model.zero_grad();
      loss.total.backward();
      nn::clip_gradients(model.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
      optimizer.step(1e-4);
    } else {
      model.eval();
      model.predict(tokens);
    }
    backend_for(device).synchronize();  // a GPU runs behind the host: time the work, not its queueing
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) seconds.push_back(s);  // rep 0 warms up caches and the allocator
    activation_bytes = std::max(activation_bytes, storage_stats(device.kind).peak_bytes - before);
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"impl\": \"proformer-cpp\", \"config\": \"%s\", \"mode\": \"%s\", \"batch\": %ld, \"threads\": %d, "
              "\"device\": \"%s\", \"median_s\": %.4f, \"per_s\": %.2f, \"activation_mb\": %.1f, "
              "\"peak_device_mb\": %.0f, \"peak_rss_mb\": %.0f}\n",
              cli.get("config").c_str(), cli.get("mode").c_str(), long(B), threads, device.str().c_str(), median,
              double(B) / median, double(activation_bytes) / (1 << 20),
              double(storage_stats(device.kind).peak_bytes) / (1 << 20), double(usage.ru_maxrss) / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("bench_model", main_body, argc, argv);
}
