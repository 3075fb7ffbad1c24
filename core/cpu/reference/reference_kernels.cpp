#include "core/cpu/reference/reference_kernels.h"

#include <cmath>

namespace pf::reference {

void gemm(int64_t M, int64_t N, int64_t K, double alpha, const double* a, const double* b, double* c) {
  // Row i of c is the sum over k of a[i, k] times row k of b: the same sums as
  // c[i, j] = sum_k a[i, k] b[k, j], in an order that reads b row by row.
  for (int64_t i = 0; i < M; ++i) {
    double* c_row = c + i * N;
    for (int64_t j = 0; j < N; ++j) c_row[j] = 0;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) c_row[j] += a[i * K + k] * b[k * N + j];
    for (int64_t j = 0; j < N; ++j) c_row[j] *= alpha;
  }
}

void softmax(int64_t R, int64_t N, const double* x, double* y) {
  for (int64_t r = 0; r < R; ++r) {
    const double* xr = x + r * N;
    double* yr = y + r * N;
    double max = xr[0];  // exp(x - max) <= 1: no overflow
    for (int64_t i = 1; i < N; ++i) max = std::fmax(max, xr[i]);
    double total = 0;
    for (int64_t i = 0; i < N; ++i) total += std::exp(xr[i] - max);
    for (int64_t i = 0; i < N; ++i) yr[i] = std::exp(xr[i] - max) / total;
  }
}

void softmax_backward(int64_t R, int64_t N, const double* y, const double* dy, double* dx) {
  for (int64_t r = 0; r < R; ++r) {
    const double* yr = y + r * N;
    const double* gr = dy + r * N;
    double dot = 0;  // dx_i = y_i * (dy_i - sum_j y_j dy_j)
    for (int64_t j = 0; j < N; ++j) dot += yr[j] * gr[j];
    for (int64_t i = 0; i < N; ++i) dx[r * N + i] = yr[i] * (gr[i] - dot);
  }
}

void layer_norm(int64_t R, int64_t N, const double* x, const double* gamma, const double* beta, double eps, double* y,
                double* mean, double* rstd) {
  for (int64_t r = 0; r < R; ++r) {
    const double* xr = x + r * N;
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) sum += xr[i];
    const double m = sum / double(N);
    double squares = 0;
    for (int64_t i = 0; i < N; ++i) squares += (xr[i] - m) * (xr[i] - m);
    const double s = 1 / std::sqrt(squares / double(N) + eps);
    for (int64_t i = 0; i < N; ++i) y[r * N + i] = (xr[i] - m) * s * gamma[i] + beta[i];
    mean[r] = m;
    rstd[r] = s;
  }
}

void layer_norm_backward(int64_t R, int64_t N, const double* x, const double* gamma, const double* mean,
                         const double* rstd, const double* dy, double* dx, double* dgamma, double* dbeta) {
  for (int64_t i = 0; i < N; ++i) dgamma[i] = dbeta[i] = 0;
  for (int64_t r = 0; r < R; ++r) {
    const double* xr = x + r * N;
    const double* gr = dy + r * N;
    // xhat = (x - mean) * rstd, dxhat = dy * gamma:
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    double mean_dxhat = 0, mean_dxhat_xhat = 0;
    for (int64_t i = 0; i < N; ++i) {
      const double xhat = (xr[i] - mean[r]) * rstd[r];
      mean_dxhat += gr[i] * gamma[i] / double(N);
      mean_dxhat_xhat += gr[i] * gamma[i] * xhat / double(N);
    }
    for (int64_t i = 0; i < N; ++i) {
      const double xhat = (xr[i] - mean[r]) * rstd[r];
      dx[r * N + i] = rstd[r] * (gr[i] * gamma[i] - mean_dxhat - xhat * mean_dxhat_xhat);
      dgamma[i] += gr[i] * xhat;
      dbeta[i] += gr[i];
    }
  }
}

}  // namespace pf::reference
