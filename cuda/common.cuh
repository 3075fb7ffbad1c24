// Shared by the .cu files of the CUDA backend:
//   dispatch_float_or_half  runtime DType -> kernel template parameter (host;
//                     dispatch_float/dispatch_index are core/dispatch.h's)
//   to/from_compute   element conversions: bf16 and f16 compute in f32
//   launch            the one kernel-launch helper (grid size, error check)
//   zero_fill         memset of a whole tensor
//   global_index      the element a thread of a one-thread-per-element kernel owns
//   block_reduce      sum/max over the threads of a block (row kernels)
//   StridedPair       element offsets in two strided views (copy, binary)
//   launch_reduce     out[o, i] = combine_k term(o, k, i): sum, max, weight grads
//   IndexErrorSink    how kernels report a bad index (see KernelIndexError)
#pragma once
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "core/dispatch.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace pf::cuda {

// ---- dtype dispatch (host) ----
// dispatch_float (f32, f64), dispatch_float_or_half (also bf16, f16) and
// dispatch_index (i32, i64) come from core/dispatch.h.

// ---- element conversions (device) ----
// The arithmetic type of a storage type: the CPU upcasts bf16/f16 to f32 before
// computing, so kernels load them as float and round the result back.
template <typename T>
struct ComputeType {
  using type = T;
};
template <>
struct ComputeType<bf16> {
  using type = float;
};
template <>
struct ComputeType<f16> {
  using type = float;
};
template <typename T>
using compute_t = typename ComputeType<T>::type;

template <typename T>
__device__ inline T to_compute(T v) {
  return v;
}
__device__ inline float to_compute(bf16 h) { return __uint_as_float(uint32_t(h.bits) << 16); }
__device__ inline float to_compute(f16 h) {
  __half_raw raw;
  raw.x = h.bits;
  return __half2float(__half(raw));
}

template <typename T>
__device__ inline T from_compute(compute_t<T> v) {
  return v;
}
// Round to nearest even, NaN kept a NaN: the same bits as float_to_bf16 in core/dtype.h.
template <>
__device__ inline bf16 from_compute<bf16>(float f) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{uint16_t(u >> 16)};
}
// IEEE round to nearest even, as float_to_f16 in core/dtype.h (NaN payloads may differ).
template <>
__device__ inline f16 from_compute<f16>(float f) {
  const __half_raw raw = __float2half_rn(f);
  return f16{raw.x};
}

// ---- launching ----
constexpr int kThreads = 256;  // threads per block, for every kernel of the backend

// Blocks for one thread per element of n.
inline int64_t blocks_for(int64_t n) { return (n + kThreads - 1) / kThreads; }

// kernel<<<blocks, kThreads, 0, stream>>>(args...), then checks the launch.
// Nothing is launched for 0 blocks (an empty tensor).
template <typename... Params, typename... Args>
void launch(cudaStream_t stream, int64_t blocks, void (*kernel)(Params...), const Args&... args) {
  if (blocks == 0) return;
  PF_CHECK(blocks <= INT32_MAX, "cuda", "kernel needs ", blocks, " blocks, more than a grid holds");
  kernel<<<unsigned(blocks), kThreads, 0, stream>>>(args...);
  cudaCheck(cudaGetLastError());
}

// Sets every byte of a contiguous tensor to 0 (which is 0.0 in every dtype).
inline void zero_fill(cudaStream_t stream, const Tensor& t) {
  const size_t nbytes = size_t(t.numel()) * dtype_size(t.dtype());
  if (nbytes) cudaCheck(cudaMemsetAsync(t.raw_data(), 0, nbytes, stream));
}

// The element a thread owns in a kernel launched with blocks_for(n) blocks.
__device__ inline int64_t global_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }

// ---- reductions ----
template <typename A>
struct Sum {
  __device__ static A identity() { return A(0); }
  __device__ A operator()(A a, A b) const { return a + b; }
};
template <typename A>
struct Max {
  __device__ static A identity() { return A(-INFINITY); }
  __device__ A operator()(A a, A b) const { return b > a ? b : a; }  // as the CPU: NaN never wins
};

// Combines one value from each of the kThreads threads of the block; every
// thread gets the result. A tree in shared memory: at step s, thread t < s
// folds in the value of thread t + s.
template <typename A, typename Combine>
__device__ A block_reduce(A v, Combine combine) {
  __shared__ A partial[kThreads];
  partial[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = kThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) partial[threadIdx.x] = combine(partial[threadIdx.x], partial[threadIdx.x + s]);
    __syncthreads();
  }
  const A result = partial[0];
  __syncthreads();  // the next call reuses partial
  return result;
}

// out[o, i] = combine over k < n of term(o, k, i), for o < outer, i < inner;
// launched with outer * column_blocks blocks of `cols` columns each. Block b
// covers row o = b / column_blocks and the columns from
// i0 = (b % column_blocks) * cols. Thread t takes column i0 + t % cols and the
// terms k = t / cols, t / cols + lanes, ... (lanes = kThreads / cols threads
// share a column); the lanes then combine through shared memory, where thread
// t's partial sits at index t = lane * cols + t % cols.
template <typename T, typename Term, typename Combine>
__global__ void reduce_kernel(Term term, Combine combine, int64_t n, int64_t inner, int cols, T* out) {
  using Acc = decltype(term(0, 0, 0));
  __shared__ Acc partial[kThreads];
  const int64_t column_blocks = (inner + cols - 1) / cols;
  const int64_t o = blockIdx.x / column_blocks;
  const int64_t i = (blockIdx.x % column_blocks) * cols + threadIdx.x % cols;
  const int lane = threadIdx.x / cols, lanes = kThreads / cols;
  Acc acc = Combine::identity();
  if (i < inner)
    for (int64_t k = lane; k < n; k += lanes) acc = combine(acc, term(o, k, i));
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int s = lanes / 2; s > 0; s /= 2) {
    if (lane < s) partial[threadIdx.x] = combine(partial[threadIdx.x], partial[threadIdx.x + s * cols]);
    __syncthreads();
  }
  if (lane == 0 && i < inner) out[o * inner + i] = from_compute<T>(partial[threadIdx.x]);
}

// Launches reduce_kernel: 32 columns per block when reducing a middle dim
// (reads coalesce along i), one column and 256 lanes when inner == 1.
template <typename T, typename Term, typename Combine>
void launch_reduce(cudaStream_t stream, Term term, Combine combine, int64_t outer, int64_t n, int64_t inner, T* out) {
  const int cols = inner > 1 ? 32 : 1;
  const int64_t column_blocks = (inner + cols - 1) / cols;
  launch(stream, outer * column_blocks, reduce_kernel<T, Term, Combine>, term, combine, n, inner, cols, out);
}

// Term for plain reductions: x [outer, n, inner] read at (o, k, i) as double
// (the CPU accumulates sums in double too).
template <typename T>
struct ReadMiddle {
  const T* x;
  int64_t n, inner;
  __device__ double operator()(int64_t o, int64_t k, int64_t i) const {
    return double(to_compute(x[(o * n + k) * inner + i]));
  }
};

// ---- strided views ----
constexpr int kMaxDims = 8;

// Offsets of element i (row-major over `size`) in two views a and b of the
// same shape with any strides (0 where broadcast). Build it with
// strided_pair(), which drops size-1 dims and merges dims that are contiguous
// in both views, so that contiguous views have one dim and cost no division.
struct StridedPair {
  int dims;
  int64_t size[kMaxDims], stride_a[kMaxDims], stride_b[kMaxDims];

  __device__ void offsets(int64_t i, int64_t& a, int64_t& b) const {
    a = 0;
    b = 0;
    for (int d = dims - 1; d > 0; --d) {  // innermost dim first
      const int64_t index = i % size[d];
      i /= size[d];
      a += index * stride_a[d];
      b += index * stride_b[d];
    }
    a += i * stride_a[0];  // what is left of i is the index in dim 0
    b += i * stride_b[0];
  }
};

inline StridedPair strided_pair(const Shape& shape, const Shape& strides_a, const Shape& strides_b, const char* op) {
  StridedPair pair{};
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const int last = pair.dims - 1;
    if (last >= 0 && pair.stride_a[last] == strides_a[d] * shape[d] && pair.stride_b[last] == strides_b[d] * shape[d]) {
      pair.size[last] *= shape[d];  // dims last and d form one run in both views
      pair.stride_a[last] = strides_a[d];
      pair.stride_b[last] = strides_b[d];
      continue;
    }
    PF_CHECK(pair.dims < kMaxDims, op, "CUDA kernels take at most ", kMaxDims, " dims after merging, got shape ",
             shape_str(shape));
    pair.size[pair.dims] = shape[d];
    pair.stride_a[pair.dims] = strides_a[d];
    pair.stride_b[pair.dims] = strides_b[d];
    ++pair.dims;
  }
  if (pair.dims == 0) pair = StridedPair{1, {1}, {0}, {0}};  // a single element
  return pair;
}

// ---- index errors ----
// Handed to kernels that read indices: where to record the first bad one and
// the op's name (a host string literal: the device copies the pointer, never
// reads it).
struct IndexErrorSink {
  KernelIndexError* record;
  const char* op;

  __device__ void report(int64_t position, int64_t value, int64_t bound) const {
    if (atomicCAS(&record->flag, 0, 1) != 0) return;  // an earlier error is already recorded
    record->op = op;
    record->position = position;
    record->value = value;
    record->bound = bound;
  }
};

}  // namespace pf::cuda
