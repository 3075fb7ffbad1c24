// CPU memory, copies between dtypes and layouts, fills and random fills.
#include <algorithm>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/host_cache.h"
#include "core/philox.h"

namespace pf {

CpuBackend::CpuBackend() {
  // Tensors go through the caching allocator (allocate below). The other large
  // buffers (Eigen's packing blocks for f64, kernels' scratch) are freed and
  // allocated again every step too. By default glibc serves blocks over
  // 128 KiB with mmap and returns them with munmap, so every step pays for
  // fresh zero-filled pages. Keeping freed memory in the heap lets the next
  // step reuse it.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

CpuBackend& cpu_backend() {
  // Never destroyed: tensors in other static objects may be freed after it.
  static CpuBackend* backend = new CpuBackend;
  return *backend;
}

// Through the caching allocator (host_cache.cpp): a step after the first
// reuses the blocks of the step before, whose pages are already mapped.
void* CpuBackend::allocate(size_t nbytes) { return cpu::host_cache_allocate(nbytes); }

void CpuBackend::deallocate(void* ptr) { cpu::host_cache_free(ptr); }

void CpuBackend::copy_to_host(const void* src, void* host_dst, size_t nbytes) {
  if (nbytes) std::memcpy(host_dst, src, nbytes);
}
void CpuBackend::copy_from_host(const void* host_src, void* dst, size_t nbytes) {
  if (nbytes) std::memcpy(dst, host_src, nbytes);
}

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  const int64_t row_len = dst.dim() == 0 ? 1 : dst.size(-1);
  const int64_t src_step = src.dim() == 0 ? 0 : src.stride(-1);
  const int64_t dst_step = dst.dim() == 0 ? 0 : dst.stride(-1);
  dispatch_any(src.dtype(), [&]<typename S>() {
    dispatch_any(dst.dtype(), [&]<typename D>() {
      const S* s = static_cast<const S*>(src.raw_data());
      D* d = static_cast<D*>(dst.raw_data());
      if constexpr (std::is_same_v<S, D>) {
        if (src.is_contiguous() && dst.is_contiguous()) {
          std::memcpy(d, s, size_t(dst.numel()) * sizeof(D));
          return;
        }
      }
      for_each_row<2>(dst.shape(), {&src.strides(), &dst.strides()}, [&](int64_t, const int64_t* base) {
        const S* s_row = s + base[0];
        D* d_row = d + base[1];
        if constexpr (std::is_same_v<S, D>) {
          if (src_step == 1 && dst_step == 1) {  // e.g. a permute that keeps the last dim
            std::memcpy(d_row, s_row, size_t(row_len) * sizeof(D));
            return;
          }
        }
        if (src_step == 1 && dst_step == 1) {  // a cast of contiguous rows: vectorised
#pragma omp simd
          for (int64_t i = 0; i < row_len; ++i) d_row[i] = convert<D>(s_row[i]);
          return;
        }
        for (int64_t i = 0; i < row_len; ++i) d_row[i * dst_step] = convert<D>(s_row[i * src_step]);
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  dispatch_any(dst.dtype(), [&]<typename T>() {
    T* d = static_cast<T*>(dst.raw_data());
    const T v = store_from_double<T>(value);
    const int64_t n = dst.numel();
    for (int64_t i = 0; i < n; ++i) d[i] = v;
  });
}

void CpuBackend::random_uniform(const Tensor& dst, double lo, double hi, uint64_t seed, uint64_t offset) {
  dispatch_float(dst.dtype(), "random_uniform", [&]<typename T>() {
    T* d = dst.data<T>();
    const int64_t n = dst.numel();
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] = T(uniform_between(lo, hi, philox_uniform(seed, offset, uint64_t(i))));
  });
}

void CpuBackend::random_normal(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) {
  dispatch_float(dst.dtype(), "random_normal", [&]<typename T>() {
    T* d = dst.data<T>();
    const int64_t n = dst.numel();
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] = T(normal_with(mean, std, philox_normal(seed, offset, uint64_t(i))));
  });
}

void CpuBackend::dropout_mask(const Tensor& mask, double p, uint64_t seed, uint64_t offset) {
  dispatch_float_or_half(mask.dtype(), "dropout_mask", [&]<typename T>() {
    T* d = mask.data<T>();
    const int64_t n = mask.numel();
    const T keep_scale = store<T>(compute_t<T>(1.0 / (1.0 - p))), zero = store<T>(0);
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] = double(philox_uniform(seed, offset, uint64_t(i))) >= p ? keep_scale : zero;
  });
}

}  // namespace pf
