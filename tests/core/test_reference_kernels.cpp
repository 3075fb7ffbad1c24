// The fast CPU kernels against their plain twins (core/cpu/reference/) at the
// full model's shapes (configs/default.yaml: D 512, 232 tokens, 8 heads of
// 512, the FFN's 2048-wide first layer; batch 2): the GEMM through pf::ops
// (whatever CpuBackend picks: our sgemm, oneDNN for bf16 where the CPU has
// bf16 instructions) and through cpu::sgemm itself, in f32 and with bf16
// operands; softmax and layer norm, forward and backward, in f32.
//
// Every tolerance is a bound on the fast kernel's rounding error, derived
// beside it from the reduction length n and the unit roundoff u of the
// arithmetic (2^-24 for f32, 2^-8 for a bf16 result) with gamma_n = n u / (1 -
// n u), the bound on the relative error of an n-term sum in any order
// (Higham, "Accuracy and Stability of Numerical Algorithms", 3.1). The
// reference computes in double on the same (rounded) inputs, so its own error
// is negligible beside it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/cpu/reference/reference_kernels.h"
#include "core/cpu/sgemm.h"
#include "core/ops.h"

using namespace pf;

namespace {

// The full model (configs/default.yaml) at batch 2.
constexpr int64_t kBatch = 2, kTokens = 232, kDim = 512, kHeads = 8, kHeadDim = 512, kFfnIn = 2048;
constexpr int64_t kRows = kBatch * kTokens;  // rows of the token stream [B * T, D]

constexpr double kF32Unit = 0x1p-24;   // unit roundoff of f32 (24-bit significand)
constexpr double kBf16Unit = 0x1p-8;   // unit roundoff of bf16 (8-bit significand)

// Bound on the relative error of an n-term sum (or n roundings in a row).
double gamma_n(int64_t n, double unit) { return double(n) * unit / (1 - double(n) * unit); }

std::vector<double> uniform(int64_t n, double low, double high, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(low, high);
  std::vector<double> values(static_cast<size_t>(n));
  for (double& v : values) v = dist(rng);
  return values;
}

// The values rounded to `dtype` as a tensor of that dtype.
Tensor tensor_of(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return ops::to(Tensor::from_vector(values, shape), dtype);
}

std::vector<double> values_of(const Tensor& t) { return ops::to(t, DType::f64).to_vector<double>(); }

// Compares got with want element by element within tolerance[i]; reports the
// count of failures, the first one and the largest error relative to its
// tolerance, so that a passing case reads as a report too.
void check_close(const std::string& what, const std::vector<double>& got, const std::vector<double>& want,
                 const std::vector<double>& tolerance) {
  REQUIRE(got.size() == want.size());
  int64_t wrong = 0;
  double worst = 0;  // max |got - want| / tolerance
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::abs(got[i] - want[i]);
    worst = std::max(worst, error / tolerance[i]);
    if (!(error <= tolerance[i]) && wrong++ == 0)
      FAIL_CHECK(what, ": element ", i, " is ", got[i], ", expected ", want[i], " within ", tolerance[i]);
  }
  CHECK_MESSAGE(wrong == 0, what, ": ", wrong, " of ", got.size(), " elements outside their tolerance");
  MESSAGE(what, ": largest error ", worst, " of its tolerance");
}

// ---- GEMM ----

// One product of the model: c [batch, M, N] = alpha * a [batch, M, K] @ b
// [batch, K, N], where a transposed operand is stored as its transpose and
// passed as a strided view, as autograd's matmul backward passes it.
struct GemmCase {
  const char* name;
  int64_t batch, M, N, K;
  bool a_transposed, b_transposed;
  double alpha;
};
const GemmCase kGemmCases[] = {
    {"FFN in, forward: x @ W", 1, kRows, kFfnIn, kDim, false, false, 1.0},
    {"FFN in, backward dx = dy @ W^T", 1, kRows, kDim, kFfnIn, false, true, 1.0},
    {"FFN in, backward dW = x^T @ dy", 1, kDim, kFfnIn, kRows, true, false, 1.0},
    {"attention scores: q @ k^T / sqrt(head_dim)", kBatch * kHeads, kTokens, kTokens, kHeadDim, false, true,
     1.0 / std::sqrt(double(kHeadDim))},
    {"attention context: p @ v", kBatch * kHeads, kTokens, kHeadDim, kTokens, false, false, 1.0},
};

// One operand: its values as the product reads them (row-major [batch, rows,
// cols], rounded to the dtype) and the tensor that holds them, stored
// transposed when `transposed`.
struct Operand {
  std::vector<double> values;
  Tensor stored;  // [batch, rows, cols], or [batch, cols, rows] when transposed
  bool transposed;
  int64_t rows, cols;

  Tensor view() const { return transposed ? ops::transpose(stored, -1, -2) : stored; }
  // Item `item` of the batch as cpu::sgemm reads it.
  cpu::ConstMatrix matrix(int64_t item) const {
    const int64_t stored_cols = transposed ? rows : cols;
    const void* data = static_cast<const char*>(stored.raw_data()) + item * rows * cols * dtype_size(stored.dtype());
    return transposed ? cpu::ConstMatrix{data, 1, stored_cols, stored.dtype()}
                      : cpu::ConstMatrix{data, stored_cols, 1, stored.dtype()};
  }
};

Operand make_operand(int64_t batch, int64_t rows, int64_t cols, bool transposed, DType dtype, unsigned seed) {
  const std::vector<double> drawn = uniform(batch * rows * cols, -1, 1, seed);
  const Tensor stored = tensor_of(drawn, transposed ? Shape{batch, cols, rows} : Shape{batch, rows, cols}, dtype);
  const Tensor logical = transposed ? ops::transpose(stored, -1, -2) : stored;
  return {values_of(ops::contiguous(logical)), stored, transposed, rows, cols};
}

// reference::gemm over the batch.
std::vector<double> reference_product(const GemmCase& g, const Operand& a, const Operand& b) {
  std::vector<double> c(static_cast<size_t>(g.batch * g.M * g.N));
  for (int64_t item = 0; item < g.batch; ++item)
    reference::gemm(g.M, g.N, g.K, g.alpha, a.values.data() + item * g.M * g.K, b.values.data() + item * g.K * g.N,
                    c.data() + item * g.M * g.N);
  return c;
}

// cpu::sgemm over the batch, c in `dtype`. c starts as NaN, not as reused
// memory that may hold the result of the product before: beta = 0 must
// overwrite every element without reading it.
std::vector<double> sgemm_product(const GemmCase& g, const Operand& a, const Operand& b, DType dtype) {
  const Tensor c = Tensor::full({g.batch, g.M, g.N}, std::nan(""), dtype);
  for (int64_t item = 0; item < g.batch; ++item) {
    void* c_item = static_cast<char*>(c.raw_data()) + item * g.M * g.N * dtype_size(dtype);
    cpu::sgemm(g.M, g.N, g.K, float(g.alpha), a.matrix(item), b.matrix(item), 0.0f, {c_item, g.N, dtype},
               /*parallel=*/false);
  }
  return values_of(c);
}

// Each output is a K-term sum of products, accumulated in f32 in some order:
// |c_ij - exact| <= gamma_{K+1} sum_k |alpha a_ik b_kj| (each product rounded
// once, then K - 1 additions), and sum_k |a_ik b_kj| <= |a_i.| |b_.j| (Cauchy-
// Schwarz: row i of a, column j of b), which costs no second product. A bf16
// result is then rounded once more: + u_bf16 (|exact| + that bound).
std::vector<double> gemm_tolerance(const GemmCase& g, const Operand& a, const Operand& b,
                                   const std::vector<double>& exact, DType out) {
  // Squared norms: row_norm [batch, M] of a's rows, column_norm [batch, N] of b's columns.
  std::vector<double> row_norm(static_cast<size_t>(g.batch * g.M), 0);
  std::vector<double> column_norm(static_cast<size_t>(g.batch * g.N), 0);
  for (int64_t item = 0; item < g.batch; ++item)
    for (int64_t k = 0; k < g.K; ++k) {
      for (int64_t i = 0; i < g.M; ++i)
        row_norm[size_t(item * g.M + i)] += std::pow(a.values[size_t((item * g.M + i) * g.K + k)], 2);
      for (int64_t j = 0; j < g.N; ++j)
        column_norm[size_t(item * g.N + j)] += std::pow(b.values[size_t((item * g.K + k) * g.N + j)], 2);
    }
  std::vector<double> tolerance(exact.size());
  for (int64_t item = 0; item < g.batch; ++item)
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j) {
        const size_t at = size_t((item * g.M + i) * g.N + j);
        const double f32_sum = gamma_n(g.K + 1, kF32Unit) * std::abs(g.alpha) *
                               std::sqrt(row_norm[size_t(item * g.M + i)] * column_norm[size_t(item * g.N + j)]);
        tolerance[at] = out == DType::bf16 ? f32_sum + kBf16Unit * (std::abs(exact[at]) + f32_sum) : f32_sum;
      }
  return tolerance;
}

void check_gemm(const GemmCase& g, DType dtype) {
  const std::string name = std::string(g.name) + " [" + std::to_string(g.batch) + " x " + std::to_string(g.M) + " x " +
                           std::to_string(g.N) + " x " + std::to_string(g.K) + "] in " + dtype_name(dtype);
  const Operand a = make_operand(g.batch, g.M, g.K, g.a_transposed, dtype, unsigned(g.M + g.K));
  const Operand b = make_operand(g.batch, g.K, g.N, g.b_transposed, dtype, unsigned(g.N * 7 + g.K));
  const std::vector<double> exact = reference_product(g, a, b);
  const std::vector<double> tolerance = gemm_tolerance(g, a, b, exact, dtype);
  check_close(name + ", pf::ops::matmul", values_of(ops::matmul(a.view(), b.view(), g.alpha)), exact, tolerance);
  check_close(name + ", cpu::sgemm", sgemm_product(g, a, b, dtype), exact, tolerance);
}

// ---- softmax (attention's, over the keys: rows [B * H * T], N = T) ----

constexpr int64_t kSoftmaxRows = kBatch * kHeads * kTokens, kSoftmaxN = kTokens;

}  // namespace

#if PF_HAVE_SGEMM
TEST_CASE("reference kernels: GEMM in f32 at the model's shapes") {
  for (const GemmCase& g : kGemmCases) check_gemm(g, DType::f32);
}

TEST_CASE("reference kernels: GEMM with bf16 operands at the model's shapes") {
  for (const GemmCase& g : kGemmCases) check_gemm(g, DType::bf16);
}
#endif

TEST_CASE("reference kernels: softmax forward and backward in f32 at attention's shape") {
  const int64_t R = kSoftmaxRows, N = kSoftmaxN;
  const Tensor x = tensor_of(uniform(R * N, -4, 4, 1), {R, N}, DType::f32);  // scores of a few units
  const Tensor dy = tensor_of(uniform(R * N, -1, 1, 2), {R, N}, DType::f32);
  const std::vector<double> xv = values_of(x), dyv = values_of(dy);

  const Tensor y = ops::softmax(x);
  std::vector<double> want(static_cast<size_t>(R * N));
  reference::softmax(R, N, xv.data(), want.data());
  // y_i = exp(x_i - m) / S, S = sum_j exp(x_j - m). x_i - m is rounded (an
  // absolute error u |x_i - m| in the exponent, the same relative error in
  // exp), exp itself adds a few roundings (Eigen's vectorised exp: we allow
  // 4 u), S is an N-term sum of such terms (gamma_N plus their largest error)
  // and y_i = exp * (1 / S) two more roundings: relative to y_i,
  // gamma_{N+10} + u (|x_i - m| + max_j |x_j - m|).
  std::vector<double> tolerance(want.size());
  for (int64_t r = 0; r < R; ++r) {
    const auto row = xv.begin() + r * N;
    const double m = *std::max_element(row, row + N), spread = m - *std::min_element(row, row + N);
    for (int64_t i = 0; i < N; ++i) {
      const size_t at = size_t(r * N + i);
      tolerance[at] = want[at] * (gamma_n(N + 10, kF32Unit) + kF32Unit * (m - xv[at] + spread));
    }
  }
  check_close("softmax forward [" + std::to_string(R) + ", " + std::to_string(N) + "]", values_of(y), want, tolerance);

  // Backward from the fast forward's y, the same input for both.
  const std::vector<double> yv = values_of(y);
  std::vector<double> dx_want(static_cast<size_t>(R * N));
  reference::softmax_backward(R, N, yv.data(), dyv.data(), dx_want.data());
  // dx_i = y_i (dy_i - dot), dot = sum_j y_j dy_j: the dot product is off by
  // gamma_N sum_j |y_j dy_j|, the subtraction and the product round once
  // each: gamma_{N+2} (|y_i| (sum_j |y_j dy_j| + |dy_i| + |dot|) + |dx_i|).
  for (int64_t r = 0; r < R; ++r) {
    double magnitude = 0, dot = 0;
    for (int64_t j = 0; j < N; ++j) {
      magnitude += std::abs(yv[size_t(r * N + j)] * dyv[size_t(r * N + j)]);
      dot += yv[size_t(r * N + j)] * dyv[size_t(r * N + j)];
    }
    for (int64_t i = 0; i < N; ++i) {
      const size_t at = size_t(r * N + i);
      tolerance[at] = gamma_n(N + 2, kF32Unit) *
                      (std::abs(yv[at]) * (magnitude + std::abs(dyv[at]) + std::abs(dot)) + std::abs(dx_want[at]));
    }
  }
  check_close("softmax backward", values_of(ops::softmax_backward(y, dy)), dx_want, tolerance);
}

TEST_CASE("reference kernels: layer norm forward and backward in f32 at the token stream's shape") {
  const int64_t R = kRows, N = kDim;
  const double eps = 1e-6;  // model.layer_norm_eps
  const Tensor x = tensor_of(uniform(R * N, -1.5, 2.5, 3), {R, N}, DType::f32);  // off-centre: the mean matters
  const Tensor gamma = tensor_of(uniform(N, 0.5, 1.5, 4), {N}, DType::f32);
  const Tensor beta = tensor_of(uniform(N, -0.5, 0.5, 5), {N}, DType::f32);
  const Tensor dy = tensor_of(uniform(R * N, -1, 1, 6), {R, N}, DType::f32);
  const std::vector<double> xv = values_of(x), gv = values_of(gamma), bv = values_of(beta), dyv = values_of(dy);

  const ops::LayerNormResult fast = ops::layer_norm(x, gamma, beta, eps);
  std::vector<double> y(static_cast<size_t>(R * N)), mean(static_cast<size_t>(R)), rstd(static_cast<size_t>(R));
  reference::layer_norm(R, N, xv.data(), gv.data(), bv.data(), eps, y.data(), mean.data(), rstd.data());
  // Every quantity goes through at most one N-term sum and fewer than 8
  // further roundings, so gamma_{N+8} bounds its relative error: the mean to
  // gamma_{N+8} mean|x|; rstd (the squared deviations' sum, + eps, sqrt,
  // divide) relatively; y_i = (x_i - mean) rstd gamma_i + beta_i to
  // gamma_{N+8} (|gamma_i| (rstd mean|x| + |xhat_i|) + |y_i|).
  const double g = gamma_n(N + 8, kF32Unit);
  std::vector<double> mean_tolerance(static_cast<size_t>(R)), rstd_tolerance(static_cast<size_t>(R));
  std::vector<double> y_tolerance(y.size());
  for (int64_t r = 0; r < R; ++r) {
    double mean_abs = 0;
    for (int64_t i = 0; i < N; ++i) mean_abs += std::abs(xv[size_t(r * N + i)]) / double(N);
    mean_tolerance[size_t(r)] = g * mean_abs;
    rstd_tolerance[size_t(r)] = g * rstd[size_t(r)];
    for (int64_t i = 0; i < N; ++i) {
      const size_t at = size_t(r * N + i);
      const double xhat = (xv[at] - mean[size_t(r)]) * rstd[size_t(r)];
      y_tolerance[at] =
          g * (std::abs(gv[size_t(i)]) * (rstd[size_t(r)] * mean_abs + std::abs(xhat)) + std::abs(y[at]));
    }
  }
  check_close("layer norm mean [" + std::to_string(R) + "]", values_of(fast.mean), mean, mean_tolerance);
  check_close("layer norm rstd", values_of(fast.rstd), rstd, rstd_tolerance);
  check_close("layer norm forward [" + std::to_string(R) + ", " + std::to_string(N) + "]", values_of(fast.y), y,
              y_tolerance);

  // Backward from the fast forward's mean and rstd, the same input for both.
  const std::vector<double> fast_mean = values_of(fast.mean), fast_rstd = values_of(fast.rstd);
  const ops::LayerNormGrads grads = ops::layer_norm_backward(x, gamma, fast.mean, fast.rstd, dy);
  std::vector<double> dx(static_cast<size_t>(R * N)), dgamma(static_cast<size_t>(N)), dbeta(static_cast<size_t>(N));
  reference::layer_norm_backward(R, N, xv.data(), gv.data(), fast_mean.data(), fast_rstd.data(), dyv.data(),
                                 dx.data(), dgamma.data(), dbeta.data());
  // dx_i = rstd (dxhat_i - mean(dxhat) - xhat_i mean(dxhat xhat)), dxhat =
  // dy gamma: two N-term means and a few roundings, so gamma_{N+8} (rstd
  // (|dxhat_i| + mean|dxhat| + |xhat_i| mean|dxhat xhat|) + |dx_i|).
  // dgamma_j = sum_r dy_rj xhat_rj and dbeta_j = sum_r dy_rj are R-term sums:
  // gamma_{R+8} sum_r |dy_rj xhat_rj| and gamma_{R+8} sum_r |dy_rj|.
  std::vector<double> dx_tolerance(dx.size());
  std::vector<double> dgamma_tolerance(static_cast<size_t>(N), 0), dbeta_tolerance(static_cast<size_t>(N), 0);
  const double g_rows = gamma_n(R + 8, kF32Unit);
  for (int64_t r = 0; r < R; ++r) {
    const double s = fast_rstd[size_t(r)];
    double mean_dxhat = 0, mean_dxhat_xhat = 0;  // of the magnitudes
    for (int64_t i = 0; i < N; ++i) {
      const size_t at = size_t(r * N + i);
      const double xhat = (xv[at] - fast_mean[size_t(r)]) * s;
      mean_dxhat += std::abs(dyv[at] * gv[size_t(i)]) / double(N);
      mean_dxhat_xhat += std::abs(dyv[at] * gv[size_t(i)] * xhat) / double(N);
      dgamma_tolerance[size_t(i)] += g_rows * std::abs(dyv[at] * xhat);
      dbeta_tolerance[size_t(i)] += g_rows * std::abs(dyv[at]);
    }
    for (int64_t i = 0; i < N; ++i) {
      const size_t at = size_t(r * N + i);
      const double xhat = (xv[at] - fast_mean[size_t(r)]) * s;
      dx_tolerance[at] =
          g * (s * (std::abs(dyv[at] * gv[size_t(i)]) + mean_dxhat + std::abs(xhat) * mean_dxhat_xhat) +
               std::abs(dx[at]));
    }
  }
  check_close("layer norm backward dx", values_of(grads.dx), dx, dx_tolerance);
  check_close("layer norm backward dgamma", values_of(grads.dgamma), dgamma, dgamma_tolerance);
  check_close("layer norm backward dbeta", values_of(grads.dbeta), dbeta, dbeta_tolerance);
}
