// Times our GEMM, CpuBackend::gemm_ours (f32, and bf16/f16 with --dtype: our packed GEMM,
// core/cpu/sgemm.cpp, unless oneDNN has native half kernels here) at the
// shapes of one block of the full or small model at a batch size, beside
// oneDNN's f32 matmul on the same (strided) operands when oneDNN was found, and
// Eigen's f32 product on the same 2-D operands, and prints GFLOP/s and the
// percentage of the fp32 peak measured by bench/peak.cpp; last, the rate over
// all of them, weighted by FLOPs: on this CPU, whether PF_CPU_GEMM=onednn
// would be faster for this model and batch.
//
//   bench_gemm --config full --batch 16 --threads 2 --reps 5 [--dtype bf16]
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/configs.h"
#include "bench/peak.h"
#include "core/cpu/cpu_backend.h"
#include "core/ops.h"
#include "apps/command_line.h"

#ifdef PF_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

using namespace pf;

namespace {

// Median wall seconds of fn over `reps` runs after one warm-up.
double median_seconds(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> seconds;
  for (int rep = 0; rep < reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

struct Case {
  std::string name;
  int64_t batch, M, N, K;
  bool a_transposed, b_transposed;
};

// The products of one block of `config` on `sequences` sequences of T = E + S
// tokens: the four linears' forward products (x @ W), the FFN's first linear's
// two backward products (training), and attention's two products, batched
// over sequences x heads.
std::vector<Case> model_cases(const proformer::ModelConfig& config, int64_t sequences) {
  const int64_t T = config.expr_tokens + 2 * config.seq_len, rows = sequences * T, D = config.dim;
  const int64_t inner = config.heads * config.head_dim, hidden = config.ffn_mult * D;
  return {
      {"qkv  x @ W", 1, rows, 3 * inner, D, false, false},
      {"attention out  x @ W", 1, rows, D, inner, false, false},
      {"ffn in  x @ W", 1, rows, hidden, D, false, false},
      {"ffn out  x @ W", 1, rows, D, hidden / 2, false, false},
      {"ffn in dx  dy @ W^T", 1, rows, D, hidden, false, true},
      {"ffn in dW  x^T @ dy", 1, D, hidden, rows, true, false},
      {"scores  q @ k^T", sequences * config.heads, T, T, config.head_dim, false, true},
      {"context  p @ v", sequences * config.heads, T, config.head_dim, T, false, false},
  };
}

// A [batch, rows, cols] operand, or the transposed view of a [batch, cols, rows] one.
Tensor operand(int64_t batch, int64_t rows, int64_t cols, bool transposed, DType dtype, Generator& gen) {
  if (!transposed) return ops::to(ops::uniform({batch, rows, cols}, -1, 1, gen), dtype);
  return ops::transpose(ops::to(ops::uniform({batch, cols, rows}, -1, 1, gen), dtype), 1, 2);
}

double flops(const Case& c) { return 2.0 * double(c.batch * c.M * c.N * c.K); }

// Eigen's product of the same 2-D operands (the previous f32 path), GFLOP/s.
double eigen_gflops(const Case& c, int reps) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Matrix a = Matrix::Random(c.M, c.K), b = Matrix::Random(c.K, c.N);
  Matrix out(c.M, c.N);
  const double s = median_seconds([&] { out.noalias() = a * b; }, reps);
  return flops(c) / s / 1e9;
}

#ifdef PF_DNNL
// oneDNN's f32 matmul of a [batch, M, K] and b [batch, K, N] into out,
// reading a transposed operand through its strides as ours does, GFLOP/s.
double onednn_gflops(const Case& c, const Tensor& a, const Tensor& b, const Tensor& out, int reps) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  auto desc = [](const Tensor& t) {
    return dnnl::memory::desc(t.shape(), dnnl::memory::data_type::f32, t.strides());
  };
  const dnnl::memory::desc a_md = desc(a), b_md = desc(b), out_md = desc(out);
  const dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, out_md), engine));
  const dnnl::memory am(a_md, engine, a.raw_data()), bm(b_md, engine, b.raw_data()), om(out_md, engine, out.raw_data());
  dnnl::stream stream(engine);
  const double s = median_seconds(
      [&] {
        matmul.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, om}});
        stream.wait();
      },
      reps);
  return flops(c) / s / 1e9;
}
#endif

// "  123.4   56%" or, for a product not measured, dashes.
void print_rate(double gflops, double peak) {
  if (gflops > 0)
    std::printf(" | %10.1f %5.0f%%", gflops, 100 * gflops / peak);
  else
    std::printf(" | %10s %6s", "-", "-");
}

int main_body(int argc, char** argv) {
  proformer::CommandLine cli("bench_gemm", "bench_gemm [options]",
                             "Times our GEMM at the model's shapes, beside oneDNN's f32 matmul and Eigen's.");
  cli.option("config", "model whose products are timed: full or small", "full");
  cli.option("batch", "sequences per forward pass (rows = batch x 232 tokens)", "16");
  cli.option("threads", "CPU threads", "2");
  cli.option("reps", "timed repetitions (after one warm-up)", "5");
  cli.option("dtype", "operand and result type: f32, bf16 or f16", "f32");
  if (!cli.parse(argc, argv)) return 0;
  const DType dtype = dtype_from_name(cli.get("dtype"));
  const int threads = std::stoi(cli.get("threads")), reps = std::stoi(cli.get("reps"));
  const int64_t batch = std::stoll(cli.get("batch"));
  PF_CHECK(batch > 0, "bench_gemm", "--batch must be positive, got ", batch);
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  const double peak = bench::measure_fp32_peak_gflops(threads);
  std::printf("fp32 peak (FMA loop, %d threads): %.1f GFLOP/s; %s model, batch %ld\nCPU GEMM: %s\n", threads, peak,
              cli.get("config").c_str(), long(batch), CpuBackend::gemm_kernels().c_str());
  std::printf("%-24s %5s %5s %5s %5s | %10s %6s | %10s %6s | %10s %6s\n", "product", "batch", "M", "N", "K",
              (std::string("ours ") + dtype_name(dtype)).c_str(), "%peak", "oneDNN f32", "%peak", "eigen f32",
              "%peak");
  Generator gen(1);
  double total_flops = 0, ours_seconds = 0, onednn_seconds = 0;  // over all products, for the weighted rate
  for (const Case& c : model_cases(bench::config_named(cli.get("config"), "bench_gemm"), batch)) {
    const Tensor a = operand(c.batch, c.M, c.K, c.a_transposed, dtype, gen);
    const Tensor b = operand(c.batch, c.K, c.N, c.b_transposed, dtype, gen);
    const Tensor out = Tensor::empty({c.batch, c.M, c.N}, dtype);
    const double ours = flops(c) / median_seconds([&] { cpu_backend().gemm_ours(a, b, out, 1.0, 0.0); }, reps) / 1e9;
    double onednn = 0.0;  // not built with oneDNN: dashes
#ifdef PF_DNNL
    {
      const Tensor a32 = operand(c.batch, c.M, c.K, c.a_transposed, DType::f32, gen);
      const Tensor b32 = operand(c.batch, c.K, c.N, c.b_transposed, DType::f32, gen);
      onednn = onednn_gflops(c, a32, b32, Tensor::empty({c.batch, c.M, c.N}), reps);
    }
#endif
    const double eigen = c.batch == 1 ? eigen_gflops(c, reps) : 0.0;
    std::printf("%-24s %5ld %5ld %5ld %5ld", c.name.c_str(), long(c.batch), long(c.M), long(c.N), long(c.K));
    print_rate(ours, peak);
    print_rate(onednn, peak);
    print_rate(eigen, peak);
    std::printf("\n");
    total_flops += flops(c);
    ours_seconds += flops(c) / (ours * 1e9);
    onednn_seconds += onednn > 0 ? flops(c) / (onednn * 1e9) : 0.0;
  }
  // The rate over all these products together (each weighted by its FLOPs):
  // what choosing the engine for a whole run (PF_CPU_GEMM) would give.
  std::printf("%-44s", "all of the above, weighted by FLOPs");
  print_rate(total_flops / ours_seconds / 1e9, peak);
  print_rate(onednn_seconds > 0 ? total_flops / onednn_seconds / 1e9 : 0.0, peak);
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return proformer::run_app("bench_gemm", main_body, argc, argv); }
