// Fused neural-network kernels on rows of the last dim: softmax, layer norm,
// SwiGLU, cross-entropy. Rows are independent, so threads split the rows.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {
constexpr int64_t kRowsPerThreadMin = 16;  // rows below which one thread does all

// One row as an Eigen array, for vectorised exp and reductions.
template <typename T>
using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
}  // namespace

void CpuBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "softmax", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* in = xp + r * N;
      T* out = yp + r * N;
      Row<T> y(out, N);
      const ConstRow<T> x(in, N);
      const T max = x.maxCoeff();  // subtracting the max keeps exp() finite
      y = (x - max).exp();         // Eigen's vectorised exp
      const T total = y.sum();
      if (log)
        y = x - (max + std::log(total));
      else
        y *= T(1) / total;
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  const int64_t N = y.size(-1), R = y.numel() / std::max<int64_t>(N, 1);
  dispatch_float(y.dtype(), "softmax_backward", [&]<typename T>() {
    const T* yp = y.data<T>();
    const T* gp = dy.data<T>();
    T* dp = dx.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* yr = yp + r * N;
      const T* gr = gp + r * N;
      T* dr = dp + r * N;
      if (log) {  // dx = dy - softmax * sum(dy)
        T total = 0;
        for (int64_t i = 0; i < N; ++i) total += gr[i];
        for (int64_t i = 0; i < N; ++i) dr[i] = gr[i] - std::exp(yr[i]) * total;
      } else {  // dx = y * (dy - sum(dy * y))
        T dot = 0;
        for (int64_t i = 0; i < N; ++i) dot += gr[i] * yr[i];
        for (int64_t i = 0; i < N; ++i) dr[i] = yr[i] * (gr[i] - dot);
      }
    }
  });
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "layer_norm", [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* g = gamma.data<T>();
    const T* b = beta.data<T>();
    T* yp = y.data<T>();
    T* mp = mean.data<T>();
    T* rp = rstd.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* in = xp + r * N;
      T* out = yp + r * N;
      T m = 0;
      for (int64_t i = 0; i < N; ++i) m += in[i];
      m /= T(N);
      T var = 0;  // two passes: the mean first, then squared deviations (stable)
      for (int64_t i = 0; i < N; ++i) var += (in[i] - m) * (in[i] - m);
      var /= T(N);
      T s = T(1) / std::sqrt(var + T(eps));
      for (int64_t i = 0; i < N; ++i) out[i] = (in[i] - m) * s * g[i] + b[i];
      mp[r] = m;
      rp[r] = s;
    }
  });
}

void CpuBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                     const Tensor& dy, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "layer_norm_backward", [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* g = gamma.data<T>();
    const T* mp = mean.data<T>();
    const T* rp = rstd.data<T>();
    const T* gp = dy.data<T>();
    T* dxp = dx.data<T>();
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma.
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* in = xp + r * N;
      const T* gr = gp + r * N;
      T* out = dxp + r * N;
      const T m = mp[r], s = rp[r];
      T mean_dxhat = 0, mean_dxhat_xhat = 0;
      for (int64_t i = 0; i < N; ++i) {
        T dxhat = gr[i] * g[i];
        mean_dxhat += dxhat;
        mean_dxhat_xhat += dxhat * (in[i] - m) * s;
      }
      mean_dxhat /= T(N);
      mean_dxhat_xhat /= T(N);
      for (int64_t i = 0; i < N; ++i) {
        T xhat = (in[i] - m) * s;
        out[i] = s * (gr[i] * g[i] - mean_dxhat - xhat * mean_dxhat_xhat);
      }
    }
    // dgamma = sum_r dy * xhat, dbeta = sum_r dy. Rows are summed in fixed
    // chunks (row-major, so memory is read in order), then the chunk sums are
    // added in chunk order: the same result for any thread count.
    const int64_t chunk = 64, chunks = (R + chunk - 1) / chunk;
    std::vector<T> partial(size_t(2 * chunks * N), T(0));  // [chunks, 2, N]
#pragma omp parallel for if (R * N > 32768)
    for (int64_t c = 0; c < chunks; ++c) {
      T* sg = partial.data() + 2 * c * N;
      T* sb = sg + N;
      for (int64_t r = c * chunk; r < std::min(R, (c + 1) * chunk); ++r) {
        const T* in = xp + r * N;
        const T* grad = gp + r * N;
        const T m = mp[r], s = rp[r];
        for (int64_t i = 0; i < N; ++i) {
          sg[i] += grad[i] * (in[i] - m) * s;
          sb[i] += grad[i];
        }
      }
    }
    T* dg = dgamma.data<T>();
    T* db = dbeta.data<T>();
    std::fill(dg, dg + N, T(0));
    std::fill(db, db + N, T(0));
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t i = 0; i < N; ++i) {
        dg[i] += partial[size_t(2 * c * N + i)];
        db[i] += partial[size_t((2 * c + 1) * N + i)];
      }
  });
}

void CpuBackend::swiglu(const Tensor& x, const Tensor& y) {
  const int64_t N = y.size(-1), R = y.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "swiglu", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const ConstRow<T> a(xp + r * 2 * N, N);  // first half
      const ConstRow<T> g(xp + r * 2 * N + N, N);  // second half, the gate
      Row<T>(yp + r * N, N) = a * g / (T(1) + (-g).exp());
    }
  });
}

void CpuBackend::swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const int64_t N = dy.size(-1), R = dy.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "swiglu_backward", [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* gp = dy.data<T>();
    T* dp = dx.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* a = xp + r * 2 * N;
      const T* g = a + N;
      const T* grad = gp + r * N;
      T* da = dp + r * 2 * N;
      T* dg = da + N;
      for (int64_t i = 0; i < N; ++i) {
        T s = T(1) / (T(1) + std::exp(-g[i]));
        T silu = g[i] * s;
        da[i] = grad[i] * silu;
        dg[i] = grad[i] * a[i] * s * (T(1) + g[i] * (T(1) - s));  // d silu(g) / dg
      }
    }
  });
}

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) {
  const int64_t C = logits.size(-1), R = logits.numel() / std::max<int64_t>(C, 1);
  dispatch_float(logits.dtype(), "cross_entropy", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy", [&]<typename I>() {
      const T* lp = logits.data<T>();
      const I* tp = targets.data<I>();
      T* out = loss.data<T>();
      check_ids(tp, R, C, "cross_entropy");
#pragma omp parallel for if (R > 1024)
      for (int64_t r = 0; r < R; ++r) {
        const T* row = lp + r * C;
        T max = *std::max_element(row, row + C);
        T total = 0;
        for (int64_t c = 0; c < C; ++c) total += std::exp(row[c] - max);
        out[r] = max + std::log(total) - row[tp[r]];
      }
    });
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                                        const Tensor& dlogits) {
  const int64_t C = logits.size(-1), R = logits.numel() / std::max<int64_t>(C, 1);
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy_backward", [&]<typename I>() {
      const T* lp = logits.data<T>();
      const I* tp = targets.data<I>();
      const T* gp = dloss.data<T>();
      T* dp = dlogits.data<T>();
      check_ids(tp, R, C, "cross_entropy");
#pragma omp parallel for if (R > 1024)
      for (int64_t r = 0; r < R; ++r) {
        const T* row = lp + r * C;
        T* out = dp + r * C;
        T max = *std::max_element(row, row + C);
        T total = 0;
        for (int64_t c = 0; c < C; ++c) total += std::exp(row[c] - max);
        for (int64_t c = 0; c < C; ++c) out[c] = gp[r] * (std::exp(row[c] - max) / total - (c == tp[r] ? T(1) : T(0)));
      }
    });
  });
}

}  // namespace pf
