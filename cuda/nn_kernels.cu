// Fused neural-network kernels on rows of the last dim: softmax, layer norm,
// SwiGLU, cross-entropy. The formulas are those of core/cpu/nn_kernels.cpp.
// Row kernels run one block per row r (launched with R blocks); thread t
// handles the columns t, t + kThreads, t + 2 * kThreads, ... and block_reduce
// combines the threads' partial sums/maxima.
#include <algorithm>

#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

// Maximum and sum of exp(x - max) over one row of N values.
template <typename T>
struct RowExpSum {
  T max, total;
};

template <typename T>
__device__ RowExpSum<T> row_exp_sum(const T* row, int64_t N) {
  T m = Max<T>::identity();
  for (int64_t i = threadIdx.x; i < N; i += kThreads) m = Max<T>{}(m, row[i]);
  m = block_reduce(m, Max<T>{});  // subtracting the max keeps exp() finite
  T total = 0;
  for (int64_t i = threadIdx.x; i < N; i += kThreads) total += exp(row[i] - m);
  return {m, block_reduce(total, Sum<T>{})};
}

// x, y [R, N].
template <typename T>
__global__ void softmax_kernel(const T* x, T* y, int64_t N, bool log_softmax) {
  const T* in = x + blockIdx.x * N;
  T* out = y + blockIdx.x * N;
  const RowExpSum<T> s = row_exp_sum(in, N);
  if (log_softmax) {
    const T log_total = log(s.total);
    for (int64_t i = threadIdx.x; i < N; i += kThreads) out[i] = in[i] - s.max - log_total;
  } else {
    const T inv = T(1) / s.total;
    for (int64_t i = threadIdx.x; i < N; i += kThreads) out[i] = exp(in[i] - s.max) * inv;
  }
}

// y, dy, dx [R, N].
template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t N, bool log_softmax) {
  const int64_t row = blockIdx.x * N;
  if (log_softmax) {  // dx = dy - softmax * sum(dy)
    T total = 0;
    for (int64_t i = threadIdx.x; i < N; i += kThreads) total += dy[row + i];
    total = block_reduce(total, Sum<T>{});
    for (int64_t i = threadIdx.x; i < N; i += kThreads) dx[row + i] = dy[row + i] - exp(y[row + i]) * total;
  } else {  // dx = y * (dy - sum(dy * y))
    T dot = 0;
    for (int64_t i = threadIdx.x; i < N; i += kThreads) dot += dy[row + i] * y[row + i];
    dot = block_reduce(dot, Sum<T>{});
    for (int64_t i = threadIdx.x; i < N; i += kThreads) dx[row + i] = y[row + i] * (dy[row + i] - dot);
  }
}

// x, y [R, N]; gamma, beta [N]; mean, rstd [R]. Two passes: the mean first,
// then the squared deviations.
template <typename T>
__global__ void layer_norm_kernel(const T* x, const T* gamma, const T* beta, T eps, int64_t N, T* y, T* mean, T* rstd) {
  const int64_t r = blockIdx.x;
  const T* in = x + r * N;
  T* out = y + r * N;
  T total = 0;
  for (int64_t i = threadIdx.x; i < N; i += kThreads) total += in[i];
  const T m = block_reduce(total, Sum<T>{}) / T(N);
  T squares = 0;
  for (int64_t i = threadIdx.x; i < N; i += kThreads) squares += (in[i] - m) * (in[i] - m);
  const T s = T(1) / sqrt(block_reduce(squares, Sum<T>{}) / T(N) + eps);
  for (int64_t i = threadIdx.x; i < N; i += kThreads) out[i] = (in[i] - m) * s * gamma[i] + beta[i];
  if (threadIdx.x == 0) {
    mean[r] = m;
    rstd[r] = s;
  }
}

// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma.
// x, dy, dx [R, N]; gamma [N]; mean, rstd [R].
template <typename T>
__global__ void layer_norm_backward_kernel(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx,
                                           int64_t N) {
  const int64_t r = blockIdx.x;
  const T* in = x + r * N;
  const T* grad = dy + r * N;
  const T m = mean[r], s = rstd[r];
  T sum_dxhat = 0, sum_dxhat_xhat = 0;
  for (int64_t i = threadIdx.x; i < N; i += kThreads) {
    const T dxhat = grad[i] * gamma[i];
    sum_dxhat += dxhat;
    sum_dxhat_xhat += dxhat * (in[i] - m) * s;
  }
  const T mean_dxhat = block_reduce(sum_dxhat, Sum<T>{}) / T(N);
  const T mean_dxhat_xhat = block_reduce(sum_dxhat_xhat, Sum<T>{}) / T(N);
  for (int64_t i = threadIdx.x; i < N; i += kThreads) {
    const T xhat = (in[i] - m) * s;
    dx[r * N + i] = s * (grad[i] * gamma[i] - mean_dxhat - xhat * mean_dxhat_xhat);
  }
}

// Term for dgamma [N] = sum over rows r of dy[r, i] * xhat[r, i], reduced with
// launch_reduce as [outer = 1, n = R, inner = N].
template <typename T>
struct LayerNormGammaGrad {
  const T *x, *dy, *mean, *rstd;
  int64_t N;
  __device__ T operator()(int64_t, int64_t r, int64_t i) const {
    return dy[r * N + i] * (x[r * N + i] - mean[r]) * rstd[r];
  }
};

// x [R, 2N] = [a | g] -> y [R, N]. One thread per element i = r * N + c of y.
template <typename T>
__global__ void swiglu_kernel(const T* x, T* y, int64_t N, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t r = i / N, c = i % N;
  const T a = x[r * 2 * N + c], g = x[r * 2 * N + N + c];
  y[i] = a * g / (T(1) + exp(-g));
}

// dx [R, 2N] = [da | dg] from x [R, 2N] and dy [R, N]; thread i = r * N + c as above.
template <typename T>
__global__ void swiglu_backward_kernel(const T* x, const T* dy, T* dx, int64_t N, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t r = i / N, c = i % N;
  const T a = x[r * 2 * N + c], g = x[r * 2 * N + N + c];
  const T s = T(1) / (T(1) + exp(-g));
  const T silu = g * s;
  dx[r * 2 * N + c] = dy[i] * silu;
  dx[r * 2 * N + N + c] = dy[i] * a * s * (T(1) + g * (T(1) - s));  // d silu(g) / dg
}

// loss[r] = logsumexp(logits[r]) - logits[r, targets[r]]. logits [R, C]; targets, loss [R].
template <typename T, typename I>
__global__ void cross_entropy_kernel(const T* logits, const I* targets, T* loss, int64_t C, IndexErrorSink errors) {
  const int64_t r = blockIdx.x;
  const T* row = logits + r * C;
  const RowExpSum<T> s = row_exp_sum(row, C);
  if (threadIdx.x != 0) return;
  const int64_t target = int64_t(targets[r]);
  if (target < 0 || target >= C) {
    errors.report(r, target, C);
    loss[r] = T(NAN);
    return;
  }
  loss[r] = s.max + log(s.total) - row[target];
}

// dlogits[r, c] = dloss[r] * (softmax(logits[r])[c] - (c == targets[r])). All rows [R, C].
template <typename T, typename I>
__global__ void cross_entropy_backward_kernel(const T* logits, const I* targets, const T* dloss, T* dlogits, int64_t C,
                                              IndexErrorSink errors) {
  const int64_t r = blockIdx.x;
  const T* row = logits + r * C;
  const RowExpSum<T> s = row_exp_sum(row, C);
  const int64_t target = int64_t(targets[r]);
  if (threadIdx.x == 0 && (target < 0 || target >= C)) errors.report(r, target, C);
  for (int64_t c = threadIdx.x; c < C; c += kThreads)
    dlogits[r * C + c] = dloss[r] * (exp(row[c] - s.max) / s.total - (c == target ? T(1) : T(0)));
}

// Rows R and row length N of a tensor viewed as [R, N] (N = the last dim).
struct Rows {
  int64_t R, N;
};
Rows rows_of(const Tensor& t) {
  const int64_t N = t.size(-1);
  return {t.numel() / std::max<int64_t>(N, 1), N};
}

}  // namespace

void CudaBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  const Rows rows = rows_of(x);
  dispatch_float(x.dtype(), "softmax", [&]<typename T>() {
    launch(stream_, rows.R, softmax_kernel<T>, x.data<T>(), y.data<T>(), rows.N, log);
  });
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  const Rows rows = rows_of(y);
  dispatch_float(y.dtype(), "softmax_backward", [&]<typename T>() {
    launch(stream_, rows.R, softmax_backward_kernel<T>, y.data<T>(), dy.data<T>(), dx.data<T>(), rows.N, log);
  });
}

void CudaBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                             const Tensor& mean, const Tensor& rstd) {
  const Rows rows = rows_of(x);
  dispatch_float(x.dtype(), "layer_norm", [&]<typename T>() {
    launch(stream_, rows.R, layer_norm_kernel<T>, x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps), rows.N,
           y.data<T>(), mean.data<T>(), rstd.data<T>());
  });
}

void CudaBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                      const Tensor& dy, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  const Rows rows = rows_of(x);
  dispatch_float(x.dtype(), "layer_norm_backward", [&]<typename T>() {
    launch(stream_, rows.R, layer_norm_backward_kernel<T>, x.data<T>(), gamma.data<T>(), mean.data<T>(), rstd.data<T>(),
           dy.data<T>(), dx.data<T>(), rows.N);
    // dgamma = sum_r dy * xhat, dbeta = sum_r dy: column sums of [R, N].
    launch_reduce(stream_, LayerNormGammaGrad<T>{x.data<T>(), dy.data<T>(), mean.data<T>(), rstd.data<T>(), rows.N},
                  Sum<T>{}, 1, rows.R, rows.N, dgamma.data<T>());
    launch_reduce(stream_, ReadMiddle<T>{dy.data<T>(), rows.R, rows.N}, Sum<double>{}, 1, rows.R, rows.N,
                  dbeta.data<T>());
  });
}

void CudaBackend::swiglu(const Tensor& x, const Tensor& y) {
  const Rows rows = rows_of(y);
  dispatch_float(x.dtype(), "swiglu", [&]<typename T>() {
    const int64_t n = y.numel();
    launch(stream_, blocks_for(n), swiglu_kernel<T>, x.data<T>(), y.data<T>(), rows.N, n);
  });
}

void CudaBackend::swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const Rows rows = rows_of(dy);
  dispatch_float(x.dtype(), "swiglu_backward", [&]<typename T>() {
    const int64_t n = dy.numel();
    launch(stream_, blocks_for(n), swiglu_backward_kernel<T>, x.data<T>(), dy.data<T>(), dx.data<T>(), rows.N, n);
  });
}

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) {
  const Rows rows = rows_of(logits);
  dispatch_float(logits.dtype(), "cross_entropy", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy", [&]<typename I>() {
      launch(stream_, rows.R, cross_entropy_kernel<T, I>, logits.data<T>(), targets.data<I>(), loss.data<T>(), rows.N,
             IndexErrorSink{index_error_device_, "cross_entropy"});
    });
  });
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                                         const Tensor& dlogits) {
  const Rows rows = rows_of(logits);
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy_backward", [&]<typename I>() {
      launch(stream_, rows.R, cross_entropy_backward_kernel<T, I>, logits.data<T>(), targets.data<I>(), dloss.data<T>(),
             dlogits.data<T>(), rows.N, IndexErrorSink{index_error_device_, "cross_entropy"});
    });
  });
}

}  // namespace pf::cuda
