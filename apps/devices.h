// Plugs in the CUDA backend when this build has one (pf_cuda linked), so that
// tensors on Device::cuda() work; a no-op in a CPU-only build or on a machine
// without a GPU (then asking for device cuda fails with a clear pf::Error).
#pragma once
#ifdef PF_HAVE_CUDA
#include "cuda/register.h"
#endif

inline void register_devices() {
#ifdef PF_HAVE_CUDA
  pf::cuda::register_backend(0);
#endif
}
