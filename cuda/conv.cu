// 1-D convolutions on channels-last tensors [B, L, C]: im2col (unfold1d) and
// its adjoint fold1d for the k-mer convolution (which then runs as a GEMM), and
// the depthwise convolution. Formulas of core/cpu/conv.cpp; every output but
// the depthwise weight gradient (two stages, below) is written by one thread
// (gather form), summing over k in the CPU's order, in compute_t<T> (f32 for
// bf16/f16: load, compute, store).
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
// y holds TY: T, or a half type for an f32 x (the sum rounded once).
template <typename T, typename TY>
__global__ void depthwise_conv1d_kernel(const T* x, const T* w, TY* y, int64_t L, int64_t C, int64_t K,
                                        int64_t pad_left, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const int64_t c = i % C, t = i / C % L, b = i / (C * L);
  compute_t<T> total = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t src = t + k - pad_left;
    if (src >= 0 && src < L) total += to_compute(w[k * C + c]) * to_compute(x[(b * L + src) * C + c]);
  }
  y[i] = from_compute<TY>(total);
}

// dx [B, L, C]; thread i = (b * L + s) * C + c writes
// dx[b, s, c] = sum over k of w[k, c] * dy[b, s - k + pad_left, c] (in range).
// dy holds TY: T, or a half type for an f32 x (read as if cast to f32).
template <typename T, typename TY>
__global__ void depthwise_conv1d_dx_kernel(const T* w, const TY* dy, T* dx, int64_t L, int64_t C, int64_t K,
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

// dw [K, C] = sum over the rows j = b * L + t of dy[j, c] * x[j + k - pad_left, c]
// (where t + k - pad_left lies in [0, L), i.e. in the same batch item), in
// two stages that read each row of x and dy from memory about once, not once
// per tap:
//   1. depthwise_dw_partials_kernel: block (chunk, tile) covers the rows
//      [chunk * kDwRowsPerChunk, + kDwRowsPerChunk) and the 32 columns from
//      tile * 32. Thread t takes column tile * 32 + t % 32 and the rows
//      first + t / 32, + 8, ... (8 lanes per column); for each row it reads
//      dy[j, c] once and adds dy[j, c] * x[j + k - pad_left, c] to acc[k] for
//      every tap k of the group (kDwTapGroup taps per pass: the model's 15 in
//      one). The K rows of x a row needs are read by the block's other lanes
//      too, so they come from cache. Each acc[k] is then combined over the 8
//      lanes through shared memory into partials [chunks, K, C].
//   2. launch_reduce sums the partials over the chunks (ReadPartials) into dw.
// Fixed order throughout, so dw is the same bits on every run.
constexpr int64_t kDwRowsPerChunk = 256;
constexpr int kDwTapGroup = 16;
constexpr int kDwColumns = 32;  // per block

template <typename T, typename TY, typename A = compute_t<T>>
__global__ void depthwise_dw_partials_kernel(const T* x, const TY* dy, A* partials, int64_t rows, int64_t L, int64_t C,
                                             int64_t K, int64_t pad_left) {
  constexpr int cols = kDwColumns, lanes = kThreads / cols;
  __shared__ A combine[kThreads];
  const int64_t tiles = (C + cols - 1) / cols;
  const int64_t chunk = blockIdx.x / tiles;
  const int64_t c = (blockIdx.x % tiles) * cols + threadIdx.x % cols;
  const int lane = threadIdx.x / cols;
  const int64_t first = chunk * kDwRowsPerChunk;
  const int64_t end = first + kDwRowsPerChunk < rows ? first + kDwRowsPerChunk : rows;
  for (int64_t k0 = 0; k0 < K; k0 += kDwTapGroup) {
    A acc[kDwTapGroup] = {};
    if (c < C)
      for (int64_t j = first + lane; j < end; j += lanes) {
        const A g = to_compute(dy[j * C + c]);
        const int64_t t = j % L;
#pragma unroll
        for (int q = 0; q < kDwTapGroup; ++q) {
          const int64_t k = k0 + q, src = t + k - pad_left;
          if (k < K && src >= 0 && src < L) acc[q] += g * to_compute(x[(j + k - pad_left) * C + c]);
        }
      }
    for (int q = 0; q < kDwTapGroup && k0 + q < K; ++q) {  // the same trip count in every thread
      combine[threadIdx.x] = acc[q];
      __syncthreads();
      for (int s = lanes / 2; s > 0; s /= 2) {
        if (lane < s) combine[threadIdx.x] += combine[threadIdx.x + s * cols];
        __syncthreads();
      }
      if (lane == 0 && c < C) partials[(chunk * K + k0 + q) * C + c] = combine[threadIdx.x];
      __syncthreads();  // combine is written again next
    }
  }
}

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
  dispatch_mixed(x.dtype(), y.dtype(), "depthwise_conv1d", [&]<typename T, typename TY>() {
    const int64_t n = y.numel();
    launch(stream_, blocks_for(n), depthwise_conv1d_kernel<T, TY>, x.data<T>(), w.data<T>(), y.data<TY>(), L, C, K,
           pad_left, n);
  });
}

void CudaBackend::depthwise_conv1d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, int64_t pad_left,
                                            const Tensor& dx, const Tensor& dw) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), K = w.size(0);
  dispatch_mixed(x.dtype(), dy.dtype(), "depthwise_conv1d_backward", [&]<typename T, typename TY>() {
    const int64_t n = dx.numel();
    launch(stream_, blocks_for(n), depthwise_conv1d_dx_kernel<T, TY>, w.data<T>(), dy.data<TY>(), dx.data<T>(), L, C,
           K, pad_left, n);
    using A = compute_t<T>;
    const int64_t rows = B * L, chunks = (rows + kDwRowsPerChunk - 1) / kDwRowsPerChunk;
    Tensor partials = Tensor::empty({chunks, K, C}, dtype_of<A>::value, Device::cuda(device_));  // [chunks, K, C]
    launch(stream_, chunks * ((C + kDwColumns - 1) / kDwColumns), depthwise_dw_partials_kernel<T, TY>, x.data<T>(),
           dy.data<TY>(), partials.data<A>(), rows, L, C, K, pad_left);
    launch_reduce(stream_, ReadPartials<A>{partials.data<A>(), K, C}, Sum<A>{}, K, chunks, C, dw.data<T>());
  });
}

}  // namespace pf::cuda
