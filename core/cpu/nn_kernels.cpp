// Fused neural-network kernels on rows of the last dim: softmax, layer norm,
// SwiGLU, cross-entropy. Rows are independent, so threads split the rows.
// Tensors may hold f32, f64, bf16 or f16; the arithmetic is in C =
// compute_t<T> (f32 for the half types, which are loaded and stored per row
// or per element: see RowIn/RowOut in kernel_helpers.h).
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

namespace {

// y = softmax(x) (log_softmax where log) of one row of N compute-type values;
// the one formula of the forward pass and of softmax_backward_recompute.
template <typename C>
void softmax_row(const C* x_in, C* y_out, int64_t N, bool log) {
  const ConstRow<C> x(x_in, N);
  Row<C> y(y_out, N);
  const C max = x.maxCoeff();  // subtracting the max keeps exp() finite
  y = (x - max).exp();         // Eigen's vectorised exp
  const C total = y.sum();
  if (log)
    y = x - (max + std::log(total));
  else
    y *= C(1) / total;
}

// dx from y = softmax(x) (or log_softmax) and dy, one row of N.
template <typename C>
void softmax_backward_row(const C* y, const C* dy, C* dx, int64_t N, bool log) {
  if (log) {  // dx = dy - softmax * sum(dy)
    C total = 0;
    for (int64_t i = 0; i < N; ++i) total += dy[i];
    for (int64_t i = 0; i < N; ++i) dx[i] = dy[i] - std::exp(y[i]) * total;
  } else {  // dx = y * (dy - sum(dy * y))
    C dot = 0;
    for (int64_t i = 0; i < N; ++i) dot += dy[i] * y[i];
    for (int64_t i = 0; i < N; ++i) dx[i] = y[i] * (dy[i] - dot);
  }
}

}  // namespace

void CpuBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float_or_half(x.dtype(), "softmax", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> in(xp + r * N, N, 0);
      RowOut<T> out(yp + r * N, N, 1);
      softmax_row(in.data(), out.data(), N, log);
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  const int64_t N = y.size(-1), R = y.numel() / std::max<int64_t>(N, 1);
  dispatch_float_or_half(y.dtype(), "softmax_backward", [&]<typename T>() {
    const T* yp = y.data<T>();
    const T* gp = dy.data<T>();
    T* dp = dx.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> y_row(yp + r * N, N, 0), dy_row(gp + r * N, N, 1);
      RowOut<T> dx_row(dp + r * N, N, 2);
      softmax_backward_row(y_row.data(), dy_row.data(), dx_row.data(), N, log);
    }
  });
}

void CpuBackend::softmax_backward_recompute(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_float_or_half(x.dtype(), "softmax_backward_recompute", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    const T* gp = dy.data<T>();
    T* dp = dx.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      thread_local std::vector<C> y;  // the row's probabilities, in the compute type
      y.resize(size_t(N));
      RowIn<T> x_row(xp + r * N, N, 0), dy_row(gp + r * N, N, 1);
      RowOut<T> dx_row(dp + r * N, N, 2);
      softmax_row(x_row.data(), y.data(), N, false);
      softmax_backward_row(y.data(), dy_row.data(), dx_row.data(), N, false);
    }
  });
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_mixed(x.dtype(), y.dtype(), "layer_norm", [&]<typename T, typename TY>() {
    using C = compute_t<T>;  // mean and rstd are stored as C too
    const T* xp = x.data<T>();
    const RowIn<T> g(gamma.data<T>(), N, 2), b(beta.data<T>(), N, 3);
    TY* yp = y.data<TY>();
    C* mp = mean.data<C>();
    C* rp = rstd.data<C>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> in_row(xp + r * N, N, 0);
      const C* in = in_row.data();
      C m = 0;
      for (int64_t i = 0; i < N; ++i) m += in[i];
      m /= C(N);
      C var = 0;  // two passes: the mean first, then squared deviations (stable)
      for (int64_t i = 0; i < N; ++i) var += (in[i] - m) * (in[i] - m);
      var /= C(N);
      C s = C(1) / std::sqrt(var + C(eps));
      for (int64_t i = 0; i < N; ++i) yp[r * N + i] = store<TY>((in[i] - m) * s * g.data()[i] + b.data()[i]);
      mp[r] = m;
      rp[r] = s;
    }
  });
}

void CpuBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                     const Tensor& dy, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                                     const Tensor& dbeta) {
  const int64_t N = x.size(-1), R = x.numel() / std::max<int64_t>(N, 1);
  dispatch_mixed(x.dtype(), dy.dtype(), "layer_norm_backward", [&]<typename T, typename TY>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    const RowIn<T> g_row(gamma.data<T>(), N, 3);
    const C* g = g_row.data();
    const C* mp = mean.data<C>();
    const C* rp = rstd.data<C>();
    const TY* gp = dy.data<TY>();
    const T* addp = dx_add.defined() ? dx_add.data<T>() : nullptr;
    T* dxp = dx.data<T>();
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma, then
    // dx_add added where given (to dx rounded to T, as a separate add would read it).
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> in_row(xp + r * N, N, 0);
      RowIn<TY> grad_row(gp + r * N, N, 1);
      RowOut<T> out_row(dxp + r * N, N, 2);
      const C* in = in_row.data();
      const C* gr = grad_row.data();
      C* out = out_row.data();
      const C m = mp[r], s = rp[r];
      C mean_dxhat = 0, mean_dxhat_xhat = 0;
      for (int64_t i = 0; i < N; ++i) {
        C dxhat = gr[i] * g[i];
        mean_dxhat += dxhat;
        mean_dxhat_xhat += dxhat * (in[i] - m) * s;
      }
      mean_dxhat /= C(N);
      mean_dxhat_xhat /= C(N);
      for (int64_t i = 0; i < N; ++i) {
        C xhat = (in[i] - m) * s;
        out[i] = s * (gr[i] * g[i] - mean_dxhat - xhat * mean_dxhat_xhat);
      }
      if (addp)
        for (int64_t i = 0; i < N; ++i) out[i] = load(store<T>(out[i])) + load(addp[r * N + i]);
    }
    // dgamma = sum_r dy * xhat, dbeta = sum_r dy. Rows are summed in fixed
    // chunks (row-major, so memory is read in order), then the chunk sums are
    // added in chunk order: the same result for any thread count.
    const int64_t chunk = 64, chunks = (R + chunk - 1) / chunk;
    std::vector<C> partial(size_t(2 * chunks * N), C(0));  // [chunks, 2, N]
#pragma omp parallel for if (R * N > kParallelThreshold)
    for (int64_t c = 0; c < chunks; ++c) {
      C* sg = partial.data() + 2 * c * N;
      C* sb = sg + N;
      for (int64_t r = c * chunk; r < std::min(R, (c + 1) * chunk); ++r) {
        RowIn<T> in_row(xp + r * N, N, 0);
        RowIn<TY> grad_row(gp + r * N, N, 1);
        const C* in = in_row.data();
        const C* grad = grad_row.data();
        const C m = mp[r], s = rp[r];
        for (int64_t i = 0; i < N; ++i) {
          sg[i] += grad[i] * (in[i] - m) * s;
          sb[i] += grad[i];
        }
      }
    }
    RowOut<T> dg_row(dgamma.data<T>(), N, 0), db_row(dbeta.data<T>(), N, 1);
    C* dg = dg_row.data();
    C* db = db_row.data();
    std::fill(dg, dg + N, C(0));
    std::fill(db, db + N, C(0));
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t i = 0; i < N; ++i) {
        dg[i] += partial[size_t(2 * c * N + i)];
        db[i] += partial[size_t((2 * c + 1) * N + i)];
      }
  });
}

void CpuBackend::swiglu(const Tensor& x, const Tensor& y) {
  const int64_t N = y.size(-1), R = y.numel() / std::max<int64_t>(N, 1);
  dispatch_float_or_half(x.dtype(), "swiglu", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> row(xp + r * 2 * N, 2 * N, 0);
      RowOut<T> out(yp + r * N, N, 1);
      const ConstRow<C> a(row.data(), N);      // first half
      const ConstRow<C> g(row.data() + N, N);  // second half, the gate
      Row<C>(out.data(), N) = a * g / (C(1) + (-g).exp());
    }
  });
}

void CpuBackend::swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const int64_t N = dy.size(-1), R = dy.numel() / std::max<int64_t>(N, 1);
  dispatch_float_or_half(x.dtype(), "swiglu_backward", [&]<typename T>() {
    using C = compute_t<T>;
    const T* xp = x.data<T>();
    const T* gp = dy.data<T>();
    T* dp = dx.data<T>();
#pragma omp parallel for if (R > kRowsPerThreadMin)
    for (int64_t r = 0; r < R; ++r) {
      RowIn<T> x_row(xp + r * 2 * N, 2 * N, 0), grad_row(gp + r * N, N, 1);
      RowOut<T> out(dp + r * 2 * N, 2 * N, 2);
      const ConstRow<C> a(x_row.data(), N), g(x_row.data() + N, N), grad(grad_row.data(), N);
      Row<C> da(out.data(), N), dg(out.data() + N, N);
      da = C(1) / (C(1) + (-g).exp());                // sigmoid(g), held in da until the last line
      dg = grad * a * da * (C(1) + g * (C(1) - da));  // d silu(g) / dg = s (1 + g (1 - s))
      da = grad * g * da;                             // silu(g) = g s
    }
  });
}

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) {
  const int64_t C = logits.size(-1), R = logits.numel() / std::max<int64_t>(C, 1);
  dispatch_float_or_half(logits.dtype(), "cross_entropy", [&]<typename T>() {
    using F = compute_t<T>;
    dispatch_index(targets.dtype(), "cross_entropy", [&]<typename I>() {
      const T* lp = logits.data<T>();
      const I* tp = targets.data<I>();
      T* out = loss.data<T>();
      check_ids(tp, R, C, "cross_entropy");
#pragma omp parallel for if (R > 1024)
      for (int64_t r = 0; r < R; ++r) {
        RowIn<T> row_in(lp + r * C, C, 0);
        const F* row = row_in.data();
        F max = *std::max_element(row, row + C);
        F total = 0;
        for (int64_t c = 0; c < C; ++c) total += std::exp(row[c] - max);
        out[r] = store<T>(max + std::log(total) - row[tp[r]]);
      }
    });
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                                        const Tensor& dlogits) {
  const int64_t C = logits.size(-1), R = logits.numel() / std::max<int64_t>(C, 1);
  dispatch_float_or_half(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    using F = compute_t<T>;
    dispatch_index(targets.dtype(), "cross_entropy_backward", [&]<typename I>() {
      const T* lp = logits.data<T>();
      const I* tp = targets.data<I>();
      const T* gp = dloss.data<T>();
      T* dp = dlogits.data<T>();
      check_ids(tp, R, C, "cross_entropy");
#pragma omp parallel for if (R > 1024)
      for (int64_t r = 0; r < R; ++r) {
        RowIn<T> row_in(lp + r * C, C, 0);
        RowOut<T> row_out(dp + r * C, C, 1);
        const F* row = row_in.data();
        F* out = row_out.data();
        const F dl = load(gp[r]);
        F max = *std::max_element(row, row + C);
        F total = 0;
        for (int64_t c = 0; c < C; ++c) total += std::exp(row[c] - max);
        for (int64_t c = 0; c < C; ++c) out[c] = dl * (std::exp(row[c] - max) / total - (c == tp[r] ? F(1) : F(0)));
      }
    });
  });
}

}  // namespace pf
