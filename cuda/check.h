// Error checks for CUDA runtime, cuBLAS and NCCL calls. Each macro evaluates
// the call once and, when it fails, throws pf::Error naming the call text, the
// library's error string and file:line (cudaCheck first clears the runtime's
// last-error slot, so the next launch check does not report the same error):
//   cudaCheck(cudaMemcpyAsync(...));
//   cublasCheck(cublasSetStream(handle, stream));
//   ncclCheck(ncclAllReduce(...));   // only where PF_HAVE_NCCL is defined
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"

#define cudaCheck(call)                                                                                          \
  do {                                                                                                           \
    const cudaError_t pf_status_ = (call);                                                                       \
    if (pf_status_ != cudaSuccess) {                                                                             \
      (void)cudaGetLastError();                                                                                  \
      ::pf::detail::throw_error(__FILE__, __LINE__, "cuda", #call, " failed: ", cudaGetErrorString(pf_status_)); \
    }                                                                                                            \
  } while (0)

#define cublasCheck(call)                                                                                             \
  do {                                                                                                                \
    const cublasStatus_t pf_status_ = (call);                                                                         \
    if (pf_status_ != CUBLAS_STATUS_SUCCESS)                                                                          \
      ::pf::detail::throw_error(__FILE__, __LINE__, "cublas", #call, " failed: ", cublasGetStatusString(pf_status_)); \
  } while (0)

#ifdef PF_HAVE_NCCL
#include <nccl.h>

#define ncclCheck(call)                                                                                          \
  do {                                                                                                           \
    const ncclResult_t pf_status_ = (call);                                                                      \
    if (pf_status_ != ncclSuccess)                                                                               \
      ::pf::detail::throw_error(__FILE__, __LINE__, "nccl", #call, " failed: ", ncclGetErrorString(pf_status_)); \
  } while (0)
#endif
