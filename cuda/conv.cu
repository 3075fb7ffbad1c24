// 1-D convolutions on channels-last tensors [B, L, C]: im2col (unfold1d) and
// its adjoint fold1d for the k-mer convolution (which then runs as a GEMM), and
// the depthwise convolution. Formulas of core/cpu/conv.cpp; every output is
// written by one thread (gather form), summing over k in the CPU's order, in
// compute_t<T> (f32 for bf16/f16: load, compute, store).
#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

// cols [B, Lout, K, C] from x [B, L, C]; thread i = ((b * Lout + t) * K + k) * C + c
// writes cols[b, t, k, c] = x[b, t + k - pad_left, c] (0 outside [0, L)).
template <typename T>
__global__ void unfold1d_kernel(const T* x, T* cols, int64_t L, int64_t C, int64_t Lout, int64_t K, int64_t pad_left,
                                int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t c = i % C, k = i / C % K, t = i / (C * K) % Lout, b = i / (C * K * Lout);
  const int64_t src = t + k - pad_left;
  cols[i] = src < 0 || src >= L ? from_compute<T>(0) : x[(b * L + src) * C + c];
}

// dx [B, L, C] from dcols [B, Lout, K, C]; thread i = (b * L + s) * C + c writes
// dx[b, s, c] = sum over k of dcols[b, t, k, c] with t = s - k + pad_left in [0, Lout).
template <typename T>
__global__ void fold1d_kernel(const T* dcols, T* dx, int64_t L, int64_t C, int64_t Lout, int64_t K, int64_t pad_left,
                              int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t c = i % C, s = i / C % L, b = i / (C * L);
  compute_t<T> total = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t t = s - k + pad_left;
    if (t >= 0 && t < Lout) total += to_compute(dcols[((b * Lout + t) * K + k) * C + c]);
  }
  dx[i] = from_compute<T>(total);
}

// y [B, L, C] from x [B, L, C] and w [K, C]; thread i = (b * L + t) * C + c writes
// y[b, t, c] = sum over k of w[k, c] * x[b, t + k - pad_left, c] (in range).
template <typename T>
__global__ void depthwise_conv1d_kernel(const T* x, const T* w, T* y, int64_t L, int64_t C, int64_t K, int64_t pad_left,
                                        int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t c = i % C, t = i / C % L, b = i / (C * L);
  compute_t<T> total = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t src = t + k - pad_left;
    if (src >= 0 && src < L) total += to_compute(w[k * C + c]) * to_compute(x[(b * L + src) * C + c]);
  }
  y[i] = from_compute<T>(total);
}

// dx [B, L, C]; thread i = (b * L + s) * C + c writes
// dx[b, s, c] = sum over k of w[k, c] * dy[b, s - k + pad_left, c] (in range).
template <typename T>
__global__ void depthwise_conv1d_dx_kernel(const T* w, const T* dy, T* dx, int64_t L, int64_t C, int64_t K,
                                           int64_t pad_left, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t c = i % C, s = i / C % L, b = i / (C * L);
  compute_t<T> total = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t t = s - k + pad_left;
    if (t >= 0 && t < L) total += to_compute(w[k * C + c]) * to_compute(dy[(b * L + t) * C + c]);
  }
  dx[i] = from_compute<T>(total);
}

// Term for dw [K, C] = sum over (b, t) of dy[b, t, c] * x[b, t + k - pad_left, c],
// reduced with launch_reduce as [outer = K, n = B * L, inner = C]: the middle
// index j = b * L + t, so x's row b * L + t + k - pad_left is j + k - pad_left.
template <typename T>
struct DepthwiseWeightGrad {
  const T *x, *dy;
  int64_t L, C, pad_left;
  __device__ compute_t<T> operator()(int64_t k, int64_t j, int64_t c) const {
    const int64_t src = j % L + k - pad_left;
    if (src < 0 || src >= L) return 0;
    return to_compute(dy[j * C + c]) * to_compute(x[(j + k - pad_left) * C + c]);
  }
};

}  // namespace

void CudaBackend::unfold1d(const Tensor& x, int64_t pad_left, const Tensor& cols) {
  const int64_t L = x.size(1), C = x.size(2), Lout = cols.size(1), K = cols.size(2);
  dispatch_float_or_half(x.dtype(), "unfold1d", [&]<typename T>() {
    const int64_t n = cols.numel();
    launch(stream_, blocks_for(n), unfold1d_kernel<T>, x.data<T>(), cols.data<T>(), L, C, Lout, K, pad_left, n);
  });
}

void CudaBackend::fold1d(const Tensor& dcols, int64_t pad_left, const Tensor& dx) {
  const int64_t L = dx.size(1), C = dx.size(2), Lout = dcols.size(1), K = dcols.size(2);
  dispatch_float_or_half(dx.dtype(), "fold1d", [&]<typename T>() {
    const int64_t n = dx.numel();
    launch(stream_, blocks_for(n), fold1d_kernel<T>, dcols.data<T>(), dx.data<T>(), L, C, Lout, K, pad_left, n);
  });
}

void CudaBackend::depthwise_conv1d(const Tensor& x, const Tensor& w, int64_t pad_left, const Tensor& y) {
  const int64_t L = x.size(1), C = x.size(2), K = w.size(0);
  dispatch_float_or_half(x.dtype(), "depthwise_conv1d", [&]<typename T>() {
    const int64_t n = y.numel();
    launch(stream_, blocks_for(n), depthwise_conv1d_kernel<T>, x.data<T>(), w.data<T>(), y.data<T>(), L, C, K, pad_left,
           n);
  });
}

void CudaBackend::depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left,
                                            const Tensor& dx, const Tensor& dw) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), K = w.size(0);
  dispatch_float_or_half(x.dtype(), "depthwise_conv1d_backward", [&]<typename T>() {
    const int64_t n = dx.numel();
    launch(stream_, blocks_for(n), depthwise_conv1d_dx_kernel<T>, w.data<T>(), dy.data<T>(), dx.data<T>(), L, C, K,
           pad_left, n);
    launch_reduce(stream_, DepthwiseWeightGrad<T>{x.data<T>(), dy.data<T>(), L, C, pad_left}, Sum<compute_t<T>>{}, K, B * L, C,
                  dw.data<T>());
  });
}

}  // namespace pf::cuda
