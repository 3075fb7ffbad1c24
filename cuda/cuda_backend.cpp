// The CUDA backend's set-up and registration, device memory and host copies.
#include "cuda/cuda_backend.h"

#include <cuda_runtime.h>  // the typed cudaMalloc(T**, ...) overloads

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cuda/check.h"
#include "cuda/register.h"

namespace pf::cuda {

namespace {
CudaBackend* g_backend = nullptr;
}

int device_count() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess) return count;
  (void)cudaGetLastError();
  int driver = 0, runtime = 0;
  (void)cudaDriverGetVersion(&driver);  // 0 when no driver is installed at all
  (void)cudaRuntimeGetVersion(&runtime);
  // No driver (a machine without a GPU) or no device: none. Anything else,
  // e.g. a driver older than this toolkit, is the error itself.
  if (status == cudaErrorNoDevice || (status == cudaErrorInsufficientDriver && driver == 0)) return 0;
  PF_FAIL("cuda", "cudaGetDeviceCount failed: ", cudaGetErrorString(status), " (driver supports CUDA ", driver / 1000,
          ".", driver % 1000 / 10, ", this build uses CUDA ", runtime / 1000, ".", runtime % 1000 / 10,
          ") (HINT: update the NVIDIA driver, or build with a toolkit the driver supports)");
}

namespace {
// Creates the process's backend for `device` (once; asking for another device throws).
CudaBackend& create_backend(int device) {
  if (g_backend != nullptr) {
    PF_CHECK(g_backend->device() == device, "cuda", "backend already created for device ", g_backend->device(),
             ", asked for device ", device, " (HINT: one GPU per process)");
    return *g_backend;
  }
  const int count = device_count();
  PF_CHECK(device >= 0 && device < count, "cuda", "no CUDA device ", device, " (", count, " visible)",
           count == 0 ? " (HINT: nvidia-smi lists the GPUs; device: cpu runs without one)" : "");
  g_backend = new CudaBackend(device);  // never deleted: tensors freed during static destruction still need it
  return *g_backend;
}

Backend* lazy_backend(int device) { return &create_backend(device); }
}  // namespace

bool register_backend(int device) {
  if (device_count() == 0) return false;
  register_cuda_backend(&create_backend(device), device);
  return true;
}

void enable_lazy_backend() { set_cuda_backend_factory(&lazy_backend); }

bool sync_after_launch() {
  static const bool sync = [] {
    const char* value = std::getenv("PF_CUDA_SYNC");
    return value != nullptr && std::string(value) == "1";
  }();
  return sync;
}

void check_launch(cudaStream_t stream, const void* kernel) {
  const cudaError_t status = cudaStreamSynchronize(stream);
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();
  const char* name = "(unnamed)";
#if CUDART_VERSION >= 12030  // cudaFuncGetName came with CUDA 12.3
  if (cudaFuncGetName(&name, kernel) != cudaSuccess) name = "(unnamed)";
#else
  (void)kernel;
#endif
  PF_FAIL("cuda", "kernel ", name, " failed: ", cudaGetErrorString(status), " (PF_CUDA_SYNC=1)");
}

CudaBackend& cuda_backend() {
  PF_CHECK(g_backend != nullptr, "cuda", "the CUDA backend is not registered",
           " (HINT: call pf::cuda::register_backend() at start-up)");
  return *g_backend;
}

CudaBackend::CudaBackend(int device) : device_(device) {
  cudaCheck(cudaSetDevice(device));
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  staging_ = std::make_unique<HostStaging>(CudaStagingRuntime{stream_});
  cublasCheck(cublasCreate(&cublas_));
  cublasCheck(cublasSetStream(cublas_, stream_));
  cublasCheck(cublasLtCreate(&cublas_lt_));
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
  staging_.reset();  // its events and blocks, before the stream goes
  cublasLtDestroy(cublas_lt_);
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

// The source is pageable host memory (CPU tensors, std::vector): staged
// through pinned blocks (cuda/host_staging.h), so the copy waits for nothing
// and the caller may free the source right away.
void CudaBackend::copy_from_host(const void* host_src, void* dst, size_t nbytes) {
  staging_->copy(host_src, dst, nbytes);
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
