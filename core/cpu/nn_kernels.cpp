// Fused neural-network kernels on rows of the last dim: softmax, layer norm,
// SwiGLU, cross-entropy. Rows are independent, so threads split the rows.
#include <algorithm>
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace pf {

namespace {
constexpr int64_t kRowsPerThreadMin = 16;  // rows below which one thread does all
}

void CpuBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float(x.dtype(), "softmax", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      const T* in = xp + r * N;
      T* out = yp + r * N;
      T max = *std::max_element(in, in + N);  // subtracting the max keeps exp() finite
      T total = 0;
      for (int64_t i = 0; i < N; ++i) {
        out[i] = std::exp(in[i] - max);
        total += out[i];
      }
      if (log) {
        T log_total = std::log(total);
        for (int64_t i = 0; i < N; ++i) out[i] = in[i] - max - log_total;
      } else {
        T inv = T(1) / total;
        for (int64_t i = 0; i < N; ++i) out[i] *= inv;
      }
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
    // dgamma = sum_r dy * xhat, dbeta = sum_r dy: threads split the columns.
    T* dg = dgamma.data<T>();
    T* db = dbeta.data<T>();
#pragma omp parallel for if (R * N > 32768)
    for (int64_t i = 0; i < N; ++i) {
      T sg = 0, sb = 0;
      for (int64_t r = 0; r < R; ++r) {
        T grad = gp[r * N + i];
        sg += grad * (xp[r * N + i] - mp[r]) * rp[r];
        sb += grad;
      }
      dg[i] = sg;
      db[i] = sb;
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
      const T* a = xp + r * 2 * N;  // first half
      const T* g = a + N;           // second half, the gate
      T* out = yp + r * N;
      for (int64_t i = 0; i < N; ++i) out[i] = a[i] * g[i] / (T(1) + std::exp(-g[i]));
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
