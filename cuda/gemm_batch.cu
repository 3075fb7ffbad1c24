// Fills the pointer arrays of a batched GEMM on the device (see gemm_batch.h),
// one thread per batch item, so that the arrays never cross the bus.
#include "cuda/common.cuh"
#include "cuda/gemm_batch.h"

namespace pf::cuda {

namespace {

// pointers [3, count]: thread i writes item i's matrix in a, b and c.
__global__ void gemm_pointers_kernel(GemmBatch batch, int64_t count, const char* a, const char* b, char* c,
                                     int64_t element_bytes, void** pointers) {
  const int64_t i = global_index();
  if (i >= count) return;
  int64_t off_a, off_b, off_c;
  batch.offsets(i, off_a, off_b, off_c);
  pointers[i] = const_cast<char*>(a + off_a * element_bytes);
  pointers[count + i] = const_cast<char*>(b + off_b * element_bytes);
  pointers[2 * count + i] = c + off_c * element_bytes;
}

}  // namespace

void gemm_pointer_arrays(cudaStream_t stream, const GemmBatch& batch, int64_t count, const void* a, const void* b,
                         void* c, int64_t element_bytes, void** pointers) {
  launch(stream, blocks_for(count), gemm_pointers_kernel, batch, count, static_cast<const char*>(a),
         static_cast<const char*>(b), static_cast<char*>(c), element_bytes, pointers);
}

}  // namespace pf::cuda
