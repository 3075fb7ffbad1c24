// Plugs in the CUDA backend when this build has one (pf_cuda linked), lazily:
// nothing touches a GPU until the first tensor on Device::cuda(n), which opens
// GPU n. A no-op in a CPU-only build (then asking for device cuda fails with a
// clear pf::Error), and a device: cpu run never opens a CUDA context.
#pragma once
#ifdef PF_HAVE_CUDA
#include "cuda/register.h"
#endif

inline void register_devices() {
#ifdef PF_HAVE_CUDA
  pf::cuda::enable_lazy_backend();
#endif
}
