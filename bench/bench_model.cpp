// Times Proformer on synthetic inputs: inference (forward, no graph) and one
// training step (forward, backward, clipping, Adam), several repetitions,
// median reported. The PyTorch twin is bench/reference_bench.py; the script
// bench/cpu_vs_pytorch runs both and prints the ratio.
//
//   bench_model --config full|small --mode infer|train --batch 16 --reps 5 --threads 2 --dtype f32|bf16|f16
//
// --dtype bf16/f16 runs the step under autocast (autograd/autocast.h). The
// JSON line also gives the tensor bytes of a training step: "param_mb" the
// f32 weights plus their low-precision copies, "activation_mb" what the
// graph holds between forward and backward (live storage after the loss
// minus before the forward, copies of the weights excluded).
#include <omp.h>
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "autograd/autocast.h"
#include "core/cpu/cpu_backend.h"
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
  cli.option("dtype", "f32, or bf16 / f16 (mixed precision)", "f32");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = std::stoi(cli.get("threads"));
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  const ModelConfig config = config_named(cli.get("config"));
  const int64_t B = std::stoll(cli.get("batch")), S = 2 * config.seq_len;
  const int reps = std::stoi(cli.get("reps"));
  const bool train = cli.get("mode") == "train";
  const DType dtype = dtype_from_name(cli.get("dtype"));
  const bool gemm_native = CpuBackend::native_half_gemm(dtype);

  Proformer model(config, 0);
  Generator gen(1);
  Tensor tokens = ops::to(ops::mul(ops::uniform({B, S}, 0, 5.999, gen), 1.0), DType::i32);  // ids 0..5
  Tensor targets = ops::to(ops::uniform({B, S}, 0, 3.999, gen), DType::i32);
  Tensor mask = ops::to(ops::to(ops::uniform({B, S}, 0, 1.05, gen), DType::i32), DType::f32);  // ~5 % ones
  Tensor labels = ops::normal({B}, 0, 1, gen);
  nn::Adam optimizer(model.named_parameters(), {});

  const double param_bytes = double(model.parameter_count()) * 4.0;
  const double copy_bytes = dtype == DType::f32 ? 0.0 : double(model.parameter_count()) * double(dtype_size(dtype));
  double activation_bytes = 0;
  std::vector<double> seconds;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    if (train) {
      model.train();
      model.zero_grad();
      const double before = double(cpu_backend().live_bytes());
      Loss loss;
      {
        autocast::AutocastGuard autocast(dtype);
        loss = proformer_loss(model.forward(tokens, gen), labels, targets, mask);
      }
      activation_bytes = double(cpu_backend().live_bytes()) - before - copy_bytes;
      loss.total.backward();
      nn::clip_gradients(model.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
      optimizer.step(1e-4);
    } else {
      model.eval();
      autocast::AutocastGuard autocast(dtype);
      model.predict(tokens);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) seconds.push_back(s);  // rep 0 warms up caches and the allocator
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"impl\": \"proformer-cpp\", \"config\": \"%s\", \"mode\": \"%s\", \"batch\": %ld, \"threads\": %d, "
              "\"dtype\": \"%s\", \"half_gemm\": \"%s\", \"median_s\": %.4f, \"per_s\": %.2f, \"peak_rss_mb\": %.0f, "
              "\"param_mb\": %.1f, \"activation_mb\": %.1f}\n",
              cli.get("config").c_str(), cli.get("mode").c_str(), long(B), threads, dtype_name(dtype),
              dtype == DType::f32 ? "-" : gemm_native ? "onednn" : "f32-convert", median, double(B) / median,
              double(usage.ru_maxrss) / 1024.0, (param_bytes + copy_bytes) / 1e6, activation_bytes / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("bench_model", main_body, argc, argv); }
