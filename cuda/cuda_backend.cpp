// The CUDA backend's set-up and registration, device memory and host copies.
#include "cuda/cuda_backend.h"

#include <cuda_runtime.h>  // the typed cudaMalloc(T**, ...) overloads

#include <cstdint>
#include <cstdio>

#include "cuda/check.h"
#include "cuda/register.h"

namespace pf::cuda {

namespace {
CudaBackend* g_backend = nullptr;
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device: clear the error and report none
    return 0;
  }
  return count;
}

bool register_backend(int device) {
  const int count = device_count();
  if (count == 0) return false;
  if (g_backend != nullptr) {
    PF_CHECK(g_backend->device() == device, "cuda", "backend already registered for device ", g_backend->device(),
             ", asked for device ", device);
    return true;
  }
  PF_CHECK(device >= 0 && device < count, "cuda", "no CUDA device ", device, " (", count, " visible)");
  g_backend = new CudaBackend(device);  // never deleted: tensors freed during static destruction still need it
  register_cuda_backend(g_backend);
  return true;
}

CudaBackend& cuda_backend() {
  PF_CHECK(g_backend != nullptr, "cuda", "the CUDA backend is not registered",
           " (HINT: call pf::cuda::register_backend() at start-up)");
  return *g_backend;
}

CudaBackend::CudaBackend(int device) : device_(device) {
  cudaCheck(cudaSetDevice(device));
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  cublasCheck(cublasCreate(&cublas_));
  cublasCheck(cublasSetStream(cublas_, stream_));
  int pools = 0;
  cudaCheck(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device));
  stream_ordered_alloc_ = pools != 0;
  if (stream_ordered_alloc_) {
    // Keep freed blocks in the pool rather than returning them to the driver at
    // every synchronisation: this makes the pool a caching allocator.
    cudaMemPool_t pool;
    cudaCheck(cudaDeviceGetDefaultMemPool(&pool, device));
    uint64_t keep_all = UINT64_MAX;
    cudaCheck(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
  }
  cudaCheck(cudaMalloc(&index_error_device_, sizeof(KernelIndexError)));
  cudaCheck(cudaMemsetAsync(index_error_device_, 0, sizeof(KernelIndexError), stream_));
  cudaCheck(cudaMallocHost(&index_error_host_, sizeof(KernelIndexError)));
}

CudaBackend::~CudaBackend() {
  cudaStreamSynchronize(stream_);
  cublasDestroy(cublas_);
  cudaStreamDestroy(stream_);
  cudaFree(index_error_device_);
  cudaFreeHost(index_error_host_);
}

// ---- memory ----

void* CudaBackend::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t status = stream_ordered_alloc_ ? cudaMallocAsync(&p, nbytes, stream_) : cudaMalloc(&p, nbytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // not a sticky error: clear it so that later launches do not report it
    PF_FAIL("allocate", "cannot allocate ", nbytes, " bytes on cuda:", device_, ": ", cudaGetErrorString(status));
  }
  return p;
}

// Called from Storage's destructor, so it reports instead of throwing. Storage
// freed after the CUDA runtime has shut down (static destruction at exit) has
// gone with the context.
void CudaBackend::deallocate(void* ptr) {
  if (ptr == nullptr) return;
  const cudaError_t status = stream_ordered_alloc_ ? cudaFreeAsync(ptr, stream_) : cudaFree(ptr);
  if (status != cudaSuccess && status != cudaErrorCudartUnloading && status != cudaErrorContextIsDestroyed)
    std::fprintf(stderr, "pf::cuda: freeing GPU memory failed: %s\n", cudaGetErrorString(status));
}

void CudaBackend::copy_to_host(const void* src, void* host_dst, size_t nbytes) {
  if (nbytes) cudaCheck(cudaMemcpyAsync(host_dst, src, nbytes, cudaMemcpyDeviceToHost, stream_));
  wait_and_check();
}

// The source is pageable host memory (CPU tensors, std::vector), which
// cudaMemcpyAsync stages before returning: the caller may free it right away
// while the transfer itself stays queued on the stream.
void CudaBackend::copy_from_host(const void* host_src, void* dst, size_t nbytes) {
  if (nbytes) cudaCheck(cudaMemcpyAsync(dst, host_src, nbytes, cudaMemcpyHostToDevice, stream_));
}

void CudaBackend::synchronize() { wait_and_check(); }

// The record's copy is queued behind all work so far, so one wait covers both.
void CudaBackend::wait_and_check() {
  cudaCheck(cudaMemcpyAsync(index_error_host_, index_error_device_, sizeof(KernelIndexError), cudaMemcpyDeviceToHost,
                            stream_));
  cudaCheck(cudaStreamSynchronize(stream_));
  if (index_error_host_->flag == 0) return;
  const KernelIndexError error = *index_error_host_;
  cudaCheck(cudaMemsetAsync(index_error_device_, 0, sizeof(KernelIndexError), stream_));  // ready for the next one
  PF_FAIL(error.op, "index ", error.value, " at position ", error.position, " outside [0, ", error.bound,
          ") (found by a CUDA kernel, reported at the next synchronisation)");
}

}  // namespace pf::cuda
