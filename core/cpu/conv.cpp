// 1-D convolutions on channels-last tensors [B, L, C]: im2col (unfold1d) and
// its adjoint for the k-mer convolution, which then runs as one GEMM; and the
// depthwise convolution of the conv module, a plain loop (K * C work per output
// row is too little for a GEMM).
#include <algorithm>

#include "core/cpu/cpu_backend.h"

namespace pf {

void CpuBackend::unfold1d(const Tensor& x, int64_t pad_left, const Tensor& cols) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2);
  const int64_t Lout = cols.size(1), K = cols.size(2);
  dispatch_float_or_half(x.dtype(), "unfold1d", [&]<typename T>() {  // a copy: any float type
    const T* xp = x.data<T>();
    T* cp = cols.data<T>();
#pragma omp parallel for collapse(2) if (B * Lout * K * C > kParallelThreshold)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Lout; ++t)
        for (int64_t k = 0; k < K; ++k) {
          T* out = cp + ((b * Lout + t) * K + k) * C;  // cols[b, t, k, :]
          const int64_t src = t + k - pad_left;
          if (src < 0 || src >= L)
            std::fill(out, out + C, store<T>(0));
          else
            std::copy(xp + (b * L + src) * C, xp + (b * L + src + 1) * C, out);
        }
  });
}

void CpuBackend::fold1d(const Tensor& dcols, int64_t pad_left, const Tensor& dx) {
  const int64_t B = dx.size(0), L = dx.size(1), C = dx.size(2);
  const int64_t Lout = dcols.size(1), K = dcols.size(2);
  dispatch_float_or_half(dx.dtype(), "fold1d", [&]<typename T>() {
    using F = compute_t<T>;
    const T* cp = dcols.data<T>();
    T* xp = dx.data<T>();
    // Gather form: each dx[b, s, :] sums dcols[b, t, k, :] over t + k - pad_left == s,
    // so every output row is written by one thread.
#pragma omp parallel for collapse(2) if (B * L * K * C > kParallelThreshold)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < L; ++s) {
        RowOut<T> out_row(xp + (b * L + s) * C, C, 0);
        F* out = out_row.data();
        std::fill(out, out + C, F(0));
        for (int64_t k = 0; k < K; ++k) {
          const int64_t t = s - k + pad_left;
          if (t < 0 || t >= Lout) continue;
          const T* in = cp + ((b * Lout + t) * K + k) * C;
          for (int64_t c = 0; c < C; ++c) out[c] += load(in[c]);
        }
      }
  });
}

// Any float type: half types are loaded and each output row summed in f32.
// y (forward) and dy (backward) hold TY: x's type T, or a half type for an f32
// x (Backend's mixed calls: the f32 result rounded once, a half gradient read
// as if cast to f32).
void CpuBackend::depthwise_conv1d(const Tensor& x, const Tensor& w, int64_t pad_left, const Tensor& y) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), K = w.size(0);
  dispatch_mixed(x.dtype(), y.dtype(), "depthwise_conv1d", [&]<typename T, typename TY>() {
    using F = compute_t<T>;
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    TY* yp = y.data<TY>();
#pragma omp parallel for collapse(2) if (B * L * K * C > kParallelThreshold)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < L; ++t) {
        RowOut<TY> out_row(yp + (b * L + t) * C, C, 0);  // y[b, t, :]
        F* out = out_row.data();
        std::fill(out, out + C, F(0));
        for (int64_t k = 0; k < K; ++k) {
          const int64_t src = t + k - pad_left;
          if (src < 0 || src >= L) continue;
          const T* in = xp + (b * L + src) * C;
          const T* wk = wp + k * C;
          for (int64_t c = 0; c < C; ++c) out[c] += load(wk[c]) * load(in[c]);
        }
      }
  });
}

void CpuBackend::depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left,
                                           const Tensor& dx, const Tensor& dw) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), K = w.size(0);
  dispatch_mixed(x.dtype(), dy.dtype(), "depthwise_conv1d_backward", [&]<typename T, typename TY>() {
    using F = compute_t<T>;
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    const TY* gp = dy.data<TY>();
    T* dxp = dx.data<T>();
    // dx[b, s, c] = sum_k w[k, c] * dy[b, s - k + pad_left, c] (gather: one writer per row).
#pragma omp parallel for collapse(2) if (B * L * K * C > kParallelThreshold)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < L; ++s) {
        RowOut<T> out_row(dxp + (b * L + s) * C, C, 0);
        F* out = out_row.data();
        std::fill(out, out + C, F(0));
        for (int64_t k = 0; k < K; ++k) {
          const int64_t t = s - k + pad_left;
          if (t < 0 || t >= L) continue;
          const TY* g = gp + (b * L + t) * C;
          const T* wk = wp + k * C;
          for (int64_t c = 0; c < C; ++c) out[c] += load(wk[c]) * load(g[c]);
        }
      }
    // dw[k, c] = sum_{b, t} dy[b, t, c] * x[b, t + k - pad_left, c]: threads split k.
    T* dwp = dw.data<T>();
#pragma omp parallel for if (B * L * K * C > kParallelThreshold)
    for (int64_t k = 0; k < K; ++k) {
      RowOut<T> out_row(dwp + k * C, C, 1);
      F* out = out_row.data();
      std::fill(out, out + C, F(0));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < L; ++t) {
          const int64_t src = t + k - pad_left;
          if (src < 0 || src >= L) continue;
          const TY* g = gp + (b * L + t) * C;
          const T* in = xp + (b * L + src) * C;
          for (int64_t c = 0; c < C; ++c) out[c] += load(g[c]) * load(in[c]);
        }
    }
  });
}

}  // namespace pf
