// NCCL group set-up and the in-place all-reduce on the CUDA backend's stream.
#include "cuda/nccl_communicator.h"

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace pf::cuda {

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::bf16: return ncclBfloat16;
    case DType::f16: return ncclFloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
  }
  PF_FAIL("all_reduce_sum", "no NCCL type for ", dtype);
}

}  // namespace

ncclUniqueId NcclCommunicator::new_unique_id() {
  ncclUniqueId id;
  ncclCheck(ncclGetUniqueId(&id));
  return id;
}

NcclCommunicator::NcclCommunicator(const ncclUniqueId& id, int rank, int size) : rank_(rank), size_(size) {
  PF_CHECK(size >= 1 && rank >= 0 && rank < size, "nccl", "rank ", rank, " outside a group of ", size);
  cudaCheck(cudaSetDevice(cuda_backend().device()));
  ncclCheck(ncclCommInitRank(&comm_, size, id, rank));
}

NcclCommunicator::~NcclCommunicator() { ncclCommDestroy(comm_); }

void NcclCommunicator::all_reduce_sum(const Tensor& tensor) {
  PF_CHECK(tensor.device().is_cuda() && tensor.is_contiguous(), "all_reduce_sum",
           "needs a contiguous CUDA tensor, got ", describe(tensor));
  void* data = tensor.raw_data();
  ncclCheck(ncclAllReduce(data, data, size_t(tensor.numel()), nccl_type(tensor.dtype()), ncclSum, comm_,
                          cuda_backend().stream()));
}

}  // namespace pf::cuda
