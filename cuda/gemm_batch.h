// The per-matrix pointer arrays of a batched GEMM whose batch dims cannot be
// merged into one stride (attention's q/k/v: [B, H, T, Dh] views of
// [B, T, H, Dh] memory). cuda/gemm.cpp fills them on the device with
// gemm_pointer_arrays and hands them to one cublasGemmBatchedEx call.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/host_device.h"

namespace pf::cuda {

constexpr int kMaxGemmBatchDims = 8;

// Up to kMaxGemmBatchDims batch dims, each with its size and its stride (in
// elements) in a, b and c. Batch item i is read row-major over the sizes.
struct GemmBatch {
  int dims;
  int64_t size[kMaxGemmBatchDims], a[kMaxGemmBatchDims], b[kMaxGemmBatchDims], c[kMaxGemmBatchDims];

  // The element offsets of batch item i's matrices in a, b and c.
  PF_HOST_DEVICE void offsets(int64_t i, int64_t& off_a, int64_t& off_b, int64_t& off_c) const {
    off_a = off_b = off_c = 0;
    for (int d = dims - 1; d >= 0; --d) {  // innermost dim first
      const int64_t index = i % size[d];
      i /= size[d];
      off_a += index * a[d];
      off_b += index * b[d];
      off_c += index * c[d];
    }
  }
};

// pointers [3, count] (count = the product of batch's sizes), filled on
// `stream`: row 0 the matrices of a, row 1 of b, row 2 of c, item i at
// base + offset(i) * element_bytes.
void gemm_pointer_arrays(cudaStream_t stream, const GemmBatch& batch, int64_t count, const void* a, const void* b,
                         void* c, int64_t element_bytes, void** pointers);

}  // namespace pf::cuda
