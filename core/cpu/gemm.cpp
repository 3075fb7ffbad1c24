// Batched GEMM: f32 through our packed GEMM (sgemm.cpp) where the target has
// its micro-kernel, f64 (and f32 elsewhere) through Eigen's blocked kernels.
// Each Eigen operand is mapped in place (no copies): a row-major view of a
// matrix is the transpose of a column-major map with the same leading
// dimension, so transposed views cost nothing.
#include <Eigen/Core>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/sgemm.h"

namespace pf {

namespace {

template <typename T>
using ColMajorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0,
                               Eigen::OuterStride<>>;
template <typename T>
using RowMajorOut = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

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

// One batch item through Eigen (which spreads it over its threads unless it runs
// inside a parallel loop already).
template <typename T>
void eigen_gemm(const T* ap, const T* bp, T* cp, int64_t M, int64_t N, int64_t K, const Tensor& a, const Tensor& b,
                T alpha, T beta) {
  RowMajorOut<T> C(cp, M, N);
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

}  // namespace

void CpuBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  const int64_t M = c.size(-2), N = c.size(-1), K = a.size(-1);
  const int64_t batch = c.numel() / std::max<int64_t>(M * N, 1);
  if (is_half(c.dtype())) return gemm_half(a, b, c, alpha, beta);
  // Many small products: one per thread, each single-threaded inside. Few large
  // ones: one after another, each spread over the threads.
  const bool by_item = batch >= 2 * int64_t(Eigen::nbThreads());
  dispatch_float(c.dtype(), "gemm", [&]<typename T>() {
    auto one = [&](int64_t item) {
      const T* ap = a.data<T>() + batch_offset(a, item);
      const T* bp = b.data<T>() + batch_offset(b, item);
      T* cp = c.data<T>() + item * M * N;
      if constexpr (std::is_same_v<T, float> && PF_HAVE_SGEMM)
        cpu::sgemm(M, N, K, float(alpha), {ap, a.stride(-2), a.stride(-1)}, {bp, b.stride(-2), b.stride(-1)},
                   float(beta), cp, N, !by_item);
      else
        eigen_gemm<T>(ap, bp, cp, M, N, K, a, b, T(alpha), T(beta));
    };
    if (by_item) {
#pragma omp parallel for schedule(dynamic)
      for (int64_t item = 0; item < batch; ++item) one(item);
    } else {
      for (int64_t item = 0; item < batch; ++item) one(item);
    }
  });
}

}  // namespace pf
