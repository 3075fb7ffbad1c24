// Batched GEMM: f32, bf16 and f16 through our packed GEMM (sgemm.cpp) where
// the CPU runs its loops (AVX2 + FMA or AVX-512; half types go to oneDNN instead where the
// CPU has native kernels for them, and f32 where oneDNN is this machine's
// engine: f32_engine.h, gemm_half.cpp), f64 (and f32 elsewhere) through
// Eigen's blocked kernels.
// Each Eigen operand is mapped in place (no copies): a row-major view of a
// matrix is the transpose of a column-major map with the same leading
// dimension, so transposed views cost nothing.
#include <Eigen/Core>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/sgemm.h"
#include "core/ops.h"

namespace pf {

namespace {

template <typename T>
using ColMajorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0,
                               Eigen::OuterStride<>>;
template <typename T>
using RowMajorOut = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                               Eigen::OuterStride<>>;

// Calls fn(matrix_expression) with the [rows, cols] matrix at p whose element
// (i, j) sits at p[i * row_stride + j * col_stride]; one of the strides is 1.
template <typename T, typename Fn>
void with_matrix(const T* p, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, Fn&& fn) {
  if (col_stride == 1 && (row_stride >= cols || rows == 1))  // row-major
    fn(ColMajorMap<T>(p, cols, rows, Eigen::OuterStride<>(std::max<int64_t>(row_stride, cols))).transpose());
  else  // column-major (a transposed view)
    fn(ColMajorMap<T>(p, rows, cols, Eigen::OuterStride<>(std::max<int64_t>(col_stride, rows))));
}

// Offset of batch item `index` in a tensor whose leading dims are the batch.
int64_t batch_offset(const Tensor& t, int64_t index) {
  int64_t offset = 0;
  for (int64_t d = t.dim() - 3; d >= 0; --d) {
    int64_t i = index % t.size(d);
    index /= t.size(d);
    offset += i * t.stride(d);
  }
  return offset;
}

// The row stride of the result c [..., M, N] (any value serves a single row).
int64_t out_row_stride(const Tensor& c) { return c.size(-2) > 1 ? c.stride(-2) : c.size(-1); }

// One batch item through Eigen (which spreads it over its threads unless it runs
// inside a parallel loop already).
template <typename T>
void eigen_gemm(const T* ap, const T* bp, T* cp, int64_t M, int64_t N, int64_t K, const Tensor& a, const Tensor& b,
                const Tensor& c, T alpha, T beta) {
  RowMajorOut<T> C(cp, M, N, Eigen::OuterStride<>(out_row_stride(c)));
  with_matrix(ap, M, K, a.stride(-2), a.stride(-1), [&](const auto& A) {
    with_matrix(bp, K, N, b.stride(-2), b.stride(-1), [&](const auto& B) {
      if (beta == T(0))
        C.noalias() = alpha * (A * B);
      else {
        C *= beta;
        C.noalias() += alpha * (A * B);
      }
    });
  });
}

// Batch item `index` of t [..., rows, cols] as sgemm's strided matrix.
cpu::ConstMatrix matrix_of(const Tensor& t, int64_t index) {
  return {static_cast<const char*>(t.raw_data()) + batch_offset(t, index) * int64_t(dtype_size(t.dtype())),
          t.stride(-2), t.stride(-1), t.dtype()};
}

}  // namespace

void CpuBackend::gemm_ours(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  const int64_t M = c.size(-2), N = c.size(-1), K = a.size(-1);
  const int64_t batch = c.numel() / std::max<int64_t>(M * N, 1);
  // Many small products: one per thread, each single-threaded inside. Few large
  // ones: one after another, each spread over the threads.
  const bool by_item = batch >= 2 * int64_t(Eigen::nbThreads());
  auto each_item = [&](auto&& one) {
    if (by_item) {
#pragma omp parallel for schedule(dynamic)
      for (int64_t item = 0; item < batch; ++item) one(item);
    } else {
      for (int64_t item = 0; item < batch; ++item) one(item);
    }
  };
#if PF_HAVE_SGEMM
  if (cpu::sgemm_isa() != cpu::SgemmIsa::none &&
      (c.dtype() == DType::f32 || (is_half(c.dtype()) && !native_half_gemm(c.dtype())))) {
    return each_item([&](int64_t item) {
      cpu::sgemm(M, N, K, float(alpha), matrix_of(a, item), matrix_of(b, item), float(beta),
                 {static_cast<char*>(c.raw_data()) + batch_offset(c, item) * int64_t(dtype_size(c.dtype())),
                  out_row_stride(c), c.dtype()},
                 !by_item);
    });
  }
#endif
  if (is_half(c.dtype())) return gemm_half(a, b, c, alpha, beta);
  dispatch_float(c.dtype(), "gemm", [&]<typename T>() {
    each_item([&](int64_t item) {
      eigen_gemm<T>(a.data<T>() + batch_offset(a, item), b.data<T>() + batch_offset(b, item),
                    c.data<T>() + batch_offset(c, item), M, N, K, a, b, c, T(alpha), T(beta));
    });
  });
}

namespace {

// Seconds each engine takes for products of the model's kinds (a wide and a
// narrow linear, attention's scores over heads), each the best of 3 after a
// warm-up, at this process's threads.
cpu::EngineTimes time_both_engines() {
  Generator gen(1);
  struct Product {
    Tensor a, b, c;
  };
  const std::vector<Product> products = {
      {ops::uniform({256, 512}, -1, 1, gen), ops::uniform({512, 1536}, -1, 1, gen), Tensor::empty({256, 1536})},
      {ops::uniform({256, 128}, -1, 1, gen), ops::uniform({128, 512}, -1, 1, gen), Tensor::empty({256, 512})},
      {ops::uniform({8, 232, 64}, -1, 1, gen), ops::transpose(ops::uniform({8, 232, 64}, -1, 1, gen), 1, 2),
       Tensor::empty({8, 232, 232})},
  };
  auto seconds = [&](auto&& run) {  // false from run: the engine cannot do it
    double total = 0;
    for (const Product& p : products) {
      if (!run(p)) return std::numeric_limits<double>::infinity();
      double best = std::numeric_limits<double>::infinity();
      for (int rep = 0; rep < 3; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        run(p);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      total += best;
    }
    return total;
  };
  return {seconds([](const Product& p) { return cpu_backend().gemm_ours(p.a, p.b, p.c, 1.0, 0.0), true; }),
          seconds([](const Product& p) { return CpuBackend::gemm_onednn_f32(p.a, p.b, p.c, 1.0, 0.0); })};
}

// This process's engine: chosen at the first f32 product, unless set before.
cpu::F32EngineChoice& f32_engine() {
  static cpu::F32EngineChoice choice = cpu::choose_f32_engine(
      std::getenv("PF_CPU_GEMM"), CpuBackend::onednn_built(), cpu::f32_engine_cache_file(), time_both_engines);
  return choice;
}

}  // namespace

cpu::F32Engine CpuBackend::f32_gemm() { return f32_engine().engine; }
std::string CpuBackend::f32_gemm_how() { return f32_engine().how; }

void CpuBackend::set_f32_gemm(cpu::F32Engine engine) {
  PF_CHECK(engine == cpu::F32Engine::ours || onednn_built(), "set_f32_gemm", "onednn: this build has no oneDNN");
  f32_engine() = {engine, "set_f32_gemm"};
}

void CpuBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  // oneDNN's matmul where it is the engine (it spreads each product over its threads itself).
  if (c.dtype() == DType::f32 && f32_gemm() == cpu::F32Engine::onednn && gemm_onednn_f32(a, b, c, alpha, beta)) return;
  gemm_ours(a, b, c, alpha, beta);
}

bool CpuBackend::sgemm_runs(DType dtype) {
#if PF_HAVE_SGEMM
  if (cpu::sgemm_isa() == cpu::SgemmIsa::none) return false;
  if (dtype == DType::f32) return f32_gemm() == cpu::F32Engine::ours;
  return is_half(dtype) && !native_half_gemm(dtype);
#else
  (void)dtype;
  return false;
#endif
}

namespace {

// Calls fn(i, columns) for each weight i with columns the [R, N_i] view of
// t [R, sum N_i] that belongs to it.
template <typename Fn>
void each_weights_columns(const Tensor& t, const std::vector<Tensor>& ws, Fn&& fn) {
  int64_t start = 0;
  for (size_t i = 0; i < ws.size(); ++i) {
    const int64_t width = ws[i].size(1);
    fn(i, Tensor::view_of(t.storage(), {t.size(0), width}, {t.stride(0), 1}, t.offset() + start, t.dtype()));
    start += width;
  }
}

}  // namespace

void CpuBackend::linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases,
                               const Tensor& out) {
  if (!sgemm_runs(out.dtype())) return Backend::linear_concat(x, ws, biases, out);
  each_weights_columns(out, ws, [&](size_t i, const Tensor& columns) { linear(x, ws[i], biases[i], false, columns); });
}

void CpuBackend::linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws, const Tensor& dx) {
  if (dx.dtype() != DType::f32 || !sgemm_runs(DType::f32)) return Backend::linear_concat_dx(g, ws, dx);
  each_weights_columns(g, ws, [&](size_t i, const Tensor& g_i) {
    gemm(g_i, ops::transpose(ws[i], 0, 1), dx, 1.0, i == 0 ? 0.0 : 1.0);  // dx (+)= g_i @ w_i^T
  });
}

std::string CpuBackend::gemm_kernels() {
  std::string ours = "eigen";
#if PF_HAVE_SGEMM
  if (const cpu::SgemmIsa isa = cpu::sgemm_isa(); isa != cpu::SgemmIsa::none) {
    const cpu::SgemmBlocking blk = cpu::sgemm_blocking(isa);
    ours = std::string("sgemm ") + cpu::sgemm_isa_name(isa) + " (" + std::to_string(blk.mr) + " x " +
           std::to_string(blk.nr) + " tile)";
  }
#endif
  std::string summary = std::string("f32 ") + (f32_gemm() == cpu::F32Engine::onednn ? "onednn" : ours) + " (" +
                        f32_gemm_how() + ")";
  for (DType half : {DType::bf16, DType::f16})
    summary += std::string(", ") + dtype_name(half) + " " + (native_half_gemm(half) ? "onednn" : ours);
  return summary;
}

}  // namespace pf
