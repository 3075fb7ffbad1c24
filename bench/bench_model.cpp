// Times Proformer on synthetic inputs: inference (forward, no graph) and one
// training step (forward, backward, clipping, Adam), several repetitions,
// median reported, with the achieved GFLOP/s and its share of the fp32 peak
// (bench/peak.cpp), and per timed step the minor page faults, the kernel
// (system) CPU time and the host cache's high-water marks. activation_mb is
// the step's peak of live tensor bytes above what lives across steps
// (parameters, Adam state, inputs), on the device the model runs on. The
// PyTorch twin is bench/reference_bench.py; bench/cpu_vs_pytorch runs both
// and prints the table; scripts/gpu-check.sh runs both on a GPU.
//
//   bench_model --config full|small --mode infer|train --batch 16 --reps 5 --threads 2 [--device cuda]
//               [--dtype f32|bf16|f16] [--peak-gflops 90]
//
// --dtype bf16/f16 runs the step under autocast (autograd/autocast.h);
// "param_mb" is the f32 weights plus their low-precision copies. Training
// casts the weights anew every step (they change); inference keeps one
// autocast guard, so its low-precision weights are made once, in the warm-up,
// as pf-infer makes them once per run.
#include <omp.h>
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <optional>
#include <chrono>
#include <cstdio>

#include "apps/devices.h"
#include "autograd/autocast.h"
#include "bench/configs.h"
#include "bench/peak.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/host_cache.h"
#include "core/storage.h"
#include "apps/command_line.h"
#include "proformer/model.h"
#include "nn/optim/optimizer.h"

using namespace pf;
using namespace pf::proformer;

namespace {

// Multiply-adds x 2 of one sequence's forward pass, counting the matrix
// products and convolutions (everything else is under 1 %): 25.4 GFLOP at the
// full config. A training step costs about 3x that (backward: two products
// per forward product).
double forward_gflop_per_sequence(const ModelConfig& c) {
  const double S = 2.0 * double(c.seq_len), T = double(c.expr_tokens) + S, D = double(c.dim);
  const double F = double(c.ffn_mult) * D, inner = double(c.heads * c.head_dim);
  const double ffn = 2 * T * (D * F + F / 2 * D);                        // 512 -> 2048, SwiGLU, 1024 -> 512
  const double conv = 2 * T * D * D + 2 * T * D * double(c.conv_kernel);  // pointwise + depthwise
  const double mha = 4 * 2 * T * D * inner + 2 * 2 * T * T * inner;      // Q K V O, then scores and context
  const double kmer = 2 * S * double(c.vocab * c.kmer_kernel) * D;
  return (kmer + double(c.blocks) * (2 * ffn + conv + mha)) / 1e9;
}

struct Usage {
  double system_s;
  long minor_faults;
};
Usage usage_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {double(u.ru_stime.tv_sec) + 1e-6 * double(u.ru_stime.tv_usec), u.ru_minflt};
}

int main_body(int argc, char** argv) {
  CommandLine cli("bench_model", "bench_model [options]", "Times Proformer inference or training steps on random tokens.");
  cli.option("config", "full or small", "full");
  cli.option("mode", "infer or train", "infer");
  cli.option("batch", "batch size", "16");
  cli.option("reps", "timed repetitions (after one warm-up)", "5");
  cli.option("threads", "CPU threads", "2");
  cli.option("device", "cpu, cuda or cuda:N", "cpu");
  cli.option("dtype", "f32, or bf16 / f16 (mixed precision)", "f32");
  cli.option("peak-gflops", "fp32 peak for '% of peak' (0: measure it here)", "0");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = std::stoi(cli.get("threads"));
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  const ModelConfig config = bench::config_named(cli.get("config"), "bench_model");
  const int64_t B = std::stoll(cli.get("batch")), S = 2 * config.seq_len;
  const int reps = std::stoi(cli.get("reps"));
  const bool train = cli.get("mode") == "train";
  const Device device = parse_device(cli.get("device"));
  const DType dtype = dtype_from_name(cli.get("dtype"));
  const bool gemm_native = CpuBackend::native_half_gemm(dtype);
  if (device.is_cpu()) std::fprintf(stderr, "bench_model: CPU GEMM: %s\n", CpuBackend::gemm_kernels().c_str());

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

  const double param_bytes = double(model.parameter_count()) * 4.0;
  const double copy_bytes = dtype == DType::f32 ? 0.0 : double(model.parameter_count()) * double(dtype_size(dtype));
  std::vector<double> seconds;
  size_t activation_bytes = 0;  // the step's peak above what lives across steps
  Usage after_warmup{};
  std::optional<autocast::AutocastGuard> inference_autocast;
  if (!train) inference_autocast.emplace(dtype);
  for (int rep = 0; rep <= reps; ++rep) {
    if (rep == 1) after_warmup = usage_now();
    const size_t before = storage_stats(device.kind).live_bytes;
    reset_storage_peak(device.kind);
    const auto start = std::chrono::steady_clock::now();
    if (train) {
      model.train();
      model.zero_grad();
      Loss loss;
      {
        autocast::AutocastGuard autocast(dtype);
        loss = proformer_loss(model.forward(tokens, gen), labels, targets, mask, masked);
      }
      loss.total.backward();
      nn::clip_gradients(optimizer.parameters(), 0.5, 1.0, nn::ClipMode::PerParameter);
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
  const Usage end = usage_now();
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  double peak = std::stod(cli.get("peak-gflops"));
  if (peak <= 0) peak = bench::measure_fp32_peak_gflops(threads);
  const double gflops = forward_gflop_per_sequence(config) * (train ? 3 : 1) * double(B) / median;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const cpu::HostMemoryStats memory = cpu::host_memory_stats();
  std::printf("{\"impl\": \"proformer-cpp\", \"config\": \"%s\", \"mode\": \"%s\", \"batch\": %ld, \"threads\": %d, "
              "\"device\": \"%s\", \"dtype\": \"%s\", \"half_gemm\": \"%s\", \"cpu_gemm\": \"%s\", \"median_s\": %.4f, \"per_s\": %.2f, "
              "\"gflops\": %.1f, \"pct_peak\": %.1f, \"param_mb\": %.1f, \"activation_mb\": %.1f, "
              "\"peak_device_mb\": %.0f, \"peak_rss_mb\": %.0f, \"minor_faults_per_step\": %.0f, "
              "\"system_s_per_step\": %.4f, \"host_peak_in_use_mb\": %.0f, \"host_cached_mb\": %.0f}\n",
              cli.get("config").c_str(), cli.get("mode").c_str(), long(B), threads, device.str().c_str(),
              dtype_name(dtype), dtype == DType::f32 ? "-" : gemm_native ? "onednn" : "sgemm",
              CpuBackend::gemm_kernels().c_str(), median,
              double(B) / median, gflops, 100 * gflops / peak, (param_bytes + copy_bytes) / (1 << 20),
              double(activation_bytes) / (1 << 20), double(storage_stats(device.kind).peak_bytes) / (1 << 20),
              double(usage.ru_maxrss) / 1024.0, double(end.minor_faults - after_warmup.minor_faults) / reps,
              (end.system_s - after_warmup.system_s) / reps, double(memory.peak_in_use) / (1 << 20),
              double(memory.cached) / (1 << 20));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  register_devices();
  return run_app("bench_model", main_body, argc, argv);
}
