// pointer_alignment (cuda/alignment.h), which sets cuBLASLt's MIN_ALIGNMENT
// preferences in cuda/linear.cpp: header only and free of CUDA, so it is
// checked here, without a GPU. tests/cuda has the linear case it protects
// ("linear + bias, x at an odd offset").
#include <doctest/doctest.h>

#include <cstdint>

#include "cuda/alignment.h"

using pf::cuda::pointer_alignment;

namespace {
const void* at(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
}  // namespace

TEST_CASE("pointer_alignment: the largest power of two dividing the address, at most the cap") {
  CHECK(pointer_alignment(at(0x1000)) == 256);  // cudaMalloc's alignment and more: the cap
  CHECK(pointer_alignment(at(0x1100)) == 256);
  CHECK(pointer_alignment(at(0x1080)) == 128);
  CHECK(pointer_alignment(at(0x1010)) == 16);
  CHECK(pointer_alignment(at(0x1002)) == 2);  // a bf16 view one element in
  CHECK(pointer_alignment(at(0x1004)) == 4);  // an f32 view one element in
  CHECK(pointer_alignment(at(0x1001)) == 1);
  CHECK(pointer_alignment(at(0x1030), 16) == 16);
  CHECK(pointer_alignment(nullptr) == 256);
}

TEST_CASE("pointer_alignment: every element of a float array is aligned to 4 and no more than its offset allows") {
  alignas(256) static float data[64];
  for (int k = 0; k < 64; ++k) {
    CAPTURE(k);
    const uint32_t alignment = pointer_alignment(data + k);
    CHECK(alignment >= 4);
    CHECK(reinterpret_cast<std::uintptr_t>(data + k) % alignment == 0);
    CHECK((alignment == 256 || reinterpret_cast<std::uintptr_t>(data + k) % (2 * alignment) != 0));
  }
}
