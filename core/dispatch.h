// Turning a runtime DType into a template parameter, for the kernels of every
// backend (core/cpu/ and cuda/):
//   dispatch_float(x.dtype(), "softmax", [&]<typename T>() { ... });   // T = float or double
#pragma once
#include <cstdint>

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

// Calls fn.template operator()<T>() with T = float, double, bf16 or f16: for
// kernels that load half types and compute in f32 (CPU: compute_t in
// core/cpu/dispatch.h; CUDA: ComputeType in cuda/common.cuh).
template <typename Fn>
void dispatch_float_or_half(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::bf16: fn.template operator()<bf16>(); return;
    case DType::f16: fn.template operator()<f16>(); return;
    default: dispatch_float(dtype, op, fn);
  }
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
