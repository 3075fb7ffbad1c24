// pointer_alignment (cuda/alignment.h), which sets cuBLASLt's MIN_ALIGNMENT
// preferences in cuda/linear.cpp, and bias_epilogue_allowed, which decides
// whether linear adds its bias in the GEMM's epilogue: header only and free
// of CUDA, so they are checked here, without a GPU. tests/cuda has the linear
// cases they protect ("linear + bias, x at an odd offset", "... bias at an
// odd offset").
#include <doctest/doctest.h>

#include <cstdint>

#include "cuda/alignment.h"

using pf::cuda::bias_epilogue_allowed;
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

TEST_CASE("bias_epilogue_allowed: a bias 16 bytes aligned or more takes the epilogue, any less falls back") {
  CHECK(bias_epilogue_allowed(at(0x1000)));  // cudaMalloc'd, or a flat parameter at a multiple of 64 elements
  CHECK(bias_epilogue_allowed(at(0x1010)));
  CHECK(bias_epilogue_allowed(nullptr));
  CHECK_FALSE(bias_epilogue_allowed(at(0x1004)));  // f32 one element after a one-element bias
  CHECK_FALSE(bias_epilogue_allowed(at(0x1008)));
  CHECK_FALSE(bias_epilogue_allowed(at(0x1002)));  // bf16 one element in
  // A flat buffer packed without padding after expr_head.bias [1]: the next
  // parameter's f32 bias lands 4 bytes past the boundary whatever the sizes before.
  alignas(256) static float flat[64];
  CHECK_FALSE(bias_epilogue_allowed(flat + 1));
  CHECK(bias_epilogue_allowed(flat + 4));
}
