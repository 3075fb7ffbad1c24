// Element types. bf16 and f16 are stored as 16-bit words; on the CPU they are
// converted to f32 for arithmetic (the conversions below).
#pragma once
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>

#include "core/error.h"
#include "core/host_device.h"

namespace pf {

enum class DType : uint8_t { f32, f64, bf16, f16, i32, i64, u8 };

// Bytes per element.
size_t dtype_size(DType t);
// "f32", "bf16", ... (also the names used in configs).
const char* dtype_name(DType t);
// Inverse of dtype_name; throws pf::Error naming `name` when unknown.
DType dtype_from_name(const std::string& name);
inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16; }
inline bool is_half(DType t) { return t == DType::bf16 || t == DType::f16; }
inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

// 16-bit float storage types with conversion to and from f32.
struct bf16 {
  uint16_t bits;
};
struct f16 {
  uint16_t bits;
};

// An f32's bits, and the f32 of some bits.
inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// bf16 is the upper half of an f32; round to nearest even on the way down.
inline float bf16_to_float(bf16 h) { return f32_from_bits(uint32_t(h.bits) << 16); }
inline bf16 float_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};  // keep NaN a NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{uint16_t(u >> 16)};
}
// IEEE binary16, round to nearest even, with subnormals, inf and NaN.
// Without branches (F. Giesen's conversions: every case is computed, then one
// is selected), so that a loop over f16 elements vectorises with whatever
// vector instructions the build targets: called out of line with branches,
// they were a third of an f16 training step. Bit for bit the plain
// *_reference versions below (tests/core/test_dtype.cpp).
inline float f16_to_float(f16 h) {
  constexpr uint32_t kExpMask = 0x7c00u << 13;                      // the f16 exponent, moved to f32's place
  const uint32_t shifted = uint32_t(h.bits & 0x7fffu) << 13;        // exponent and mantissa in f32's place
  const uint32_t exp = shifted & kExpMask;
  const uint32_t normal = shifted + ((127u - 15u) << 23);           // rebias the exponent
  const uint32_t inf_nan = normal + ((128u - 16u) << 23);           // exponent all ones
  // A subnormal (or zero) m * 2^-24: exponent 2^-14 put in, and the implicit 1 taken out by subtracting 2^-14.
  const uint32_t subnormal = f32_bits(f32_from_bits(normal + (1u << 23)) - f32_from_bits(113u << 23));
  const uint32_t magnitude = exp == kExpMask ? inf_nan : exp == 0 ? subnormal : normal;
  return f32_from_bits(magnitude | uint32_t(h.bits & 0x8000u) << 16);
}
inline f16 float_to_f16(float f) {
  const uint32_t u = f32_bits(f), sign = u & 0x80000000u, magnitude = u ^ sign;
  // |f| >= 2^16 (beyond 65504 + half an ulp even before rounding), inf or NaN: inf, or a quiet NaN.
  const uint32_t huge = magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u;
  // |f| < 2^-14, an f16 subnormal or zero: adding 0.5 puts the 10 mantissa bits at the bottom of an f32,
  // rounded to nearest even by the addition itself.
  constexpr uint32_t kHalf = 126u << 23;
  const uint32_t subnormal = f32_bits(f32_from_bits(magnitude) + f32_from_bits(kHalf)) - kHalf;
  // A normal: rebias the exponent, round to nearest even at bit 13, keep the top bits (a carry into
  // the exponent is right, up to inf).
  const uint32_t normal = (magnitude - (112u << 23) + 0xfffu + ((magnitude >> 13) & 1u)) >> 13;
  const uint32_t bits = magnitude >= (143u << 23) ? huge : magnitude < (113u << 23) ? subnormal : normal;
  return f16{uint16_t(bits | sign >> 16)};
}
// The same, written case by case: the oracle of the two above.
float f16_to_float_reference(f16 h);
f16 float_to_f16_reference(float f);

// double -> integer element type, as every cast does on both devices: NaN gives
// 0, values beyond the type's range its minimum or maximum (they saturate, as
// CUDA's conversions do, instead of wrapping), the rest truncate toward zero.
template <typename I> PF_HOST_DEVICE I saturate_to(double v);
template <> PF_HOST_DEVICE inline uint8_t saturate_to(double v) {
  return v != v ? 0 : v <= 0.0 ? 0 : v >= 255.0 ? 255 : uint8_t(v);
}
template <> PF_HOST_DEVICE inline int32_t saturate_to(double v) {
  return v != v ? 0 : v <= -2147483648.0 ? INT32_MIN : v >= 2147483647.0 ? INT32_MAX : int32_t(v);
}
template <> PF_HOST_DEVICE inline int64_t saturate_to(double v) {  // 2^63 is the first double past the range
  return v != v ? 0 : v <= -9223372036854775808.0 ? INT64_MIN : v >= 9223372036854775808.0 ? INT64_MAX : int64_t(v);
}

// Maps a C++ element type to its DType tag.
template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<bf16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<f16> { static constexpr DType value = DType::f16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };

}  // namespace pf
