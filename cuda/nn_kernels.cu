// Fused neural-network kernels on rows of the last dim: softmax, layer norm,
// SwiGLU, cross-entropy. The formulas are those of core/cpu/nn_kernels.cpp.
// Every kernel is templated on the storage type T (f32, f64, bf16, f16) and
// computes in A = compute_t<T> (f32 for the half types): load, compute, store.
//
// Row kernels take [R, N] with a team of threads per row (RowTeam): a warp
// per row when the row is short (N <= kWarpRowMax: attention's 232 scores,
// the model's 512 features), 8 rows per 256-thread block, so a row's sums and
// maxima are warp shuffles only; a whole block per row when it is longer. Lane
// l of a team of size S handles the columns l, l + S, l + 2 S, ...
#include <algorithm>

#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

constexpr int64_t kWarpRowMax = 1024;  // longest row one warp reduces alone (32 columns per lane)
constexpr int kRowsPerBlock = kThreads / 32;

// This thread's place in its row's team.
struct RowTeam {
  int64_t row;  // which row (may be >= R for the last block's spare warps: they return)
  int lane;     // index in the team
  int size;     // team size: 32 or blockDim.x
};

template <bool kWarpPerRow>
__device__ RowTeam row_team() {
  if constexpr (kWarpPerRow)
    return {int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32, int(threadIdx.x % 32), 32};
  else
    return {int64_t(blockIdx.x), int(threadIdx.x), int(blockDim.x)};
}

// Combines one value from each member of the team; every member gets the result.
template <bool kWarpPerRow, typename A, typename Combine>
__device__ A team_reduce(A v, Combine combine) {
  if constexpr (kWarpPerRow)
    return warp_reduce(v, combine);
  else
    return block_reduce(v, combine);
}

// Launches kernel<T, true> (a warp per row) or kernel<T, false> (a block per
// row) over R rows of N; the kernels take R last, after `args`.
template <typename WarpKernel, typename BlockKernel, typename... Args>
void launch_rows(cudaStream_t stream, int64_t R, int64_t N, WarpKernel warp_kernel, BlockKernel block_kernel,
                 const Args&... args) {
  if (N <= kWarpRowMax)
    launch(stream, (R + kRowsPerBlock - 1) / kRowsPerBlock, warp_kernel, args..., R);
  else
    launch(stream, R, block_kernel, args..., R);
}

// Maximum and sum of exp(x - max) over one row of N values.
template <typename A>
struct RowExpSum {
  A max, total;
};

template <bool kWarpPerRow, typename T, typename A = compute_t<T>>
__device__ RowExpSum<A> row_exp_sum(const T* row, int64_t N, const RowTeam& team) {
  A m = Max<A>::identity();
  for (int64_t i = team.lane; i < N; i += team.size) m = Max<A>{}(m, to_compute(row[i]));
  m = team_reduce<kWarpPerRow>(m, Max<A>{});  // subtracting the max keeps exp() finite
  A total = 0;
  for (int64_t i = team.lane; i < N; i += team.size) total += exp(to_compute(row[i]) - m);
  return {m, team_reduce<kWarpPerRow>(total, Sum<A>{})};
}

// softmax(x)[i] from x[i] and its row's RowExpSum and 1 / total: the one
// formula of softmax_kernel and softmax_backward_recompute_kernel.
template <typename A>
__device__ A softmax_value(A x, const RowExpSum<A>& s, A inv_total) {
  return exp(x - s.max) * inv_total;
}

// x, y [R, N].
template <typename T, bool kWarpPerRow>
__global__ void softmax_kernel(const T* x, T* y, int64_t N, bool log_softmax, int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const T* in = x + team.row * N;
  T* out = y + team.row * N;
  const RowExpSum<A> s = row_exp_sum<kWarpPerRow>(in, N, team);
  if (log_softmax) {
    const A log_total = log(s.total);
    for (int64_t i = team.lane; i < N; i += team.size) out[i] = from_compute<T>(to_compute(in[i]) - s.max - log_total);
  } else {
    const A inv = A(1) / s.total;
    for (int64_t i = team.lane; i < N; i += team.size) out[i] = from_compute<T>(softmax_value(to_compute(in[i]), s, inv));
  }
}

// y, dy, dx [R, N].
template <typename T, bool kWarpPerRow>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t N, bool log_softmax, int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const int64_t row = team.row * N;
  if (log_softmax) {  // dx = dy - softmax * sum(dy)
    A total = 0;
    for (int64_t i = team.lane; i < N; i += team.size) total += to_compute(dy[row + i]);
    total = team_reduce<kWarpPerRow>(total, Sum<A>{});
    for (int64_t i = team.lane; i < N; i += team.size)
      dx[row + i] = from_compute<T>(to_compute(dy[row + i]) - exp(to_compute(y[row + i])) * total);
  } else {  // dx = y * (dy - sum(dy * y))
    A dot = 0;
    for (int64_t i = team.lane; i < N; i += team.size) dot += to_compute(dy[row + i]) * to_compute(y[row + i]);
    dot = team_reduce<kWarpPerRow>(dot, Sum<A>{});
    for (int64_t i = team.lane; i < N; i += team.size)
      dx[row + i] = from_compute<T>(to_compute(y[row + i]) * (to_compute(dy[row + i]) - dot));
  }
}

// dx = y * (dy - sum(dy * y)) with y = softmax(x) recomputed in A from x, as
// softmax_kernel computes it (never rounded to T). x, dy, dx [R, N].
template <typename T, bool kWarpPerRow>
__global__ void softmax_backward_recompute_kernel(const T* x, const T* dy, T* dx, int64_t N, int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const int64_t row = team.row * N;
  const RowExpSum<A> s = row_exp_sum<kWarpPerRow>(x + row, N, team);
  const A inv = A(1) / s.total;
  A dot = 0;
  for (int64_t i = team.lane; i < N; i += team.size)
    dot += to_compute(dy[row + i]) * softmax_value(to_compute(x[row + i]), s, inv);
  dot = team_reduce<kWarpPerRow>(dot, Sum<A>{});
  for (int64_t i = team.lane; i < N; i += team.size) {
    const A y = softmax_value(to_compute(x[row + i]), s, inv);
    dx[row + i] = from_compute<T>(y * (to_compute(dy[row + i]) - dot));
  }
}

// x, y [R, N]; gamma, beta [N]; mean, rstd [R] in the compute type (f32 for
// bf16/f16 x, as core/ops.cpp allocates them). y holds TY: T, or a half type
// for an f32 x (Backend::layer_norm's mixed call). Two passes: the mean
// first, then the squared deviations.
template <typename T, typename TY, bool kWarpPerRow>
__global__ void layer_norm_kernel(const T* x, const T* gamma, const T* beta, compute_t<T> eps, int64_t N, TY* y,
                                  compute_t<T>* mean, compute_t<T>* rstd, int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const T* in = x + team.row * N;
  TY* out = y + team.row * N;
  A total = 0;
  for (int64_t i = team.lane; i < N; i += team.size) total += to_compute(in[i]);
  const A m = team_reduce<kWarpPerRow>(total, Sum<A>{}) / A(N);
  A squares = 0;
  for (int64_t i = team.lane; i < N; i += team.size) squares += (to_compute(in[i]) - m) * (to_compute(in[i]) - m);
  const A s = A(1) / sqrt(team_reduce<kWarpPerRow>(squares, Sum<A>{}) / A(N) + eps);
  for (int64_t i = team.lane; i < N; i += team.size)
    out[i] = from_compute<TY>((to_compute(in[i]) - m) * s * to_compute(gamma[i]) + to_compute(beta[i]));
  if (team.lane == 0) {
    mean[team.row] = m;
    rstd[team.row] = s;
  }
}

// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma,
// plus dx_add where it is not null (the gradient rounded to T first, as a
// separate add would read it). x, dy, dx_add, dx [R, N]; gamma [N]; mean,
// rstd [R]; dy holds TY (T, or a half type for an f32 x).
template <typename T, typename TY, bool kWarpPerRow>
__global__ void layer_norm_backward_kernel(const T* x, const T* gamma, const compute_t<T>* mean,
                                           const compute_t<T>* rstd, const TY* dy, const T* dx_add, T* dx, int64_t N,
                                           int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const int64_t row = team.row * N;
  const A m = mean[team.row], s = rstd[team.row];
  A sum_dxhat = 0, sum_dxhat_xhat = 0;
  for (int64_t i = team.lane; i < N; i += team.size) {
    const A dxhat = to_compute(dy[row + i]) * to_compute(gamma[i]);
    sum_dxhat += dxhat;
    sum_dxhat_xhat += dxhat * (to_compute(x[row + i]) - m) * s;
  }
  const A mean_dxhat = team_reduce<kWarpPerRow>(sum_dxhat, Sum<A>{}) / A(N);
  const A mean_dxhat_xhat = team_reduce<kWarpPerRow>(sum_dxhat_xhat, Sum<A>{}) / A(N);
  for (int64_t i = team.lane; i < N; i += team.size) {
    const A xhat = (to_compute(x[row + i]) - m) * s;
    const T g = from_compute<T>(s * (to_compute(dy[row + i]) * to_compute(gamma[i]) - mean_dxhat - xhat * mean_dxhat_xhat));
    dx[row + i] = dx_add ? from_compute<T>(to_compute(g) + to_compute(dx_add[row + i])) : g;
  }
}

// Term for dgamma [N] = sum over rows r of dy[r, i] * xhat[r, i], reduced with
// launch_reduce as [outer = 1, n = R, inner = N]. dy holds TY, as above.
template <typename T, typename TY>
struct LayerNormGammaGrad {
  const T* x;
  const TY* dy;
  const compute_t<T> *mean, *rstd;
  int64_t N;
  __device__ compute_t<T> operator()(int64_t, int64_t r, int64_t i) const {
    return to_compute(dy[r * N + i]) * (to_compute(x[r * N + i]) - mean[r]) * rstd[r];
  }
};

// x [R, 2N] = [a | g] -> y [R, N]. One thread per element i = r * N + c of y.
template <typename T>
__global__ void swiglu_kernel(const T* x, T* y, int64_t N, int64_t n) {
  using A = compute_t<T>;
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t r = i / N, c = i % N;
  const A a = to_compute(x[r * 2 * N + c]), g = to_compute(x[r * 2 * N + N + c]);
  y[i] = from_compute<T>(a * g / (A(1) + exp(-g)));
}

// dx [R, 2N] = [da | dg] from x [R, 2N] and dy [R, N]; thread i = r * N + c as above.
template <typename T>
__global__ void swiglu_backward_kernel(const T* x, const T* dy, T* dx, int64_t N, int64_t n) {
  using A = compute_t<T>;
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t r = i / N, c = i % N;
  const A a = to_compute(x[r * 2 * N + c]), g = to_compute(x[r * 2 * N + N + c]), d = to_compute(dy[i]);
  const A s = A(1) / (A(1) + exp(-g));
  const A silu = g * s;
  dx[r * 2 * N + c] = from_compute<T>(d * silu);
  dx[r * 2 * N + N + c] = from_compute<T>(d * a * s * (A(1) + g * (A(1) - s)));  // d silu(g) / dg
}

// loss[r] = logsumexp(logits[r]) - logits[r, targets[r]]. logits [R, C]; targets, loss [R].
template <typename T, typename I, bool kWarpPerRow>
__global__ void cross_entropy_kernel(const T* logits, const I* targets, T* loss, int64_t C, IndexErrorSink errors,
                                     int64_t R) {
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const T* row = logits + team.row * C;
  const RowExpSum<compute_t<T>> s = row_exp_sum<kWarpPerRow>(row, C, team);
  if (team.lane != 0) return;
  const int64_t target = int64_t(targets[team.row]);
  if (target < 0 || target >= C) {
    errors.report(team.row, target, C);
    loss[team.row] = from_compute<T>(NAN);
    return;
  }
  loss[team.row] = from_compute<T>(s.max + log(s.total) - to_compute(row[target]));
}

// dlogits[r, c] = dloss[r] * (softmax(logits[r])[c] - (c == targets[r])). All rows [R, C].
template <typename T, typename I, bool kWarpPerRow>
__global__ void cross_entropy_backward_kernel(const T* logits, const I* targets, const T* dloss, T* dlogits, int64_t C,
                                              IndexErrorSink errors, int64_t R) {
  using A = compute_t<T>;
  const RowTeam team = row_team<kWarpPerRow>();
  if (team.row >= R) return;
  const T* row = logits + team.row * C;
  const RowExpSum<A> s = row_exp_sum<kWarpPerRow>(row, C, team);
  const int64_t target = int64_t(targets[team.row]);
  if (team.lane == 0 && (target < 0 || target >= C)) errors.report(team.row, target, C);
  const A d = to_compute(dloss[team.row]);
  for (int64_t c = team.lane; c < C; c += team.size)
    dlogits[team.row * C + c] = from_compute<T>(d * (exp(to_compute(row[c]) - s.max) / s.total - (c == target ? A(1) : A(0))));
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
  dispatch_float_or_half(x.dtype(), "softmax", [&]<typename T>() {
    launch_rows(stream_, rows.R, rows.N, softmax_kernel<T, true>, softmax_kernel<T, false>, x.data<T>(), y.data<T>(),
                rows.N, log);
  });
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  const Rows rows = rows_of(y);
  dispatch_float_or_half(y.dtype(), "softmax_backward", [&]<typename T>() {
    launch_rows(stream_, rows.R, rows.N, softmax_backward_kernel<T, true>, softmax_backward_kernel<T, false>,
                y.data<T>(), dy.data<T>(), dx.data<T>(), rows.N, log);
  });
}

void CudaBackend::softmax_backward_recompute(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const Rows rows = rows_of(x);
  dispatch_float_or_half(x.dtype(), "softmax_backward_recompute", [&]<typename T>() {
    launch_rows(stream_, rows.R, rows.N, softmax_backward_recompute_kernel<T, true>,
                softmax_backward_recompute_kernel<T, false>, x.data<T>(), dy.data<T>(), dx.data<T>(), rows.N);
  });
}

void CudaBackend::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                             const Tensor& mean, const Tensor& rstd) {
  const Rows rows = rows_of(x);
  dispatch_mixed(x.dtype(), y.dtype(), "layer_norm", [&]<typename T, typename TY>() {
    launch_rows(stream_, rows.R, rows.N, layer_norm_kernel<T, TY, true>, layer_norm_kernel<T, TY, false>,
                x.data<T>(), gamma.data<T>(), beta.data<T>(), compute_t<T>(eps), rows.N, y.data<TY>(),
                mean.data<compute_t<T>>(), rstd.data<compute_t<T>>());
  });
}

void CudaBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                      const Tensor& dy, const Tensor& dx_add, const Tensor& dx, const Tensor& dgamma,
                                      const Tensor& dbeta) {
  const Rows rows = rows_of(x);
  dispatch_mixed(x.dtype(), dy.dtype(), "layer_norm_backward", [&]<typename T, typename TY>() {
    const T* add = dx_add.defined() ? dx_add.data<T>() : nullptr;
    launch_rows(stream_, rows.R, rows.N, layer_norm_backward_kernel<T, TY, true>,
                layer_norm_backward_kernel<T, TY, false>, x.data<T>(), gamma.data<T>(), mean.data<compute_t<T>>(),
                rstd.data<compute_t<T>>(), dy.data<TY>(), add, dx.data<T>(), rows.N);
    // dgamma = sum_r dy * xhat, dbeta = sum_r dy: column sums of [R, N].
    launch_reduce(stream_, LayerNormGammaGrad<T, TY>{x.data<T>(), dy.data<TY>(), mean.data<compute_t<T>>(),
                                                            rstd.data<compute_t<T>>(), rows.N},
                  Sum<compute_t<T>>{}, 1, rows.R, rows.N, dgamma.data<T>());
    launch_reduce(stream_, ReadMiddle<TY>{dy.data<TY>(), rows.R, rows.N}, Sum<double>{}, 1, rows.R, rows.N,
                  dbeta.data<T>());
  });
}

void CudaBackend::swiglu(const Tensor& x, const Tensor& y) {
  const Rows rows = rows_of(y);
  dispatch_float_or_half(x.dtype(), "swiglu", [&]<typename T>() {
    const int64_t n = y.numel();
    launch(stream_, blocks_for(n), swiglu_kernel<T>, x.data<T>(), y.data<T>(), rows.N, n);
  });
}

void CudaBackend::swiglu_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) {
  const Rows rows = rows_of(dy);
  dispatch_float_or_half(x.dtype(), "swiglu_backward", [&]<typename T>() {
    const int64_t n = dy.numel();
    launch(stream_, blocks_for(n), swiglu_backward_kernel<T>, x.data<T>(), dy.data<T>(), dx.data<T>(), rows.N, n);
  });
}

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss) {
  const Rows rows = rows_of(logits);
  dispatch_float_or_half(logits.dtype(), "cross_entropy", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy", [&]<typename I>() {
      launch_rows(stream_, rows.R, rows.N, cross_entropy_kernel<T, I, true>, cross_entropy_kernel<T, I, false>,
                  logits.data<T>(), targets.data<I>(), loss.data<T>(), rows.N,
                  IndexErrorSink{index_error_device_, "cross_entropy"});
    });
  });
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss,
                                         const Tensor& dlogits) {
  const Rows rows = rows_of(logits);
  dispatch_float_or_half(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    dispatch_index(targets.dtype(), "cross_entropy_backward", [&]<typename I>() {
      launch_rows(stream_, rows.R, rows.N, cross_entropy_backward_kernel<T, I, true>,
                  cross_entropy_backward_kernel<T, I, false>, logits.data<T>(), targets.data<I>(), dloss.data<T>(),
                  dlogits.data<T>(), rows.N, IndexErrorSink{index_error_device_, "cross_entropy"});
    });
  });
}

}  // namespace pf::cuda
