// CPU kernel helpers: reading/writing any element type as a floating value
// (bf16/f16 go through f32) and walking strided views row by row. The DType
// dispatch itself is shared with the CUDA backend (core/dispatch.h).
#pragma once
#include <array>
#include <cstdint>

#include "core/dispatch.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"

namespace pf {

// Element conversions used by copy/cast: every type reads as double and is
// written from double; half types round through f32, integers saturate
// (saturate_to in core/dtype.h, shared with the CUDA kernels).
template <typename T> inline double load_as_double(T v) { return double(v); }
template <> inline double load_as_double(bf16 v) { return bf16_to_float(v); }
template <> inline double load_as_double(f16 v) { return f16_to_float(v); }
template <typename T> inline T store_from_double(double v) { return T(v); }
template <> inline bf16 store_from_double(double v) { return float_to_bf16(float(v)); }
template <> inline f16 store_from_double(double v) { return float_to_f16(float(v)); }
template <> inline uint8_t store_from_double(double v) { return saturate_to<uint8_t>(v); }
template <> inline int32_t store_from_double(double v) { return saturate_to<int32_t>(v); }
template <> inline int64_t store_from_double(double v) { return saturate_to<int64_t>(v); }

// Throws unless every one of the n ids lies in [0, bound), before a kernel
// reads or writes at them: the message is the CUDA kernels' (cuda/common.cuh).
template <typename I>
void check_ids(const I* ids, int64_t n, int64_t bound, const char* op) {
  for (int64_t i = 0; i < n; ++i)
    PF_CHECK(ids[i] >= 0 && ids[i] < bound, op, "index ", int64_t(ids[i]), " at position ", i, " outside [0, ", bound,
             ")");
}

// Offsets (in elements) of every element of a strided view, visited in
// row-major order one "row" (last dim) at a time:
//   for_each_row(shape, {strides_a, strides_b}, [&](int64_t row, const int64_t* base) {...})
// calls the callback once per row with the row's index and each view's offset
// to its first element; the caller walks the row with each view's last stride.
// Rows are independent, so the loop over them runs in parallel.
template <size_t NumViews, typename Fn>
void for_each_row(const Shape& shape, const std::array<const Shape*, NumViews>& strides, Fn&& fn) {
  const int64_t dims = int64_t(shape.size());
  const int64_t row_len = dims == 0 ? 1 : shape.back();
  const int64_t rows = row_len == 0 ? 0 : shape_numel(shape) / row_len;
#pragma omp parallel for schedule(static) if (rows * row_len > 32768)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t base[NumViews] = {};
    int64_t rest = row;
    for (int64_t d = dims - 2; d >= 0; --d) {
      int64_t i = rest % shape[size_t(d)];
      rest /= shape[size_t(d)];
      for (size_t v = 0; v < NumViews; ++v) base[v] += i * (*strides[v])[size_t(d)];
    }
    fn(row, static_cast<const int64_t*>(base));
  }
}

}  // namespace pf
