// The public entry point of the CUDA backend (library pf_cuda). Core never
// depends on cuda/, so an app plugs the backend in itself, once, at start-up:
//
//   #ifdef PF_HAVE_CUDA                        // defined for targets linking pf_cuda
//   #include "cuda/register.h"
//   ...
//   pf::cuda::enable_lazy_backend();           // touches no GPU until a tensor goes to one
//   #endif
//
// After that, tensors on Device::cuda(n) use GPU n (the first one asked for
// serves the process). Without the call pf::backend_for(Device::cuda()) throws
// pf::Error; without a GPU so does the first CUDA tensor.
// This header pulls in no CUDA headers, so plain C++ code can include it.
#pragma once

namespace pf::cuda {

// Number of visible CUDA devices; 0 when there is no GPU or no driver.
// pf::Error with the CUDA error when the driver cannot serve this build (too old).
int device_count();

// Lets the first tensor on Device::cuda(n) create the backend for GPU n: no
// CUDA context is opened by a process that never uses a GPU.
void enable_lazy_backend();

// Makes `device` the current CUDA device and registers the CUDA backend for
// Device::cuda() tensors. Returns false, registering nothing, when there is no
// CUDA device. The backend serves one GPU per process: call this once (again
// with the same device is a no-op; another device throws pf::Error).
bool register_backend(int device = 0);

}  // namespace pf::cuda
