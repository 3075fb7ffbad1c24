// The alignment of a pointer, as cuBLASLt's MIN_ALIGNMENT_{A,B,C,D}_BYTES
// preferences take it (cuda/linear.cpp). Without them cuBLASLt assumes every
// operand is 256-byte aligned (what cudaMalloc returns) and may pick a kernel
// that loads 16 bytes at a time, which faults on a view at an odd offset.
// The bias epilogue has no such preference: its vector is read 16 bytes at a
// time whatever the kernel, so linear takes it only from a bias that is
// (bias_epilogue_allowed) and falls back to the unfused path otherwise.
// Header only and free of CUDA, so the CPU tests check it.
#pragma once
#include <cstdint>

namespace pf::cuda {

// The largest power of two, at most `cap`, that divides the address of `p`
// (`cap` for a null pointer).
inline uint32_t pointer_alignment(const void* p, uint32_t cap = 256) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  uint32_t alignment = 1;
  while (alignment < cap && address % (std::uintptr_t(alignment) * 2) == 0) alignment *= 2;
  return alignment;
}

// Whether cuBLASLt's bias epilogue may read `bias`: at least 16 bytes aligned.
// A bias packed one f32 off a 16-byte boundary (a flat parameter buffer
// without padding, nn/optim/flat_parameters.h) is refused.
constexpr uint32_t kBiasEpilogueAlignment = 16;
inline bool bias_epilogue_allowed(const void* bias) {
  return pointer_alignment(bias) >= kBiasEpilogueAlignment;
}

}  // namespace pf::cuda
