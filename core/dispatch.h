// Turning a runtime DType into a template parameter, for the kernels of every
// backend (core/cpu/ and cuda/):
//   dispatch_float(x.dtype(), "softmax", [&]<typename T>() { ... });   // T = float or double
// and the type such a kernel computes in (compute_t).
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "core/error.h"

namespace pf {

// Calls fn.template operator()<T>() with T = float or double.
template <typename Fn>
void dispatch_float(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn.template operator()<float>(); return;
    case DType::f64: fn.template operator()<double>(); return;
    default: PF_FAIL(op, "kernel needs f32 or f64, got ", dtype);
  }
}

// The arithmetic type of a kernel whose tensors hold T: f32 for bf16 and f16
// (loaded, computed in f32, rounded as they are stored), T itself otherwise.
// The CPU and CUDA kernels share it, so both backends compute in the same type.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, bf16> || std::is_same_v<T, f16>, float, T>;

// Calls fn.template operator()<T>() with T = float, double, bf16 or f16: for
// kernels that load half types and compute in compute_t<T> (CPU: load/store
// in core/cpu/kernel_helpers.h; CUDA: to_compute/from_compute in
// cuda/common.cuh).
template <typename Fn>
void dispatch_float_or_half(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::bf16: fn.template operator()<bf16>(); return;
    case DType::f16: fn.template operator()<f16>(); return;
    default: dispatch_float(dtype, op, fn);
  }
}

// For the mixed calls of core/backend.h (an f32 input with a half output or
// gradient, the f32 result rounded once): calls fn.template operator()<T, TH>()
// with T = float and TH = bf16 or f16 where x is f32 and `half` is bf16 or
// f16, else with TH = T for x's dtype as dispatch_float_or_half does.
template <typename Fn>
void dispatch_mixed(DType x, DType half, const char* op, Fn&& fn) {
  if (x == DType::f32 && half == DType::bf16) return fn.template operator()<float, bf16>();
  if (x == DType::f32 && half == DType::f16) return fn.template operator()<float, f16>();
  dispatch_float_or_half(x, op, [&]<typename T>() { fn.template operator()<T, T>(); });
}

// Same for integer index tensors (i32 or i64).
template <typename Fn>
void dispatch_index(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::i32: fn.template operator()<int32_t>(); return;
    case DType::i64: fn.template operator()<int64_t>(); return;
    default: PF_FAIL(op, "index tensor must be i32 or i64, got ", dtype);
  }
}

// Same for every dtype.
template <typename Fn>
void dispatch_any(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: fn.template operator()<float>(); return;
    case DType::f64: fn.template operator()<double>(); return;
    case DType::bf16: fn.template operator()<bf16>(); return;
    case DType::f16: fn.template operator()<f16>(); return;
    case DType::i32: fn.template operator()<int32_t>(); return;
    case DType::i64: fn.template operator()<int64_t>(); return;
    case DType::u8: fn.template operator()<uint8_t>(); return;
  }
}

}  // namespace pf
