// NCCL group set-up and the collectives on the communicator's own stream.
#include "cuda/nccl_communicator.h"

#include <cstdio>
#include <cstdlib>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/event_poll.h"

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
  PF_FAIL("nccl", "no NCCL type for ", dtype);
}

void check_device_tensor(const Tensor& tensor, const char* op) {
  PF_CHECK(tensor.device().is_cuda() && tensor.is_contiguous(), op, "needs a contiguous CUDA tensor, got ",
           describe(tensor), " (HINT: host tensors go through MPI)");
}

// A collective queued on the comm stream; `done` is recorded after it.
class NcclPending final : public nn::Communicator::Pending {
 public:
  explicit NcclPending(cudaStream_t comm_stream) {
    cudaCheck(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    cudaCheck(cudaEventRecord(done_, comm_stream));
  }
  ~NcclPending() override { cudaEventDestroy(done_); }
  bool test() override {
    return poll_finished(cudaEventQuery(done_), cudaSuccess, cudaErrorNotReady, cudaGetLastError,
                         [](cudaError_t status) { cudaCheck(status); });
  }
  // Later work on the compute stream waits for the result; the host does not.
  void wait() override { cudaCheck(cudaStreamWaitEvent(cuda_backend().stream(), done_, 0)); }

 private:
  cudaEvent_t done_ = nullptr;
};

}  // namespace

ncclUniqueId NcclCommunicator::new_unique_id() {
  ncclUniqueId id;
  ncclCheck(ncclGetUniqueId(&id));
  return id;
}

NcclCommunicator::NcclCommunicator(const ncclUniqueId& id, int rank, int size, int local_rank)
    : device_(cuda_backend().device()), rank_(rank), size_(size), local_rank_(local_rank) {
  PF_CHECK(size >= 1 && rank >= 0 && rank < size, "nccl", "rank ", rank, " outside a group of ", size);
  cudaCheck(cudaSetDevice(device_));
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  ncclCheck(ncclCommInitRank(&comm_, size, id, rank));
}

NcclCommunicator::~NcclCommunicator() {
  ncclCommDestroy(comm_);
  cudaStreamDestroy(stream_);
}

cudaStream_t NcclCommunicator::begin_collective() {
  cudaEvent_t ready;
  cudaCheck(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
  cudaCheck(cudaEventRecord(ready, cuda_backend().stream()));
  cudaCheck(cudaStreamWaitEvent(stream_, ready, 0));
  cudaCheck(cudaEventDestroy(ready));  // released once the stream has passed it
  return stream_;
}

std::unique_ptr<nn::Communicator::Pending> NcclCommunicator::start_all_reduce_sum(const Tensor& tensor) {
  check_device_tensor(tensor, "all_reduce_sum");
  void* data = tensor.raw_data();
  const cudaStream_t stream = begin_collective();
  ncclCheck(ncclAllReduce(data, data, size_t(tensor.numel()), nccl_type(tensor.dtype()), ncclSum, comm_, stream));
  return std::make_unique<NcclPending>(stream);
}

void NcclCommunicator::broadcast(const Tensor& tensor, int root) {
  check_device_tensor(tensor, "broadcast");
  void* data = tensor.raw_data();
  const cudaStream_t stream = begin_collective();
  ncclCheck(ncclBroadcast(data, data, size_t(tensor.numel()), nccl_type(tensor.dtype()), root, comm_, stream));
  NcclPending(stream).wait();
}

void NcclCommunicator::barrier() {
  const Tensor one = Tensor::zeros({1}, DType::f32, Device::cuda(device_));  // this rank's GPU, not cuda:0
  start_all_reduce_sum(one)->wait();
  cudaCheck(cudaStreamSynchronize(cuda_backend().stream()));
}

void NcclCommunicator::abort(int exit_code) {
  std::fflush(stderr);
  ncclCommAbort(comm_);
  std::exit(exit_code);
}

}  // namespace pf::cuda
