// Shared by the .cu files of the CUDA backend:
//   to/from_compute   element conversions to and from compute_t<T> (bf16 and
//                     f16 compute in f32); compute_t and the dtype dispatch
//                     are core/dispatch.h's, shared with the CPU backend
//   launch            the one kernel-launch helper (grid size, error check)
//   zero_fill         memset of a whole tensor
//   global_index      the element a thread of a one-thread-per-element kernel owns
//   warp_reduce       sum/max over the lanes of a warp (short-row kernels)
//   block_reduce      sum/max over the threads of a block (long-row kernels)
//   StridedPair       element offsets in two strided views (copy, binary);
//                     for_each_slice splits views of more dims than it holds
//   launch_reduce     out[o, i] = combine_k term(o, k, i): sum, max, weight grads
//   IndexErrorSink    how kernels report a bad index (see KernelIndexError)
#pragma once
#include <cuda_fp16.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

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
// Kernels compute in compute_t<T> (core/dispatch.h, shared with the CPU):
// they load bf16/f16 as float and round the result back.

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

// With PF_CUDA_SYNC=1 in the environment every launch is followed by a
// synchronisation (check_launch), so a kernel that faults is named in the
// error instead of surfacing at some later copy. Read once (cuda_backend.cpp).
bool sync_after_launch();
void check_launch(cudaStream_t stream, const void* kernel);

// kernel<<<blocks, kThreads, 0, stream>>>(args...), then checks the launch.
// Nothing is launched for 0 blocks (an empty tensor).
template <typename... Params, typename... Args>
void launch(cudaStream_t stream, int64_t blocks, void (*kernel)(Params...), const Args&... args) {
  if (blocks == 0) return;
  PF_CHECK(blocks <= INT32_MAX, "cuda", "kernel needs ", blocks, " blocks, more than a grid holds");
  kernel<<<unsigned(blocks), kThreads, 0, stream>>>(args...);
  cudaCheck(cudaGetLastError());
  if (sync_after_launch()) check_launch(stream, reinterpret_cast<const void*>(kernel));
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

// Combines one value from each of the 32 lanes of a warp; every lane gets the
// result. Butterfly shuffles: after the step with offset d, each lane holds the
// combination of its group of 2d lanes. No shared memory, no barrier.
template <typename A, typename Combine>
__device__ A warp_reduce(A v, Combine combine) {
  for (int offset = 16; offset > 0; offset /= 2) v = combine(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Combines one value from each thread of the block (blockDim.x a multiple of
// 32, at most kThreads); every thread gets the result. Each warp reduces its
// own values with shuffles, lane 0 of warp w puts the result in partial[w],
// and every warp then reduces the partials the same way.
template <typename A, typename Combine>
__device__ A block_reduce(A v, Combine combine) {
  __shared__ A partial[kThreads / 32];
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  v = warp_reduce(v, combine);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < blockDim.x / 32 ? partial[lane] : Combine::identity();
  v = warp_reduce(v, combine);
  __syncthreads();  // the next call reuses partial
  return v;
}

// out[c, o, i] = combine over the terms k of chunk c of term(o, k, i), for
// o < outer and i < inner, where chunk c holds k in [c * chunk, (c + 1) * chunk)
// (cut at n). Launched with chunks * outer * column_blocks blocks of `cols`
// columns each: block b covers chunk c = b / (outer * column_blocks), row
// o = b / column_blocks % outer and the columns from i0 = (b % column_blocks) * cols.
// Thread t takes column i0 + t % cols and the terms k = k0 + t / cols,
// k0 + t / cols + lanes, ... of its chunk (lanes = kThreads / cols threads
// share a column); the lanes then combine through shared memory, where thread
// t's partial sits at index t = lane * cols + t % cols.
template <typename T, typename Term, typename Combine>
__global__ void reduce_kernel(Term term, Combine combine, int64_t outer, int64_t n, int64_t chunk, int64_t inner,
                              int cols, T* out) {
  using Acc = decltype(term(0, 0, 0));
  __shared__ Acc partial[kThreads];
  const int64_t column_blocks = (inner + cols - 1) / cols;
  const int64_t c = blockIdx.x / (outer * column_blocks);
  const int64_t o = blockIdx.x / column_blocks % outer;
  const int64_t i = (blockIdx.x % column_blocks) * cols + threadIdx.x % cols;
  const int lane = threadIdx.x / cols, lanes = kThreads / cols;
  const int64_t k_end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
  Acc acc = Combine::identity();
  if (i < inner)
    for (int64_t k = c * chunk + lane; k < k_end; k += lanes) acc = combine(acc, term(o, k, i));
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int s = lanes / 2; s > 0; s /= 2) {
    if (lane < s) partial[threadIdx.x] = combine(partial[threadIdx.x], partial[threadIdx.x + s * cols]);
    __syncthreads();
  }
  if (lane == 0 && i < inner) out[(c * outer + o) * inner + i] = from_compute<T>(partial[threadIdx.x]);
}

// The second stage's term: the first stage's partials [chunks, outer, inner].
template <typename Acc>
struct ReadPartials {
  const Acc* partials;
  int64_t outer, inner;
  __device__ Acc operator()(int64_t o, int64_t c, int64_t i) const { return partials[(c * outer + o) * inner + i]; }
};

// Terms one block column combines in the first stage: 128 per thread at
// 32 columns (8 lanes), 4 per thread at one column (256 lanes).
constexpr int64_t kTermsPerChunk = 1024;

// Launches reduce_kernel: 32 columns per block when reducing a middle dim
// (reads coalesce along i), one column and 256 lanes when inner == 1. A long
// reduction (n > kTermsPerChunk: layer-norm and bias gradients sum B * T rows)
// runs in two stages, so that many blocks share it instead of a few threads
// looping over all of it: the chunks into partials [chunks, outer, inner] (in
// the accumulation type), then the partials into out.
template <typename T, typename Term, typename Combine>
void launch_reduce(cudaStream_t stream, Term term, Combine combine, int64_t outer, int64_t n, int64_t inner, T* out) {
  using Acc = decltype(term(0, 0, 0));
  const int cols = inner > 1 ? 32 : 1;
  const int64_t column_blocks = (inner + cols - 1) / cols;
  const int64_t chunks = (n + kTermsPerChunk - 1) / kTermsPerChunk;
  if (chunks <= 1) {
    launch(stream, outer * column_blocks, reduce_kernel<T, Term, Combine>, term, combine, outer, n, n, inner, cols, out);
    return;
  }
  Tensor partials = Tensor::empty({chunks, outer, inner}, dtype_of<Acc>::value, Device::cuda(cuda_backend().device()));
  Acc* p = partials.data<Acc>();
  launch(stream, chunks * outer * column_blocks, reduce_kernel<Acc, Term, Combine>, term, combine, outer, n,
         kTermsPerChunk, inner, cols, p);
  launch(stream, outer * column_blocks, reduce_kernel<T, ReadPartials<Acc>, Combine>, ReadPartials<Acc>{p, outer, inner},
         combine, outer, chunks, chunks, inner, cols, out);
}  // partials is freed in stream order (or by a synchronising cudaFree)

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

// The dims of two views of `shape` with size-1 dims dropped and dims that are
// contiguous in both views merged: {size, stride in a, stride in b} each.
inline std::vector<std::array<int64_t, 3>> merged_dims(const Shape& shape, const Shape& strides_a,
                                                        const Shape& strides_b) {
  std::vector<std::array<int64_t, 3>> dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!dims.empty() && dims.back()[1] == strides_a[d] * shape[d] && dims.back()[2] == strides_b[d] * shape[d]) {
      dims.back() = {dims.back()[0] * shape[d], strides_a[d], strides_b[d]};  // one run in both views
      continue;
    }
    dims.push_back({shape[d], strides_a[d], strides_b[d]});
  }
  return dims;
}

// Whether a kernel can take the two views in one launch (at most kMaxDims
// merged dims); when not, the caller launches once per slice (for_each_slice).
inline bool fits_one_launch(const Shape& shape, const Shape& strides_a, const Shape& strides_b) {
  return merged_dims(shape, strides_a, strides_b).size() <= size_t(kMaxDims);
}

// fn(d, i) for each index i of d, the first dim larger than 1: slicing there
// leaves one merged dim fewer, so views of any rank reach fits_one_launch.
template <typename Fn>
void for_each_slice(const Shape& shape, Fn&& fn) {
  size_t d = 0;
  while (d < shape.size() && shape[d] == 1) ++d;
  for (int64_t i = 0; d < shape.size() && i < shape[d]; ++i) fn(int64_t(d), i);
}

inline StridedPair strided_pair(const Shape& shape, const Shape& strides_a, const Shape& strides_b, const char* op) {
  const std::vector<std::array<int64_t, 3>> dims = merged_dims(shape, strides_a, strides_b);
  PF_CHECK(dims.size() <= size_t(kMaxDims), op, "CUDA kernels take at most ", kMaxDims,
           " dims after merging, got shape ", shape_str(shape), " (HINT: split it with for_each_slice)");
  if (dims.empty()) return StridedPair{1, {1}, {0}, {0}};  // a single element
  StridedPair pair{};
  pair.dims = int(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    pair.size[d] = dims[d][0];
    pair.stride_a[d] = dims[d][1];
    pair.stride_b[d] = dims[d][2];
  }
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
