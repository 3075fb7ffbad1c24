// The public entry point of the CUDA backend (library pf_cuda). Core never
// depends on cuda/, so an app plugs the backend in itself, once, at start-up:
//
//   #ifdef PF_HAVE_CUDA                        // defined for targets linking pf_cuda
//   #include "cuda/register.h"
//   ...
//   pf::cuda::register_backend();              // false when the machine has no GPU
//   #endif
//
// After that, tensors on Device::cuda() use the GPU. Without the call (or
// without a GPU) pf::backend_for(Device::cuda()) throws pf::Error.
// This header pulls in no CUDA headers, so plain C++ code can include it.
#pragma once

namespace pf::cuda {

// Number of visible CUDA devices; 0 when there is no GPU or no driver.
int device_count();

// Makes `device` the current CUDA device and registers the CUDA backend for
// Device::cuda() tensors. Returns false, registering nothing, when there is no
// CUDA device. The backend serves one GPU per process: call this once (again
// with the same device is a no-op; another device throws pf::Error).
bool register_backend(int device = 0);

}  // namespace pf::cuda
