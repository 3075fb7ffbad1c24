// PF_HOST_DEVICE marks the small inline functions that the CPU backend and the
// CUDA kernels share (core/philox.h, the integer casts in core/dtype.h), so
// both devices run the same formula.
#pragma once

#if defined(__CUDACC__)
#define PF_HOST_DEVICE __host__ __device__
#else
#define PF_HOST_DEVICE
#endif
