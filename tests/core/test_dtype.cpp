// The f16 conversions of core/dtype.h (branch-free, so that loops over them
// vectorise) against the plain ones written case by case, bit for bit: every
// f16, and every f32 whose low 12 bits are one of a few patterns (the top 20
// bits, all of them, hold every exponent and every rounding position of an
// f16 normal or subnormal; the low ones are the sticky bits below them). Both
// again through ops::to, whose loops are the vectorised copies, and, where the
// build targets F16C, the reference against the CPU's own conversion.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/ops.h"

#ifdef __F16C__
#include <immintrin.h>
#endif

using namespace pf;

namespace {

// f32 bit patterns: all 2^20 top-20-bit values, each with these low 12 bits.
std::vector<uint32_t> f32_patterns() {
  std::vector<uint32_t> patterns;
  for (uint32_t top = 0; top < (1u << 20); ++top)
    for (uint32_t low : {0x000u, 0x001u, 0x7ffu, 0x800u, 0x801u, 0xfffu}) patterns.push_back(top << 12 | low);
  return patterns;
}

std::string hex(uint32_t bits) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", bits);
  return text;
}

bool is_nan_bits(uint16_t h) { return (h & 0x7fffu) > 0x7c00u; }

}  // namespace

TEST_CASE("dtype: f16 -> f32 equals the reference for every f16") {
  int64_t mismatches = 0;
  std::vector<float> expected(1u << 16);
  std::vector<uint16_t> all(1u << 16);
  for (uint32_t h = 0; h < (1u << 16); ++h) {
    all[h] = uint16_t(h);
    expected[h] = f16_to_float_reference(f16{uint16_t(h)});
    if (f32_bits(f16_to_float(f16{uint16_t(h)})) != f32_bits(expected[h]) && mismatches++ < 5)
      FAIL_CHECK("f16 ", hex(h), ": ", f16_to_float(f16{uint16_t(h)}), " against ", expected[h]);
#ifdef __F16C__
    if (!is_nan_bits(uint16_t(h))) CHECK(f32_bits(_cvtsh_ss(uint16_t(h))) == f32_bits(expected[h]));
#endif
  }
  CHECK(mismatches == 0);
  // The same through a cast of a tensor (the vectorised loop).
  Tensor bits = Tensor::empty({1 << 16}, DType::f16);
  std::memcpy(bits.raw_data(), all.data(), all.size() * 2);
  const std::vector<float> cast = ops::to(bits, DType::f32).to_vector<float>();
  for (size_t i = 0; i < cast.size(); ++i)
    if (f32_bits(cast[i]) != f32_bits(expected[i])) {
      FAIL("ops::to f16 -> f32 at ", hex(uint32_t(i)), ": ", cast[i], " against ", expected[i]);
    }
}

TEST_CASE("dtype: f32 -> f16 equals the reference at every rounding position") {
  const std::vector<uint32_t> patterns = f32_patterns();
  std::vector<float> values(patterns.size());
  std::vector<uint16_t> expected(patterns.size());
  int64_t mismatches = 0;
  for (size_t i = 0; i < patterns.size(); ++i) {
    values[i] = f32_from_bits(patterns[i]);
    expected[i] = float_to_f16_reference(values[i]).bits;
    if (float_to_f16(values[i]).bits != expected[i] && mismatches++ < 5)
      FAIL_CHECK("f32 ", hex(patterns[i]), ": ", hex(float_to_f16(values[i]).bits), " against ", hex(expected[i]));
#ifdef __F16C__
    if (!std::isnan(values[i]))
      CHECK(_cvtss_sh(values[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) == expected[i]);
#endif
  }
  CHECK(mismatches == 0);
  Tensor rounded = ops::to(Tensor::from_vector(values, {int64_t(values.size())}), DType::f16);
  const uint16_t* cast = static_cast<const uint16_t*>(rounded.raw_data());
  for (size_t i = 0; i < values.size(); ++i)
    if (cast[i] != expected[i]) {
      FAIL("ops::to f32 -> f16 at ", hex(patterns[i]), ": ", hex(cast[i]), " against ", hex(expected[i]));
    }
}

TEST_CASE("dtype: f16 edge values") {
  CHECK(f16_to_float(float_to_f16(65504.0f)) == 65504.0f);              // the largest f16
  CHECK(std::isinf(f16_to_float(float_to_f16(65520.0f))));              // halfway to 2^16: rounds to inf
  CHECK(f16_to_float(float_to_f16(65519.99f)) == 65504.0f);
  CHECK(f16_to_float(float_to_f16(0x1p-24f)) == 0x1p-24f);              // the smallest subnormal
  CHECK(f16_to_float(float_to_f16(0x1p-25f)) == 0.0f);                  // halfway to it: even, zero
  CHECK(f16_to_float(float_to_f16(0x1.8p-24f)) == 0x1p-23f);            // 1.5 ulp: to even, 2 ulp
  CHECK(float_to_f16(-0.0f).bits == 0x8000u);
  CHECK(std::isnan(f16_to_float(float_to_f16(std::nanf("")))));
  CHECK(f16_to_float(f16{0xfc00u}) == -INFINITY);
}
