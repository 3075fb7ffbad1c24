// Helpers of the CPU kernels: reading and writing any element type as a
// floating value (bf16/f16 go through f32), half-type rows seen as f32 rows,
// and walking strided views row by row. The dtype dispatch and compute_t are
// shared with the CUDA backend (core/dispatch.h).
#pragma once
#include <array>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"

namespace pf {

// Elements (or element-steps of work) below which a kernel's OpenMP loop runs
// on one thread: starting the team costs more than the threads save.
constexpr int64_t kParallelThreshold = 32768;

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

// ---- half types: load as f32, compute in f32 (compute_t), store ----
template <typename T> inline compute_t<T> load(T v) { return v; }
template <> inline float load(bf16 v) { return bf16_to_float(v); }
template <> inline float load(f16 v) { return f16_to_float(v); }
template <typename T> inline T store(compute_t<T> v) { return v; }
template <> inline bf16 store(float v) { return float_to_bf16(v); }
template <> inline f16 store(float v) { return float_to_f16(v); }

// One element of S as D, as copy/cast writes it: between f32 and the half
// types through f32 (the same value as through double, in a loop that
// vectorises), otherwise through double.
template <typename D, typename S>
D convert(S v) {
  constexpr bool f32_or_half = std::is_same_v<compute_t<S>, float> && std::is_same_v<compute_t<D>, float>;
  if constexpr (f32_or_half)
    return store<D>(load(v));
  else
    return store_from_double<D>(load_as_double(v));
}

// One row of n elements of T seen as compute_t<T> values, for kernels that
// work on whole rows (Eigen's vectorised exp, two-pass statistics): for f32
// and f64 the row itself; for half types a row-sized f32 copy in a per-thread
// buffer (`slot` tells apart the rows one kernel holds at once), so no
// full-tensor copy is ever made.
template <typename T>
class RowIn {
 public:
  RowIn(const T* p, int64_t n, int slot) {
    if constexpr (std::is_same_v<T, compute_t<T>>) {
      data_ = p;
    } else {
      float* buffer = row_buffer(n, slot);
      for (int64_t i = 0; i < n; ++i) buffer[i] = load(p[i]);
      data_ = buffer;
    }
  }
  const compute_t<T>* data() const { return data_; }

  // A per-thread buffer of n floats; slots 0..3.
  static float* row_buffer(int64_t n, int slot) {
    thread_local std::vector<float> buffers[4];
    std::vector<float>& b = buffers[slot];
    if (int64_t(b.size()) < n) b.resize(size_t(n));
    return b.data();
  }

 private:
  const compute_t<T>* data_;
};

// The output counterpart: data() is written by the kernel and, for half
// types, rounded into the tensor when the RowOut goes out of scope.
template <typename T>
class RowOut {
 public:
  RowOut(T* p, int64_t n, int slot) : p_(p), n_(n) {
    if constexpr (std::is_same_v<T, compute_t<T>>)
      data_ = p;
    else
      data_ = RowIn<T>::row_buffer(n, slot);
  }
  ~RowOut() {
    if constexpr (!std::is_same_v<T, compute_t<T>>)
      for (int64_t i = 0; i < n_; ++i) p_[i] = store<T>(data_[i]);
  }
  RowOut(const RowOut&) = delete;
  RowOut& operator=(const RowOut&) = delete;
  compute_t<T>* data() { return data_; }

 private:
  T* p_;
  int64_t n_;
  compute_t<T>* data_;
};

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
#pragma omp parallel for schedule(static) if (rows * row_len > kParallelThreshold)
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

// out[i] = f(a[i], b[i]) over out (contiguous), where a and b are views of
// out's shape with any strides (stride 0 where broadcast) and f takes T (and
// b's TB) and returns T (it loads, computes and stores). Two contiguous inputs
// make one flat loop; otherwise rows are walked with for_each_row.
template <typename T, typename TB = T, typename F>
void map_broadcast(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* ap = a.data<T>();
  const TB* bp = b.data<TB>();
  T* o = out.data<T>();
  const int64_t n = out.numel();
  if (a.is_contiguous() && b.is_contiguous()) {  // no broadcasting: one flat loop
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) o[i] = f(ap[i], bp[i]);
    return;
  }
  const int64_t row_len = out.dim() == 0 ? 1 : out.size(-1);
  const int64_t a_step = out.dim() == 0 ? 0 : a.stride(-1);
  const int64_t b_step = out.dim() == 0 ? 0 : b.stride(-1);
  for_each_row<2>(out.shape(), {&a.strides(), &b.strides()}, [&](int64_t row, const int64_t* base) {
    const T* a_row = ap + base[0];
    const TB* b_row = bp + base[1];
    T* o_row = o + row * row_len;
    if (a_step == 1 && b_step == 1) {  // e.g. adding a bias row: both rows contiguous
#pragma omp simd
      for (int64_t i = 0; i < row_len; ++i) o_row[i] = f(a_row[i], b_row[i]);
    } else {
      for (int64_t i = 0; i < row_len; ++i) o_row[i] = f(a_row[i * a_step], b_row[i * b_step]);
    }
  });
}

}  // namespace pf
