// Copies between layouts and dtypes, fills, and the Philox random fills
// (core/philox.h: element i depends only on (seed, offset, i), so the uniform
// stream and the dropout mask are bit-identical to the CPU's).
#include "core/ops.h"
#include "core/philox.h"
#include "cuda/common.cuh"

namespace pf::cuda {

namespace {

// Any dtype read as double / written from double, converting as the CPU's
// load_as_double / store_from_double (core/cpu/kernel_helpers.h) do.
__device__ double load_as_double(const void* p, DType type, int64_t i) {
  switch (type) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::f64: return static_cast<const double*>(p)[i];
    case DType::bf16: return to_compute(static_cast<const bf16*>(p)[i]);
    case DType::f16: return to_compute(static_cast<const f16*>(p)[i]);
    case DType::i32: return static_cast<const int32_t*>(p)[i];
    case DType::i64: return double(static_cast<const int64_t*>(p)[i]);
    case DType::u8: return static_cast<const uint8_t*>(p)[i];
  }
  return 0;
}

__device__ void store_from_double(void* p, DType type, int64_t i, double v) {
  switch (type) {
    case DType::f32: static_cast<float*>(p)[i] = float(v); return;
    case DType::f64: static_cast<double*>(p)[i] = v; return;
    case DType::bf16: static_cast<bf16*>(p)[i] = from_compute<bf16>(float(v)); return;
    case DType::f16: static_cast<f16*>(p)[i] = from_compute<f16>(float(v)); return;
    case DType::i32: static_cast<int32_t*>(p)[i] = saturate_to<int32_t>(v); return;
    case DType::i64: static_cast<int64_t*>(p)[i] = saturate_to<int64_t>(v); return;
    case DType::u8: static_cast<uint8_t*>(p)[i] = saturate_to<uint8_t>(v); return;
  }
}

// One thread per element i of dst (row-major over its shape); `layout` gives
// the element's offsets in src (a) and dst (b).
// Same dtype: moves the bits, Word being an unsigned integer of the element's size.
template <typename Word>
__global__ void copy_bits_kernel(const Word* src, Word* dst, StridedPair layout, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  int64_t s, d;
  layout.offsets(i, s, d);
  dst[d] = src[s];
}

// Different dtypes: through double.
__global__ void cast_kernel(const void* src, DType src_type, void* dst, DType dst_type, StridedPair layout, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  int64_t s, d;
  layout.offsets(i, s, d);
  store_from_double(dst, dst_type, d, load_as_double(src, src_type, s));
}

// dst[i] = value, converted to dst's dtype on the device (same conversion as a cast).
__global__ void fill_kernel(void* dst, DType type, double value, int64_t n) {
  const int64_t i = global_index();
  if (i < n) store_from_double(dst, type, i, value);
}

// The formulas of core/cpu/memory.cpp, one thread per element i.
template <typename T>
__global__ void uniform_kernel(T* dst, double lo, double hi, uint64_t seed, uint64_t offset, int64_t n) {
  const int64_t i = global_index();
  if (i < n) dst[i] = from_compute<T>(compute_t<T>(uniform_between(lo, hi, philox_uniform(seed, offset, uint64_t(i)))));
}

template <typename T>
__global__ void normal_kernel(T* dst, double mean, double std, uint64_t seed, uint64_t offset, int64_t n) {
  const int64_t i = global_index();
  if (i < n) dst[i] = from_compute<T>(compute_t<T>(normal_with(mean, std, philox_normal(seed, offset, uint64_t(i)))));
}

template <typename T>
__global__ void dropout_mask_kernel(T* mask, double p, compute_t<T> keep_scale, uint64_t seed, uint64_t offset, int64_t n) {
  const int64_t i = global_index();
  if (i < n) mask[i] = from_compute<T>(double(philox_uniform(seed, offset, uint64_t(i))) >= p ? keep_scale : 0);
}

// Calls fn.template operator()<Word>() with the unsigned integer type of `bytes` bytes.
template <typename Fn>
void dispatch_word(size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1: fn.template operator()<uint8_t>(); return;
    case 2: fn.template operator()<uint16_t>(); return;
    case 4: fn.template operator()<uint32_t>(); return;
    case 8: fn.template operator()<uint64_t>(); return;
    default: PF_FAIL("copy", "no ", bytes, "-byte element type");
  }
}

}  // namespace

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  const int64_t n = dst.numel();
  const size_t element = dtype_size(dst.dtype());
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    if (n)
      cudaCheck(
          cudaMemcpyAsync(dst.raw_data(), src.raw_data(), size_t(n) * element, cudaMemcpyDeviceToDevice, stream_));
    return;
  }
  if (!fits_one_launch(dst.shape(), src.strides(), dst.strides())) {  // the CPU takes any rank: so do we
    for_each_slice(dst.shape(), [&](int64_t d, int64_t i) { copy(ops::narrow(src, d, i, 1), ops::narrow(dst, d, i, 1)); });
    return;
  }
  const StridedPair layout = strided_pair(dst.shape(), src.strides(), dst.strides(), "copy");
  if (src.dtype() != dst.dtype()) {
    launch(stream_, blocks_for(n), cast_kernel, src.raw_data(), src.dtype(), dst.raw_data(), dst.dtype(), layout, n);
    return;
  }
  dispatch_word(element, [&]<typename Word>() {
    launch(stream_, blocks_for(n), copy_bits_kernel<Word>, static_cast<const Word*>(src.raw_data()),
           static_cast<Word*>(dst.raw_data()), layout, n);
  });
}

void CudaBackend::fill(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  launch(stream_, blocks_for(n), fill_kernel, dst.raw_data(), dst.dtype(), value, n);
}

void CudaBackend::random_uniform(const Tensor& dst, double lo, double hi, uint64_t seed, uint64_t offset) {
  dispatch_float_or_half(dst.dtype(), "random_uniform", [&]<typename T>() {
    const int64_t n = dst.numel();
    launch(stream_, blocks_for(n), uniform_kernel<T>, dst.data<T>(), lo, hi, seed, offset, n);
  });
}

void CudaBackend::random_normal(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) {
  dispatch_float_or_half(dst.dtype(), "random_normal", [&]<typename T>() {
    const int64_t n = dst.numel();
    launch(stream_, blocks_for(n), normal_kernel<T>, dst.data<T>(), mean, std, seed, offset, n);
  });
}

void CudaBackend::dropout_mask(const Tensor& mask, double p, uint64_t seed, uint64_t offset) {
  dispatch_float_or_half(mask.dtype(), "dropout_mask", [&]<typename T>() {
    const int64_t n = mask.numel();
    const compute_t<T> keep_scale = compute_t<T>(1.0 / (1.0 - p));  // computed on the host, as the CPU does
    launch(stream_, blocks_for(n), dropout_mask_kernel<T>, mask.data<T>(), p, keep_scale, seed, offset, n);
  });
}

}  // namespace pf::cuda
